"""Forward hooks: the handle that removes one, and running a module's pre-hooks and hooks around forward().

A pre-hook `hook(module, args)` may return new args (a tuple, or one value that becomes a 1-tuple); with
with_kwargs=True it is `hook(module, args, kwargs)` and may return (args, kwargs). A forward hook
`hook(module, args, output)` (or `hook(module, args, kwargs, output)`) may return a replacement output. Hooks
run in registration order (prepend=True puts one first), as in PyTorch.
"""
import itertools
import weakref


class RemovableHandle:
    """What register_forward_hook returns: `handle.remove()` takes the hook off (also a context manager).
    Matches torch.utils.hooks.RemovableHandle."""

    _next_id = itertools.count()

    def __init__(self, *hook_dicts):
        self.id = next(RemovableHandle._next_id)
        self._dicts = [weakref.ref(d) for d in hook_dicts]

    def remove(self):
        for ref in self._dicts:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks, kwargs_ids, hook, prepend, with_kwargs):
    """Register hook in the OrderedDict `hooks` (first if prepend); returns its RemovableHandle."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if with_kwargs:
        kwargs_ids.add(handle.id)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def call_with_hooks(module, args, kwargs):
    """module.forward(*args, **kwargs) with the module's forward pre-hooks before and forward hooks after."""
    for hook_id, hook in list(module._forward_pre_hooks.items()):
        if hook_id in module._forward_pre_hooks_with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook_id, hook in list(module._forward_hooks.items()):
        if hook_id in module._forward_hooks_with_kwargs:
            result = hook(module, args, kwargs, output)
        else:
            result = hook(module, args, output)
        if result is not None:
            output = result
    return output
