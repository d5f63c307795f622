"""The Tensor: a NumPy array plus the autograd bookkeeping (requires_grad, grad, the op that made it).

The math lives in cnnlab/ops (elementwise, reductions, shapes, indexing) and cnnlab/nn/functional; this file
holds the class, its conversions and properties, and `_from_op`, the one door through which every
differentiable op records itself in the graph. Operators and methods are attached in cnnlab/_methods.py.
"""
import numpy as np

from . import _dtypes
from .autograd import is_grad_enabled, run_backward
from .errors import GradError, shape_str


class Size(tuple):
    """A tensor's shape: a tuple that prints like torch.Size."""

    def __repr__(self):
        return f"cnnlab.Size([{', '.join(str(s) for s in self)}])"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


class _GradFn:
    """What `tensor.grad_fn` shows: the name of the op that made the tensor (`<MulBackward>`)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def name_(self):
        return self.name

    def __repr__(self):
        return f"<{self.name}>"


def _to_array(data, dtype=None):
    """Convert Python data, NumPy arrays or tensors to an ndarray with PyTorch's default dtypes."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array([_to_array(x) for x in data])
    else:
        arr = np.asarray(data)
    if dtype is not None:
        return np.asarray(arr, dtype=_dtypes.as_dtype(dtype).np)
    if arr.dtype.kind == "f" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(_dtypes.get_default_dtype().np, copy=False)  # Python floats -> float32
    if arr.dtype.kind in "iu" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"tensor: data must be numbers or booleans. Got an array of dtype {arr.dtype}.")
    _dtypes.as_dtype(arr.dtype)  # raises for dtypes cnnlab has no name for
    return arr


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
            `torch.Tensor`; `cnnlab.tensor(data)` infers the dtype like `torch.tensor`.
        requires_grad (bool, default False): record ops on this tensor for backward().

    >>> import cnnlab
    >>> x = cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [[2.0, 4.0], [6.0, 8.0]]
    """

    __slots__ = ("_data", "requires_grad", "grad", "_parents", "_backward", "_op", "_retains_grad",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data=(), requires_grad=False, dtype=None):
        arr = _to_array(data, dtype if dtype is not None else _dtypes.get_default_dtype())
        self._init(arr, requires_grad)

    def _init(self, arr, requires_grad=False):
        self._data = arr
        self.grad = None
        self._parents = ()
        self._backward = None
        self._op = None
        self._retains_grad = False
        self.requires_grad = False
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
        t._init(arr)
        if is_grad_enabled() and any(p.requires_grad for p in parents):
            t.requires_grad = True
            t._parents = parents
            t._backward = backward
            t._op = op
        return t

    # ---- properties ----------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the length of one dimension (negative dims count from the end)."""
        if dim is None:
            return self.shape
        return self._data.shape[self._dim(dim, "size")]

    @property
    def dtype(self):
        return _dtypes.as_dtype(self._data.dtype)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    @property
    def is_leaf(self):
        """True for tensors the user made (and for results of ops that record no graph)."""
        return self._backward is None

    @property
    def grad_fn(self):
        return _GradFn(self._op) if self._backward is not None else None

    @property
    def device(self):
        return "cpu"

    @property
    def data(self):
        """The same values as a tensor outside the graph (shares memory), as torch's `.data`."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

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
    def requires_grad_(self, requires_grad=True):
        """Turn gradient recording on (or off) for this leaf tensor, in place; returns self."""
        if requires_grad and self._data.dtype.kind != "f":
            raise GradError(f"requires_grad_: only floating-point tensors can require gradients. "
                            f"Got dtype={self.dtype}.")
        if not requires_grad and self._backward is not None:
            raise GradError("requires_grad_: requires_grad can only be switched off on leaf tensors; "
                            "use detach() for a non-leaf.")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep `.grad` for this non-leaf tensor after backward()."""
        if not self.requires_grad:
            raise GradError("retain_grad: the tensor does not require grad. Got requires_grad=False.")
        self._retains_grad = self._backward is not None
        return None

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) * gradient into `.grad` of every leaf that requires grad.

        Args:
            gradient (Tensor or array, default None): d(loss)/d(self); may be omitted for a one-element tensor.
            retain_graph (bool, default False): keep the graph so backward can run through it again.
        Raises:
            GradError (a ValueError and RuntimeError): self does not require grad, self is not a single value
            and no gradient was given, or gradient has another shape.
        """
        if not self.requires_grad:
            raise GradError("backward: the tensor does not require grad and has no grad_fn, so there is "
                            "nothing to differentiate (was it computed under no_grad(), or only from tensors "
                            f"with requires_grad=False?). Got requires_grad=False, shape={shape_str(self.shape)}.")
        if gradient is None:
            if self._data.size != 1:
                raise GradError("backward: a gradient can be created implicitly only for a single-value "
                                "output; pass gradient= for other outputs (or call .sum() first). "
                                f"Got shape={shape_str(self.shape)}.")
            grad = np.ones_like(self._data)
        else:
            grad = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient,
                              dtype=self._data.dtype)
            if grad.shape != self._data.shape:
                raise GradError(f"backward: gradient must have the tensor's shape. Got gradient.shape="
                                f"{shape_str(grad.shape)}, tensor shape={shape_str(self.shape)}.")
        run_backward(self, grad, retain_graph=retain_graph)

    def detach(self):
        """The same data (shared memory) as a new leaf that records no graph."""
        return Tensor._wrap(self._data)

    def detach_(self):
        self._backward = None
        self._parents = ()
        self._op = None
        self.requires_grad = False
        return self

    # ---- conversions -----------------------------------------------------------------------------------
    def numpy(self):
        """The values as an ndarray sharing memory with the tensor (refused while it requires grad)."""
        if self.requires_grad:
            raise GradError("numpy: can't call numpy() on a tensor that requires grad; use "
                            "tensor.detach().numpy().")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

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
            raise TypeError("__index__: only one-element integer tensors can be used as an index.")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor with more than one value is ambiguous; use "
                             f".any() or .all(). Got shape={shape_str(self.shape)}.")
        return bool(self._data.reshape(()))

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
        body = np.array2string(self._data, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec_equal" if self._data.dtype.kind == "f" else "maxprec")
        extras = []
        if self._data.dtype not in (_dtypes.get_default_dtype().np, np.int64, np.bool_) or self._data.size == 0:
            extras.append(f"dtype={self.dtype}")
        if self._backward is not None:
            extras.append(f"grad_fn=<{self._op}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __reduce__(self):
        return (_rebuild, (self._data, self.requires_grad))


def _rebuild(arr, requires_grad):
    return Tensor._wrap(arr, requires_grad)


# Parameters and the layers built on Tensor check isinstance(x, Tensor); this alias keeps the public spelling.
def is_tensor(obj):
    """True for cnnlab tensors (and Parameters), as torch.is_tensor."""
    return isinstance(obj, Tensor)
