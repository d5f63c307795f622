"""The Tensor: a NumPy array plus the autograd bookkeeping (requires_grad, grad, the op that made it).

The math lives in cnnlab/ops (elementwise, reductions, shapes, indexing) and cnnlab/nn/functional; this file
holds the class, its conversions and properties, and `_from_op`, the one door through which every
differentiable op records itself in the graph. Operators and methods are attached in cnnlab/_methods.py, and
so is `backward` (cnnlab/autograd/api.py): the autograd engine sits above Tensor.
"""
import numpy as np

from . import _dtypes, _format
from ._device import device
from ._memory import check_allocation
from ._nodes import GradFn, HookHandle
from .grad_mode import is_grad_enabled
from .errors import DTypeError, GradError, shape_str


_CPU = device("cpu")

# Set by cnnlab.onnx while an export traces a forward pass; every op's output passes through it (see _from_op).
_trace_hook = None


class Size(tuple):
    """A tensor's shape: a tuple that prints like torch.Size (slicing gives a Size too)."""

    def __repr__(self):
        return f"cnnlab.Size([{', '.join(str(s) for s in self)}])"

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


def to_array(data, dtype=None):
    """Convert Python data, NumPy arrays or tensors to an ndarray with PyTorch's default dtypes."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array([to_array(x) for x in data])
    else:
        try:
            arr = np.asarray(data)
        except ValueError:
            raise ValueError("tensor: nested sequences must be rectangular (every row the same length). "
                             f"Got {_short(data)}.") from None
    if dtype is not None:
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"tensor: data must be numbers or booleans. Got {_short(data)}.")
        return np.asarray(arr, dtype=_dtypes.as_dtype(dtype).np)
    python_data = not isinstance(data, (np.ndarray, np.generic, Tensor))
    if arr.dtype.kind == "f" and python_data:
        return arr.astype(_dtypes.get_default_dtype().np, copy=False)  # Python floats -> float32
    if arr.dtype.kind in "iu" and python_data:
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"tensor: data must be numbers or booleans. Got {_short(data)} (NumPy dtype "
                        f"{arr.dtype}).")
    _dtypes.as_dtype(arr.dtype)  # raises for dtypes cnnlab has no name for
    return arr


def _as_array(arr):
    """An ndarray for what an op produced: NumPy returns a read-only scalar (np.float32(3.0)), not a 0-d array,
    from arithmetic on 0-d arrays; a tensor holds a writable 0-d array instead, so that `total += x.sum()` and
    `t[i, j] += 1` work in place on it as in PyTorch. ndarray subclasses are kept."""
    return arr if isinstance(arr, np.ndarray) else np.array(arr)


def _short(data):
    text = repr(data)
    return text if len(text) < 60 else text[:57] + "..."


def _flat(seq):
    for x in seq:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


class Tensor:
    """An n-dimensional array that can record the ops applied to it and backpropagate through them.

    Args:
        data: array-like (nested lists, a NumPy array, a number). `Tensor(data)` makes a float32 tensor like
            `torch.Tensor`; `Tensor(2, 3)` a zero-filled one of that size; `cnnlab.tensor(data)` infers the
            dtype like `torch.tensor`.
        requires_grad (bool, default False): record ops on this tensor for backward().

    >>> import cnnlab
    >>> x = cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
    """

    __slots__ = ("_data", "_requires_grad", "grad", "_parents", "_backward", "_op", "_retains_grad", "_hooks", "_used",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, *args, requires_grad=False, dtype=None):
        d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
        if len(args) == 2 and isinstance(args[1], bool):  # Tensor(data, requires_grad), the older spelling
            args, requires_grad = args[:1], args[1]
        if args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            if any(a < 0 for a in args):
                raise ValueError(f"Tensor: sizes must be non-negative. Got sizes={tuple(args)}.")
            check_allocation("Tensor", tuple(int(a) for a in args), d.np)
            arr = np.zeros(tuple(int(a) for a in args), d.np)  # Tensor(2, 3): a tensor of that size
        elif len(args) > 1:
            raise TypeError(f"Tensor: expects one data argument or int sizes. Got {len(args)} arguments.")
        else:
            arr = to_array(args[0] if args else (), d)
        self._init(arr, requires_grad)

    def _init(self, arr, requires_grad=False):
        if arr.__class__ is not np.ndarray:
            arr = _as_array(arr)
        if _dtypes.bf16_in_use and arr.dtype.metadata is not None:  # bfloat16: values onto its grid
            arr = _dtypes.settle_bfloat16(arr)
        self._data = arr
        self.grad = None
        self._parents = ()
        self._backward = None
        self._op = None
        self._retains_grad = False
        self._hooks = None
        self._used = False  # an input of a recorded op (then an in-place change must not rewire the graph)
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr, requires_grad=False):
        """A leaf tensor around an ndarray, without copying or converting it."""
        t = cls.__new__(cls)
        t._init(arr, requires_grad)
        return t

    @classmethod
    def _from_op(cls, arr, parents, backward, op):
        """The output of a differentiable op. Records (parents, backward) when grad mode is on and any parent
        requires grad; `backward(grad_out)` returns one gradient (ndarray or None) per parent."""
        t = cls.__new__(cls)
        if arr.__class__ is not np.ndarray:
            arr = _as_array(arr)
        if _dtypes.bf16_in_use:  # bfloat16 results are computed in float32: round them (see _dtypes)
            arr = _dtypes.bfloat16_result(arr, parents, op)
        t._data = arr
        t.grad = None
        t._retains_grad = False
        t._hooks = None
        t._used = False
        if _trace_hook is not None:  # an ONNX export is tracing: the op writes its nodes (cnnlab/onnx/trace.py)
            _trace_hook(t, parents, op)
        if is_grad_enabled():
            for p in parents:
                if p._requires_grad:
                    for q in parents:
                        q._used = True
                    t._requires_grad = True
                    t._parents = parents
                    t._backward = backward
                    t._op = op
                    return t
        t._requires_grad = False
        t._parents = ()
        t._backward = None
        t._op = None
        return t

    # ---- properties ----------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the length of one dimension (negative dims count from the end)."""
        if dim is None:
            return Size(self._data.shape)
        if self._data.ndim == 0:
            raise IndexError(f"size: a 0-d tensor has no dimensions. Got dim={dim}, shape=().")
        return self._data.shape[self._dim(dim, "size")]

    @property
    def dtype(self):
        return _dtypes.as_dtype(self._data.dtype)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize  # bfloat16 reports 2 (it is held as float32)

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim (of the underlying array)."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[self._dim(dim, "stride")]

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    @property
    def is_cuda(self):
        return False

    @property
    def is_leaf(self):
        """True for tensors the user made (and for results of ops that record no graph)."""
        return self._backward is None

    @property
    def grad_fn(self):
        return GradFn(self._op, self) if self._backward is not None else None

    @property
    def device(self):
        return _CPU

    @property
    def data(self):
        """The same values as a tensor outside the graph (shares memory), as torch's `.data`."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)  # (0-d: writable)

    @property
    def T(self):
        """The dims reversed (a transpose for matrices)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        """The last two dims swapped (a batch of transposed matrices)."""
        if self._data.ndim == 0:
            return self.reshape(())  # torch: the identity on a 0-d tensor (deprecated there, still accepted)
        return self.transpose(-2, -1)

    def _dim(self, dim, op):
        """Normalise a possibly negative dim, with an error in the house style when it is out of range."""
        nd = max(self._data.ndim, 1)
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"{op}: dim must be an int. Got dim={dim!r}.")
        if not -nd <= dim < nd:
            raise IndexError(f"{op}: dim must be in [{-nd}, {nd - 1}] for a {self._data.ndim}-d tensor. "
                             f"Got dim={dim}, shape={shape_str(self._data.shape)}.")
        return int(dim) % nd

    # ---- autograd --------------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Turn gradient recording on (or off) for this leaf tensor, in place; returns self.

        Raises:
            DTypeError (a TypeError and RuntimeError): requires_grad=True on an integer or bool tensor.
            GradError: switching it off on a non-leaf tensor.
        """
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(f"requires_grad_: only floating-point tensors can require gradients. "
                             f"Got dtype={self.dtype}.")
        if not requires_grad and self._backward is not None:
            raise GradError("requires_grad_: requires_grad can only be switched off on leaf tensors; "
                            "use detach() for a non-leaf.")
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep `.grad` for this non-leaf tensor after backward()."""
        if not self._requires_grad:
            raise GradError("retain_grad: the tensor does not require grad. Got requires_grad=False.")
        self._retains_grad = self._backward is not None

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call hook(grad) with this tensor's gradient during backward; a tensor it returns replaces the
        gradient. Returns a handle whose remove() unregisters it. Matches torch.Tensor.register_hook."""
        if not self._requires_grad:
            raise GradError("register_hook: cannot register a hook on a tensor that does not require grad.")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return HookHandle(self._hooks, hook)

    def detach(self):
        """The same data (shared memory) as a new leaf that records no graph."""
        return Tensor._wrap(self._data)

    def detach_(self):
        self._backward = None
        self._parents = ()
        self._op = None
        self._requires_grad = False
        return self

    # ---- conversions -----------------------------------------------------------------------------------
    def numpy(self, force=False):
        """The values as an ndarray sharing memory with the tensor (refused while it requires grad, unless
        force=True, which returns a copy)."""
        if _dtypes.bf16_in_use and self._data.dtype.metadata is not None:  # bfloat16: NumPy has none (nor torch)
            raise DTypeError("numpy: NumPy has no bfloat16 type; convert first with .float(). Got "
                             "dtype=cnnlab.bfloat16.")
        if force:
            return self._data.copy()
        if self._requires_grad:
            raise GradError("numpy: can't call numpy() on a tensor that requires grad; use "
                            "tensor.detach().numpy().")
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return arr.copy() if copy and arr is self._data else arr

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python number. "
                             f"Got shape={shape_str(self.shape)}.")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("__index__: only one-element integer tensors can be used as an index. Got "
                            f"dtype={self.dtype}, shape={shape_str(self.shape)}.")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor with more than one value is ambiguous; use "
                             f".any() or .all(). Got shape={shape_str(self.shape)}.")
        return bool(self._data.reshape(()))

    def __format__(self, spec):
        if self._data.ndim == 0:  # f"{loss:.4f}" formats the value, as in PyTorch
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(f"format: a format spec applies only to 0-d tensors. Got spec={spec!r}, "
                            f"shape={shape_str(self.shape)}.")
        return repr(self)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return _format.tensor_repr(self)

    def __reduce__(self):
        return (_rebuild, (self._data, self._requires_grad))


def _rebuild(arr, requires_grad):
    return Tensor._wrap(arr, requires_grad)


def is_tensor(obj):
    """True for cnnlab tensors (and Parameters), as torch.is_tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    """The number of elements of a tensor. Matches torch.numel."""
    if not isinstance(input, Tensor):
        raise TypeError(f"numel: expects a tensor. Got {type(input).__name__}.")
    return input._data.size

