"""Module: the base class of every layer and model.

Assigning a Parameter, a Module or a Buffer to an attribute registers it (PyTorch's `__setattr__` rules), so
`parameters()`, `state_dict()`, `train()`, `double()` and `print(model)` see the whole tree of submodules.
Calling a module runs its forward pre-hooks, `forward`, then its forward hooks; registering hooks (forward and
backward) lives in hooks.py, saving and loading weights (`state_dict`, `load_state_dict`) in state.py, beside
this file.
"""
from collections import OrderedDict

from ... import _dtypes
from ...tensor import Tensor
from ..parameter import Buffer, Parameter
from . import _init_names, _utils, casting as _casting, hooks as _hooks, state as _state


def _addindent(text, spaces):
    """Indent every non-blank line but the first (how nested module reprs are laid out)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line if line.strip() else "" for line in rest])


def _check_name(module, name, kind):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


class Module(_hooks.ModuleHooks):
    """Base class for all layers and models: subclass it, build layers in __init__, write forward().

    Attributes assigned in __init__ that are Parameters, Modules or Buffers are registered automatically.
    Matches torch.nn.Module.

    >>> import cnnlab, cnnlab.nn as nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(4, 2)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    >>> net = Net()
    >>> net
    Net(
      (fc): Linear(in_features=4, out_features=2, bias=True)
    )
    >>> [name for name, _ in net.named_parameters()]
    ['fc.weight', 'fc.bias']
    >>> net(cnnlab.ones(3, 4)).shape
    cnnlab.Size([3, 2])
    """

    training = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _init_names.own_init(cls)  # Conv2d.__init__() in argument errors, not its private base's name

    def __init__(self):
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", OrderedDict())
        _hooks.init_hook_state(self)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ---- registration ---------------------------------------------------------------------------------
    def register_parameter(self, name, param):
        """Add a parameter (or None, a placeholder that state_dict skips) under `name`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(cnnlab.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is saved in the state_dict (unless persistent=False) but not trained."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(cnnlab Tensor or None required)")
        if isinstance(tensor, (Buffer, Parameter)):
            tensor = Tensor._wrap(tensor._data)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under `name`; it then appears in children(), state_dict(), repr."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_name(self, name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(cnnlab.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(cnnlab.nn.Module or None expected)")
            d["_modules"][name] = None
        elif isinstance(value, Buffer):
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._forget(name, keep="_buffers")
            self.register_buffer(name, value, value.persistent)
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(cnnlab.nn.Buffer, cnnlab.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Drop `name` from the plain attributes and every registry but `keep` (where a re-assignment keeps its
        place, so a replaced layer stays at its position in the repr and the state_dict)."""
        self.__dict__.pop(name, None)
        for reg in ("_parameters", "_buffers", "_modules"):
            if reg != keep:
                getattr(self, reg).pop(name, None)
        if keep != "_buffers":
            self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for reg in ("_parameters", "_buffers", "_modules"):
            if reg in d and name in d[reg]:
                return d[reg][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # ---- iteration over the tree -------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, parents first; each module once by default."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, child) for the direct submodules, each once."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, value in getattr(owner, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield owner_name + ("." if owner_name else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, parameter) pairs with dotted names ('features.0.weight'); a shared parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module and (recurse=True) its descendants, each once; for optimizers."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        """The submodule at a dotted path ('features.0'); '' is the module itself."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target):
        """The parameter at a dotted path ('fc.weight')."""
        return self._get_member(target, "_parameters", "nn.Parameter")

    def get_buffer(self, target):
        """The buffer at a dotted path ('bn1.running_mean')."""
        return self._get_member(target, "_buffers", "buffer")

    def _get_member(self, target, registry, kind):
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in getattr(mod, registry):
            raise AttributeError(f"`{name}` is not an {kind}")
        return getattr(mod, registry)[name]

    # ---- modes and bulk operations ---------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and in every descendant."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode: the same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording of every parameter on or off (freezing layers); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every parameter: to None (default) or to zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad._data.fill(0)  # in place: the same grad tensor, as PyTorch's grad.zero_()

    def apply(self, fn):
        """Call fn on every descendant and then on self (children first); returns self (for init schemes)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _cast_floating(self, dtype, every=False):
        return _casting.cast_module(self, dtype, every)

    def type(self, dst_type):
        """Cast every parameter and buffer (integer ones too, as PyTorch does) to dst_type: a dtype, a legacy type
        (cnnlab.DoubleTensor) or its name ('torch.DoubleTensor'); in place, returns self. Matches
        torch.nn.Module.type.

        >>> import cnnlab, cnnlab.nn as nn
        >>> bn = nn.BatchNorm1d(2).type(cnnlab.float64)
        >>> bn.weight.dtype, bn.num_batches_tracked.dtype
        (cnnlab.float64, cnnlab.float64)
        """
        return _casting.cast_module(self, _casting.dst_dtype(dst_type), every=True)

    def float(self):
        """Floating parameters and buffers to float32 (in place, same Parameter objects)."""
        return self._cast_floating(_dtypes.float32)

    def double(self):
        """Floating parameters and buffers to float64 (in place, same Parameter objects)."""
        return self._cast_floating(_dtypes.float64)

    def half(self):
        """Floating parameters and buffers to float16 (in place, same Parameter objects)."""
        return self._cast_floating(_dtypes.float16)

    def bfloat16(self):
        """Floating parameters and buffers to bfloat16 (in place, same Parameter objects)."""
        return self._cast_floating(_dtypes.bfloat16)

    def to(self, *args, **kwargs):
        """`to(dtype)`, `to('cpu')`, `to('cpu', dtype)`, `to(tensor)`, `to(device=..., dtype=...)`: casts the
        floating parameters and buffers; cnnlab runs on the CPU only."""
        dtype = _utils.to_dtype_arg(args, kwargs)
        return self if dtype is None else self._cast_floating(dtype)

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise ValueError("cuda: cnnlab runs on the CPU only; remove .cuda() or use .to('cpu').")

    def share_memory(self):
        return self

    # ---- calling (the hook registration methods are in hooks.py) ---------------------------------------
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        return _hooks.call_with_hooks(self, args, kwargs)

    # ---- saving and loading ------------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An OrderedDict name -> tensor of every parameter and persistent buffer, with PyTorch's key names
        ('features.0.weight', 'bn1.running_mean'). The tensors share memory with the module's (detached
        unless keep_vars=True)."""
        if args:  # the old positional form state_dict(destination, prefix, keep_vars)
            destination, prefix, keep_vars = (list(args) + [destination, prefix, keep_vars][len(args):])[:3]
        return _state.state_dict(self, destination, prefix, keep_vars)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values (cnnlab tensors, NumPy arrays, or anything np.asarray accepts) into the parameters and
        buffers with the same names. Every problem is collected and reported in one RuntimeError; with
        strict=False missing and unexpected keys are returned as (missing_keys, unexpected_keys) instead."""
        return _state.load_state_dict(self, state_dict, strict, assign)

    def _load_from_state_dict(self, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs,
                              assign=False):
        """Load this module's own parameters and buffers (subclasses may adapt old keys first)."""
        _state.load_own(self, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs, assign)

    # ---- printing ----------------------------------------------------------------------------------------
    def extra_repr(self):
        """The module's settings as shown inside its repr's parentheses; layers override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(child), 2) for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"


def _typename(obj):
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
