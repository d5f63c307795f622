"""The bridge to PyTorch: `to_torch(model)` builds the same module tree as torch.nn modules with the same
weights, `from_torch(module)` the reverse (PyTorch is needed only when these are called; it is never a
dependency of cnnlab).

Library layers (a class of the same name in the other library's nn) are rebuilt from their constructor
arguments, which both libraries keep as attributes of the same names (in_channels, kernel_size, eps, ...).
Any other module (ResNet, BasicBlock, a user's Net) becomes a class of the same name on the other side whose
methods are the original methods with their module globals pointed at the other library: cnnlab is written
against PyTorch's names, so `torch.flatten`, `F.relu` and `nn.Conv2d` resolve to the other library's."""
import functools
import inspect
import types

import numpy as np

import cnnlab
from . import nn as cn_nn
from .errors import CheckpointError
from .nn import functional as cn_F
from .tensor import Tensor


class InteropError(CheckpointError, RuntimeError):
    """A module the bridge cannot rebuild on the other side (a ValueError and a RuntimeError)."""


def _torch(op):
    try:
        import torch
    except ImportError:
        raise InteropError(f"{op}: needs PyTorch (pip install torch); cnnlab itself does not. Got no torch "
                           "module.") from None
    return torch


class _Side:
    """One library's names: the package, nn, functional, Module, Parameter, and array conversion."""

    def __init__(self, pkg, nn, F, parameter, to_array, from_array, prefix):
        self.pkg, self.nn, self.F, self.Parameter = pkg, nn, F, parameter
        self.to_array, self.from_array, self.prefix = to_array, from_array, prefix


def _sides():
    torch = _torch("interop")
    cn = _Side(cnnlab, cn_nn, cn_F, cn_nn.Parameter, lambda t: np.array(t._data),
               lambda a: cnnlab.tensor(a), "cnnlab")
    pt = _Side(torch, torch.nn, torch.nn.functional, torch.nn.Parameter,
               lambda t: t.detach().cpu().numpy().copy(), lambda a: torch.from_numpy(np.array(a)), "torch")
    return cn, pt


def to_torch(model):
    """The torch.nn module tree equivalent to a cnnlab model, with copies of its weights and buffers.

    Args:
        model (cnnlab.nn.Module): made of standard layers and modules whose forward uses PyTorch's names
            (every zoo model).

    Returns:
        torch.nn.Module: in the model's train/eval mode; outputs and gradients agree with cnnlab's.

    Raises:
        InteropError: PyTorch is not installed, or a layer has no PyTorch counterpart (the message names it).

    Example:
        >>> import cnnlab.nn as nn, cnnlab.interop
        >>> net = cnnlab.interop.to_torch(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))
        >>> type(net).__module__, type(net[0]).__name__
        ('torch.nn.modules.container', 'Conv2d')
    """
    cn, pt = _sides()
    return _Bridge(cn, pt, "to_torch").module(model, type(model).__name__)


def from_torch(module):
    """The cnnlab module tree equivalent to a torch.nn module (a torchvision model, a user's Net), with copies
    of its weights and buffers; its parameters are trainable cnnlab Parameters.

    Example:
        >>> import torch, cnnlab.interop
        >>> net = cnnlab.interop.from_torch(torch.nn.Linear(3, 2))
        >>> type(net).__module__, net.weight.shape
        ('cnnlab.nn.modules.linear', cnnlab.Size([2, 3]))
    """
    cn, pt = _sides()
    return _Bridge(pt, cn, "from_torch").module(module, type(module).__name__)


_PLAIN = (int, float, str, bool, type(None), tuple, list, dict, frozenset, set)


class _Bridge:
    def __init__(self, src, dst, op):
        self.src, self.dst, self.op = src, dst, op
        self.classes = {}    # source class -> generated destination class
        self.functions = {}  # source function -> rebound function

    # ---- modules ------------------------------------------------------------------------------------------
    def module(self, m, path):
        cls = type(m)
        lib = getattr(self.dst.nn, cls.__name__, None)
        if cls.__module__.startswith(self.src.prefix + ".nn.") and isinstance(lib, type):
            out = self._library(m, lib, path)
        else:
            out = self._generic(m, path)
        out.train(m.training)
        return out

    def _library(self, m, lib, path):
        """A layer rebuilt from its constructor arguments, read from the attributes of the same names."""
        kwargs = {}
        for name, p in inspect.signature(lib.__init__).parameters.items():
            if name in ("self", "device", "dtype") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if name in m._modules or (name == "args" and hasattr(m, "_modules")):
                continue
            if not hasattr(m, name):
                if p.default is inspect.Parameter.empty:
                    return self._generic(m, path)  # a container or a layer built differently: copy its parts
                continue
            v = getattr(m, name)
            if inspect.ismethod(v):  # ModuleList(modules=...): the name is a method here; children follow below
                continue
            if isinstance(v, (self.src.Parameter, Tensor)) or type(v).__name__ in ("Parameter", "Tensor"):
                v = v is not None  # bias=Parameter -> bias=True
            if isinstance(v, tuple) and any(isinstance(e, tuple) for e in v):
                raise InteropError(f"{self.op}: cannot build {self.dst.prefix}.nn.{lib.__name__} for {path}: "
                                   f"per-side pairs have no form there. Got {name}={v}.")
            kwargs[name] = v
        try:
            out = lib(**kwargs)
        except Exception as e:
            raise InteropError(f"{self.op}: cannot build {self.dst.prefix}.nn.{lib.__name__} for {path}. Got "
                               f"{type(e).__name__}: {e}") from None
        for name, child in m._modules.items():
            setattr(out, name, self.module(child, f"{path}.{name}") if child is not None else None)
        self._state(m, out, path, check=True)
        return out

    def _generic(self, m, path):
        """A module of the same class name whose methods run the source's code with the other library's names."""
        cls = self._class(type(m))
        out = cls.__new__(cls)
        self.dst.nn.Module.__init__(out)
        for k, v in vars(m).items():
            if k.startswith("_") and k in ("_parameters", "_buffers", "_modules", "_non_persistent_buffers_set",
                                           "_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                                           "_state_dict_hooks", "_load_state_dict_pre_hooks") or k == "training":
                continue
            if k.startswith("_") and not isinstance(v, _PLAIN):
                continue
            if isinstance(v, _PLAIN) or callable(v) and not isinstance(v, self.src.nn.Module):
                object.__setattr__(out, k, self._value(v))
        for name, child in m._modules.items():
            out.add_module(name, self.module(child, f"{path}.{name}") if child is not None else None)
        self._state(m, out, path, check=False)
        return out

    def _state(self, m, out, path, check):
        for name, p in m._parameters.items():
            have = out._parameters.get(name, None) if name in out._parameters else None
            if p is None:
                if check and have is not None:
                    raise InteropError(f"{self.op}: {path}.{name} is None here but the rebuilt layer has it.")
                if not check:
                    out.register_parameter(name, None)
                continue
            value = self.dst.Parameter(self.dst.from_array(self.src.to_array(p)), requires_grad=p.requires_grad)
            if check and (have is None or tuple(have.shape) != tuple(p.shape)):
                got = None if have is None else tuple(have.shape)
                raise InteropError(f"{self.op}: the rebuilt {type(out).__name__} at {path} does not hold "
                                   f"{name} of shape {tuple(p.shape)}. Got {got}.")
            out.register_parameter(name, value)
        for name, b in m._buffers.items():
            persistent = name not in getattr(m, "_non_persistent_buffers_set", ())
            out.register_buffer(name, None if b is None else self.dst.from_array(self.src.to_array(b)),
                                persistent=persistent)

    def _class(self, cls):
        if cls in self.classes:
            return self.classes[cls]
        ns = {"__module__": f"{self.dst.prefix}.interop.{cls.__module__}", "__doc__": cls.__doc__}
        new = type(cls.__name__, (self.dst.nn.Module,), ns)
        self.classes[cls] = new
        stop = {self.src.nn.Module, object}
        for klass in reversed([k for k in cls.__mro__ if k not in stop and
                               not k.__module__.startswith(self.src.prefix + ".nn.modules.module")]):
            for k, v in vars(klass).items():
                if k in ("__init__", "__dict__", "__weakref__", "__module__", "__doc__", "__qualname__",
                         "__annotations__", "__slotnames__") or k.startswith("__pyx"):
                    continue
                if isinstance(v, types.FunctionType):
                    setattr(new, k, self._function(v, new))
                elif isinstance(v, (staticmethod, classmethod)) and isinstance(v.__func__, types.FunctionType):
                    setattr(new, k, type(v)(self._function(v.__func__, new)))
                elif isinstance(v, property):
                    setattr(new, k, property(*(self._function(f, new) if f else None
                                               for f in (v.fget, v.fset, v.fdel))))
                elif isinstance(v, _PLAIN):
                    setattr(new, k, v)
        return new

    # ---- code -----------------------------------------------------------------------------------------------
    def _function(self, fn, owner=None):
        key = (fn, owner)
        if key in self.functions:
            return self.functions[key]
        g = _LazyGlobals(fn.__globals__, self)
        closure = fn.__closure__
        if closure and owner is not None and "__class__" in fn.__code__.co_freevars:  # super() inside methods
            closure = tuple(types.CellType(owner) if n == "__class__" else c
                            for n, c in zip(fn.__code__.co_freevars, closure))
        new = types.FunctionType(fn.__code__, g.mapped(fn.__code__), fn.__name__, fn.__defaults__, closure)
        new.__kwdefaults__ = fn.__kwdefaults__
        new.__qualname__ = fn.__qualname__
        self.functions[key] = new
        return new

    def _value(self, v):
        """A global or attribute of the source's code, as the destination's code should see it."""
        src, dst = self.src, self.dst
        if v is src.pkg:
            return dst.pkg
        if v is src.nn:
            return dst.nn
        if v is src.F:
            return dst.F
        if isinstance(v, types.ModuleType):
            name = v.__name__
            if name.startswith(src.prefix + ".nn.functional") or name == src.prefix + ".nn.functional":
                return dst.F
            if name.startswith(src.prefix + ".nn"):
                return dst.nn
            return dst.pkg if name.startswith(src.prefix) else v
        mod = getattr(v, "__module__", None) or ""
        if not mod.startswith(src.prefix):
            return v
        name = getattr(v, "__name__", None)
        if isinstance(v, type):
            return getattr(dst.nn, name, None) or getattr(dst.pkg, name, None) or v
        if callable(v) and name:
            for space in (dst.F, dst.pkg):
                if hasattr(space, name) and callable(getattr(space, name)):
                    return getattr(space, name)
            if isinstance(v, types.FunctionType):
                return self._function(v)
            if isinstance(v, functools.partial):
                return v
        return v


class _LazyGlobals:
    def __init__(self, globals_, bridge):
        self.globals, self.bridge = globals_, bridge

    def mapped(self, code):
        """The globals dict for code: every name the code reads, mapped (others as they are)."""
        out = dict(self.globals)
        names = set()
        stack = [code]
        while stack:
            c = stack.pop()
            names.update(c.co_names)
            stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
        for n in names:
            if n in out:
                out[n] = self.bridge._value(out[n])
        return out
