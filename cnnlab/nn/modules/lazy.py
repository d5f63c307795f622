"""Lazy layers: LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d and LazyBatchNorm1d/2d/3d infer their input
size (in_features, in_channels, num_features) from the first batch, as PyTorch's do.

Until then their weights are UninitializedParameter objects (running statistics UninitializedBuffer): any use
raises a ValueError that says to run a forward pass first. The first forward materialises them in place (the
objects an optimizer already holds become ordinary Parameters), initialises them as the ordinary layer does, and
turns the layer into that layer (`cls_to_become`: LazyLinear becomes Linear). Loading a state_dict also
materialises them, from the checkpoint's shapes. A state_dict taken before initialisation holds the
uninitialised objects themselves, as PyTorch's does.
"""
import numpy as np

from ...errors import ShapeError
from ...tensor import Tensor
from ..parameter import Parameter
from ._utils import factory_dtype
from .hooks import RemovableHandle
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d"]

_DATA = Tensor.__dict__["_data"]  # the slot that holds a tensor's array
_ADVICE = ("This happens when a lazy layer (nn.LazyLinear, nn.LazyConv2d, ...) has not seen an input yet: call "
           "`forward` with a dummy batch to initialize its parameters before using them.")


def _uninitialised_error(kind, user):
    return ShapeError(f"Attempted to use an uninitialized {kind} in {user}(). {_ADVICE}")


class _Unmaterialised(np.ndarray):
    """The empty array an uninitialised tensor holds: its dtype is the one its values will have (so that
    `LazyLinear(3).double()` can change it, as in PyTorch), and any computation on it is refused."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _uninitialised_error("parameter or buffer", ufunc.__name__)

    def __array_function__(self, func, types, args, kwargs):
        raise _uninitialised_error("parameter or buffer", func.__name__)


def _refuse(name):
    def method(self, *args, **kwargs):
        raise _uninitialised_error(self._kind, name)
    method.__name__ = name
    return method


class _Uninitialized:
    """What the two uninitialised kinds share: no values until materialize(shape). The slot keeps an empty
    _Unmaterialised array; the shape and the methods that read values are refused."""

    __slots__ = ()
    cls_to_become = None

    @property
    def _data(self):
        return _DATA.__get__(self)

    @_data.setter
    def _data(self, value):  # a cast (Module.double()) assigns a new empty array: it stays refused
        _DATA.__set__(self, np.asarray(value).view(_Unmaterialised))

    @property
    def _kind(self):
        return "parameter" if isinstance(self, Parameter) else "buffer"

    @property
    def shape(self):
        raise ShapeError(f"Can't access the shape of an uninitialized {self._kind}. Call `forward` with a dummy "
                         "batch to initialize the parameters before accessing their attributes.")

    ndim = property(lambda self: _refuse("ndim")(self))
    numel, size, dim, numpy, tolist, item = (_refuse(n) for n in ("numel", "size", "dim", "numpy", "tolist", "item"))
    __getitem__, __setitem__, __len__, __iter__ = (_refuse(n) for n in ("__getitem__", "__setitem__", "__len__",
                                                                         "__iter__"))

    def materialize(self, shape, device=None, dtype=None):
        """Give it values of `shape` (uninitialised memory: the layer's reset_parameters fills them) and turn
        it into cls_to_become, in place."""
        np_dtype = factory_dtype(device, dtype) if dtype is not None else _DATA.__get__(self).dtype
        _DATA.__set__(self, np.empty(tuple(int(s) for s in shape), np_dtype))
        self.__class__ = self.cls_to_become

    def detach(self):
        return self  # state_dict keeps the uninitialised object, as PyTorch's

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def _lazy_dtype(self):
        return _DATA.__get__(self).dtype


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter whose shape is not known yet (a lazy layer's weight). Matches
    torch.nn.parameter.UninitializedParameter.

    >>> import cnnlab.nn as nn
    >>> p = nn.UninitializedParameter()
    >>> p
    <UninitializedParameter>
    >>> p.materialize((2, 3))
    >>> type(p).__name__, tuple(p.shape)
    ('Parameter', (2, 3))
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        self._init(np.empty((0,), factory_dtype(device, dtype)))
        self._requires_grad = bool(requires_grad)

    def __deepcopy__(self, memo):
        copy = UninitializedParameter(self.requires_grad, dtype=None)
        _DATA.__set__(copy, np.empty((0,), self._lazy_dtype()))
        memo[id(self)] = copy
        return copy

    def __reduce__(self):
        return (_rebuild, (UninitializedParameter, self.requires_grad, str(self._lazy_dtype())))


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet (a lazy BatchNorm's running statistics). Matches
    torch.nn.parameter.UninitializedBuffer."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        self._init(np.empty((0,), factory_dtype(device, dtype)))

    def __deepcopy__(self, memo):
        copy = UninitializedBuffer()
        _DATA.__set__(copy, np.empty((0,), self._lazy_dtype()))
        memo[id(self)] = copy
        return copy

    def __reduce__(self):
        return (_rebuild, (UninitializedBuffer, False, str(self._lazy_dtype())))


def _rebuild(cls, requires_grad, dtype):
    obj = cls(requires_grad)
    _DATA.__set__(obj, np.empty((0,), np.dtype(dtype)))
    return obj


def is_lazy(value):
    return isinstance(value, _Uninitialized)


class LazyModuleMixin:
    """The machinery of the lazy layers: a forward pre-hook that calls initialize_parameters(input) on the
    first call, then turns the module into cls_to_become. Matches torch.nn.modules.lazy.LazyModuleMixin."""

    cls_to_become = None

    def _start_lazy(self):
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self):
        """True while any parameter or buffer is still uninitialised."""
        return any(is_lazy(v) for v in list(self._parameters.values()) + list(self._buffers.values()))

    def __getstate__(self):
        # the hook's handle holds weak references (which do not pickle, and a deep copy's would point at the
        # original's hooks): keep its id and make a new handle for the copy's own registry
        state = self.__dict__.copy()
        handle = state.pop("_initialize_hook", None)
        if handle is not None:
            state["_initialize_hook_id"] = handle.id
        return state

    def __setstate__(self, state):
        hook_id = state.pop("_initialize_hook_id", None)
        super().__setstate__(state)
        if hook_id is not None:
            handle = RemovableHandle(self._forward_pre_hooks)
            handle.id = hook_id
            self._initialize_hook = handle

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _load_from_state_dict(self, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs,
                              assign=False):
        # the checkpoint's shapes materialise what is still uninitialised, so that loading can copy into it
        for registry in (self._parameters, self._buffers):
            for name, value in registry.items():
                key = prefix + name
                if is_lazy(value) and key in state_dict and not is_lazy(state_dict[key]):
                    value.materialize(np.shape(state_dict[key]) if not hasattr(state_dict[key], "shape")
                                      else tuple(state_dict[key].shape))
        super()._load_from_state_dict(state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs, assign)


def _infer_parameters(module, args, kwargs=None):
    module.initialize_parameters(*args, **(kwargs or {}))
    if module.has_uninitialized_params():
        raise ShapeError(f"{module._get_name()}: the module has not been fully initialized by its first input.")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


def _input_tensor(module, args):
    if not args or not isinstance(args[0], Tensor):
        raise TypeError(f"{module._get_name()}: the first call must pass the input tensor, from which the layer "
                        f"infers its size. Got {tuple(type(a).__name__ for a in args)}.")
    return args[0]


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is inferred from the first input's last dim. Matches torch.nn.LazyLinear.

    >>> import cnnlab, cnnlab.nn as nn
    >>> fc = nn.LazyLinear(10)
    >>> fc
    LazyLinear(in_features=0, out_features=10, bias=True)
    >>> fc(cnnlab.ones(2, 864)).shape
    cnnlab.Size([2, 10])
    >>> fc
    Linear(in_features=864, out_features=10, bias=True)
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        x = _input_tensor(self, (input,))
        if self.has_uninitialized_params():
            self.in_features = int(x.shape[-1]) if x.ndim else 1
            self.weight.materialize((self.out_features, self.in_features))
            if is_lazy(self.bias):
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        elif self.in_features == 0:  # materialised by load_state_dict
            self.in_features = self.weight.shape[1]


class _LazyConvMixin(LazyModuleMixin):
    def _lazy_init(self, out_channels, bias, device, dtype):
        self.in_channels = 0
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        x = _input_tensor(self, (input,))
        n = self._n
        if self.has_uninitialized_params():
            if x.ndim not in (n + 1, n + 2):
                raise ShapeError(f"{self._get_name()}: expects a {n + 1}-d (unbatched) or {n + 2}-d (batched) "
                                 f"input to infer in_channels from. Got input.shape={tuple(x.shape)}.")
            self.in_channels = int(x.shape[-n - 1])
            if self.in_channels % self.groups:
                raise ShapeError(f"{self._get_name()}: in_channels must be divisible by groups. Got "
                                 f"in_channels={self.in_channels} (from the input), groups={self.groups}.")
            shape = ((self.in_channels, self.out_channels // self.groups) if self.transposed
                     else (self.out_channels, self.in_channels // self.groups)) + tuple(self.kernel_size)
            self.weight.materialize(shape)
            if is_lazy(self.bias):
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()
        elif self.in_channels == 0:  # materialised by load_state_dict
            w = self.weight.shape
            self.in_channels = w[0] if self.transposed else w[1] * self.groups


def _lazy_conv(base, n, transposed):
    name = f"Lazy{base.__name__}"

    if transposed:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                     dilation=1, padding_mode="zeros", device=None, dtype=None):
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, output_padding, groups, False,
                          dilation, padding_mode, device, dtype)
            self._lazy_init(out_channels, bias, device, dtype)
    else:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                     padding_mode="zeros", device=None, dtype=None):
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation, groups, False,
                          padding_mode, device, dtype)
            self._lazy_init(out_channels, bias, device, dtype)

    doc = (f"A {base.__name__} whose in_channels is inferred from the first input (dim -{n + 1}). Matches "
           f"torch.nn.{name}.")
    return type(name, (_LazyConvMixin, base), {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                                                 "__module__": __name__, "__qualname__": name})


LazyConv1d = _lazy_conv(Conv1d, 1, False)
LazyConv2d = _lazy_conv(Conv2d, 2, False)
LazyConv3d = _lazy_conv(Conv3d, 3, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, 1, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, 2, True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, 3, True)


class _LazyNormMixin(LazyModuleMixin):
    def _lazy_init(self, affine, track_running_stats, device, dtype):
        self.num_features = 0
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if self.bias is not None:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self._buffers["running_mean"] = UninitializedBuffer(device=device, dtype=dtype)
            self._buffers["running_var"] = UninitializedBuffer(device=device, dtype=dtype)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def reset_running_stats(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_running_stats()

    def initialize_parameters(self, input, *args, **kwargs):
        x = _input_tensor(self, (input,))
        if self.has_uninitialized_params():
            if x.ndim < 2:
                raise ShapeError(f"{self._get_name()}: expects an input with a channel dim (N, C, ...) to infer "
                                 f"num_features from. Got input.shape={tuple(x.shape)}.")
            self.num_features = int(x.shape[1])
            for v in list(self._parameters.values()) + list(self._buffers.values()):
                if is_lazy(v):
                    v.materialize((self.num_features,))
            self.reset_parameters()
        elif self.num_features == 0:  # materialised by load_state_dict
            self.num_features = next(v.shape[0] for v in list(self._parameters.values()) +
                                     list(self._buffers.values()) if v is not None and v.ndim == 1)


def _lazy_norm(base):
    name = f"Lazy{base.__name__}"

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        base.__init__(self, 1, eps, momentum, affine, track_running_stats, device, dtype)
        self._lazy_init(affine, track_running_stats, device, dtype)

    doc = f"A {base.__name__} whose num_features is inferred from the first input (dim 1). Matches torch.nn.{name}."
    return type(name, (_LazyNormMixin, base), {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                                                 "__module__": __name__, "__qualname__": name})


LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
