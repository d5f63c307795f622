"""How a tensor prints: PyTorch's repr layout (`tensor([...], dtype=..., grad_fn=<...>)`) and number style.

`tensor_repr(t)` is what `repr(t)` and `print(t)` show: the values laid out like PyTorch's (80 columns, `...`
past 1000 elements, one width for every number) followed by the suffixes PyTorch adds (size= for empty
tensors, dtype= when it is not the default, grad_fn= or requires_grad=True).
"""
import numpy as np

from . import _dtypes


def tensor_repr(t):
    """The repr of tensor t, as torch.Tensor.__repr__ prints it.

    >>> import cnnlab
    >>> print(tensor_repr(cnnlab.tensor([[1.0, 2.5], [3.0, -4.0]], dtype=cnnlab.float64)))
    tensor([[ 1.0000,  2.5000],
            [ 3.0000, -4.0000]], dtype=cnnlab.float64)
    """
    from .tensor import grad_fn_name
    arr = t._data
    extras = []
    if arr.size == 0 and arr.ndim != 1:
        extras.append(f"size={tuple(arr.shape)}")
    if arr.dtype not in (_dtypes.get_default_dtype().np, np.int64, np.bool_) or (
            arr.size == 0 and arr.dtype.kind != "f"):
        extras.append(f"dtype={t.dtype}")
    if t._backward is not None:
        extras.append(f"grad_fn=<{grad_fn_name(t._op)}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return _format_tensor(arr, extras)


def _float_formatter(arr):
    """PyTorch's number style: '1.' for integral floats, '0.1235' otherwise, scientific for wide ranges."""
    finite = np.abs(arr[np.isfinite(arr)]).astype(np.float64)
    nonzero = finite[finite != 0]
    if finite.size and np.all(finite == np.round(finite)):
        sci = nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8)
        fmt = "{:.4e}" if sci else "{:.0f}."
    else:
        sci = nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8 or nonzero.min() < 1e-4)
        fmt = "{:.4e}" if sci else "{:.4f}"

    def one(v):
        return ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")) if not np.isfinite(v) else fmt.format(v)

    # one width for all values, measured on the finite ones (nan and inf are not widened), as PyTorch does
    width = max((len(fmt.format(v)) for v in arr[np.isfinite(arr)].reshape(-1)[:2000]), default=0)
    return lambda v: one(v).rjust(width)


def _format_tensor(arr, extras):
    """`tensor([...], extras)` laid out like PyTorch's repr (80 columns, `...` past 1000 elements)."""
    prefix = "tensor("
    if arr.size == 0:
        body = "[]"
    else:
        formatter = {"float_kind": _float_formatter(arr)} if arr.dtype.kind == "f" else None
        body = np.array2string(arr, separator=", ", prefix=prefix, formatter=formatter, max_line_width=81,
                               threshold=1000, edgeitems=3).replace(", ...,", ",  ...,")
    out = prefix + body
    last_len = len(out.rsplit("\n", 1)[-1])
    for suffix in extras:  # each suffix goes on a new line when it would pass 80 columns, as in PyTorch
        if last_len + len(suffix) + 2 > 80:
            out += ",\n" + " " * len(prefix) + suffix
            last_len = len(prefix) + len(suffix)
        else:
            out += ", " + suffix
            last_len += len(suffix) + 2
    return out + ")"
