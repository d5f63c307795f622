"""The loader's shape arithmetic: the Shape/Gather/Slice/Unsqueeze/Cast/ConstantOfShape chains that
torch.onnx.export writes to compute a Resize's sizes or a Reshape's shape from the input at run time."""
import numpy as np
from onnx import helper, numpy_helper

from ..ops.indexing import index_select
from ..tensor import Tensor
from .graph import ExportError


def _ints(v):
    return [int(i) for i in np.asarray(v._data if isinstance(v, Tensor) else v).reshape(-1)]


def shape(x, start=0, end=None):
    return Tensor._wrap(np.asarray(tuple(x.shape)[start:end], np.int64))


def gather(x, indices, axis=0):
    axis %= max(x.ndim, 1)
    idx = np.asarray(indices._data) % x.shape[axis]  # ONNX allows negative indices
    out = index_select(x, axis, Tensor._wrap(idx.reshape(-1).astype(np.int64)))
    return out.reshape(*(tuple(x.shape[:axis]) + idx.shape + tuple(x.shape[axis + 1:])))


def unsqueeze(x, axes=None, **attrs):
    axes = _ints(axes if axes is not None else attrs["axes"])
    rank = x.ndim + len(axes)
    new = sorted(a % rank for a in axes)
    dims = list(x.shape)
    for a in new:
        dims.insert(a, 1)
    return x.reshape(*dims)


def squeeze(x, axes=None, **attrs):
    axes = axes if axes is not None else attrs.get("axes")
    drop = {a % x.ndim for a in _ints(axes)} if axes is not None else {i for i, s in enumerate(x.shape) if s == 1}
    return x.reshape(*[s for i, s in enumerate(x.shape) if i not in drop])


def slice_(x, starts, ends, axes=None, steps=None):
    starts, ends = _ints(starts), _ints(ends)
    axes = _ints(axes) if axes is not None else list(range(len(starts)))
    steps = _ints(steps) if steps is not None else [1] * len(starts)
    key = [slice(None)] * x.ndim
    backwards = []
    for a, s, e, st in zip(axes, starts, ends, steps):
        if st == 0:
            raise ExportError(f"onnx.load: Slice steps must not be 0. Got steps={steps}.")
        if st > 0:
            key[a % x.ndim] = slice(s, e, st)
        else:  # Python's range clamps a negative step's bounds as ONNX does (end -inf: through index 0)
            backwards.append((a % x.ndim, np.arange(x.shape[a % x.ndim])[s:e:st]))
    y = x[tuple(key)]
    for a, idx in backwards:  # torch.onnx writes these to reverse pads; index_select keeps any gradient
        y = index_select(y, a, Tensor._wrap(idx.astype(np.int64)))
    return y


def cast(x, to):
    dtype = helper.tensor_dtype_to_np_dtype(to)
    if x._data.dtype == dtype:
        return x
    if dtype in (np.float32, np.float64) and x._data.dtype.kind == "f":  # keeps the gradient
        return x.float() if dtype == np.float32 else x.double()
    return Tensor._wrap(np.asarray(x._data).astype(dtype))  # shape arithmetic: no gradient to carry


def constant_of_shape(dims, value=None):
    fill = numpy_helper.to_array(value).reshape(-1) if value is not None else np.zeros(1, np.float32)
    return Tensor._wrap(np.full(_ints(dims), fill[0], fill.dtype))


OPS = {"Shape": shape, "Gather": gather, "Unsqueeze": unsqueeze, "Squeeze": squeeze, "Slice": slice_,
       "Cast": cast, "ConstantOfShape": constant_of_shape}
