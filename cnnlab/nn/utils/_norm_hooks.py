"""The forward-pre-hook bookkeeping shared by the legacy weight_norm and spectral_norm (torch.nn.utils's
hook-based forms): one hook per (kind, parameter), found again by its kind and parameter name to remove it."""


def _find(module, hook_type, name):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            return key, hook
    return None, None


def refuse_second_hook(module, hook_type, name, what):
    """Raise RuntimeError (PyTorch's message) when `module` already has a `hook_type` hook on parameter `name`.

    Example:
        >>> import cnnlab as torch
        >>> class Hook:
        ...     name = "weight"
        >>> refuse_second_hook(torch.nn.Linear(2, 2), Hook, "weight", "weight_norm")  # no such hook: nothing
    """
    if _find(module, hook_type, name)[1] is not None:
        raise RuntimeError(f"Cannot register two {what} hooks on the same parameter {name}")


def remove_hook(module, hook_type, name, what):
    """Undo the `hook_type` hook on parameter `name` (its remove(module), then unregister it); returns module.

    Raises:
        ValueError: there is no such hook (PyTorch's message: "<what> of '<name>' not found in <module>").

    Example:
        >>> import cnnlab as torch
        >>> class Hook:
        ...     name = "weight"
        >>> remove_hook(torch.nn.Linear(2, 2), Hook, "weight", "weight_norm")
        Traceback (most recent call last):
        ...
        ValueError: weight_norm of 'weight' not found in Linear(in_features=2, out_features=2, bias=True)
    """
    key, hook = _find(module, hook_type, name)
    if hook is None:
        raise ValueError(f"{what} of '{name}' not found in {module}")
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module
