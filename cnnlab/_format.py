"""How a tensor prints: PyTorch's repr layout (`tensor([...], dtype=..., grad_fn=<...>)`) and number style.

`tensor_repr(t)` is what `repr(t)` and `print(t)` show: the values laid out like PyTorch's (80 columns, `...`
past 1000 elements, one width for every number) followed by the suffixes PyTorch adds (size= for empty
tensors, dtype= when it is not the default, grad_fn= or requires_grad=True).
"""
import math

import numpy as np

from . import _dtypes
from ._nodes import grad_fn_name

_DEFAULTS = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}
_opts = dict(_DEFAULTS)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print: digits after the point, the element count past which only the edges show, how many
    edge items, the line width, and scientific notation (True, False, or None for automatic). profile
    ('default', 'short', 'full') sets the first four at once. Matches torch.set_printoptions.

    >>> import cnnlab
    >>> cnnlab.set_printoptions(precision=2)
    >>> cnnlab.tensor([1.23456, 2.0])
    tensor([1.23, 2.00])
    >>> cnnlab.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full'. Got {profile!r}.")
        _opts.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"set_printoptions: {name} must be a non-negative number. Got {name}={value!r}.")
            _opts[name] = value if name == "threshold" else int(value)
    _opts["sci_mode"] = sci_mode  # None (automatic) unless given, as in PyTorch


def get_printoptions():
    """The current print options as a dict (precision, threshold, edgeitems, linewidth, sci_mode)."""
    return dict(_opts)


def tensor_repr(t):
    """The repr of tensor t, as torch.Tensor.__repr__ prints it.

    >>> import cnnlab
    >>> print(tensor_repr(cnnlab.tensor([[1.0, 2.5], [3.0, -4.0]], dtype=cnnlab.float64)))
    tensor([[ 1.0000,  2.5000],
            [ 3.0000, -4.0000]], dtype=cnnlab.float64)
    """
    arr = t._data
    extras = []
    if (arr.size == 0 and arr.ndim != 1) or (arr.size and not _opts["edgeitems"]):
        extras.append(f"size={tuple(arr.shape)}")
    if t.dtype not in (_dtypes.get_default_dtype(), _dtypes.int64, _dtypes.bool) or (
            arr.size == 0 and arr.dtype.kind != "f"):
        extras.append(f"dtype={t.dtype}")
    if t._backward is not None:
        extras.append(f"grad_fn=<{grad_fn_name(t._op)}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return _format_tensor(arr, extras)


def _float_formatter(arr):
    """PyTorch's number style: '1.' for integral floats, '0.1235' otherwise, scientific for wide ranges (the
    digits and the choice of scientific notation follow set_printoptions)."""
    finite = np.abs(arr[np.isfinite(arr)]).astype(np.float64)
    nonzero = finite[finite != 0]
    p = _opts["precision"]
    int_mode = finite.size and np.all(finite == np.round(finite))
    if int_mode:
        sci = nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8)
    else:
        sci = nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8 or nonzero.min() < 1e-4)
    if _opts["sci_mode"] is not None:
        sci = _opts["sci_mode"]
    fmt = f"{{:.{p}e}}" if sci else ("{:.0f}." if int_mode else f"{{:.{p}f}}")

    def one(v):
        return ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")) if not np.isfinite(v) else fmt.format(v)

    # one width for all values, measured on the finite ones (nan and inf are not widened), as PyTorch does
    width = max((len(fmt.format(v)) for v in arr[np.isfinite(arr)].reshape(-1)), default=0)
    return lambda v: one(v).rjust(width)


def _edges(arr, k):
    """The values a summarised print shows: the first and last k along every dim that is longer than 2k."""
    for axis, n in enumerate(arr.shape):
        if n > 2 * k:
            arr = np.concatenate([np.take(arr, range(k), axis), np.take(arr, range(n - k, n), axis)], axis)
    return arr


def _other_formatter(arr):
    """Integers and bools: right-aligned to the widest shown value (`tensor([ True, False])`)."""
    text = (lambda v: str(bool(v))) if arr.dtype == np.bool_ else (lambda v: str(int(v)))
    width = max((len(text(v)) for v in arr.reshape(-1)), default=0)
    return lambda v: text(v).rjust(width)


def _vector(arr, fmt, indent, summarize):
    """One row, as PyTorch splits it: as many elements per line as fit in linewidth (each one width + 2 wide),
    the summary's '...' counting as one of them."""
    k = _opts["edgeitems"]
    per_line = max(1, int((_opts["linewidth"] - indent) // (len(fmt(arr.reshape(-1)[0])) + 2)))
    if summarize and not k:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * k:
        items = [fmt(v) for v in arr[:k]] + [" ..."] + [fmt(v) for v in arr[-k:]]
    else:
        items = [fmt(v) for v in arr]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr, fmt, indent, summarize):
    """The nested brackets of PyTorch's layout: rows at increasing indent, blank lines between blocks."""
    if arr.ndim == 0:
        return fmt(arr[()]).strip()
    if arr.ndim == 1:
        return _vector(arr, fmt, indent, summarize)
    k = _opts["edgeitems"]
    if summarize and arr.shape[0] > 2 * k:
        parts = ([_nested(arr[i], fmt, indent + 1, summarize) for i in range(k)] + ["..."] +
                 [_nested(arr[i], fmt, indent + 1, summarize) for i in range(arr.shape[0] - k, arr.shape[0])])
    else:
        parts = [_nested(arr[i], fmt, indent + 1, summarize) for i in range(arr.shape[0])]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _format_tensor(arr, extras):
    """`tensor([...], extras)` laid out like PyTorch's repr (80 columns, `...` past 1000 elements)."""
    prefix = "tensor("
    if arr.size == 0:
        body = "[]"
    else:
        summarize = arr.size > _opts["threshold"]
        shown = _edges(arr, _opts["edgeitems"]) if summarize else arr  # the style reads what is shown
        fmt = _float_formatter(shown) if arr.dtype.kind == "f" else _other_formatter(shown)
        body = _nested(arr, fmt, len(prefix), summarize)
    out = prefix + body
    last_len = len(out) - out.rfind("\n") + 1  # PyTorch's count (two more than the last line's length)
    for suffix in extras:  # each suffix goes on a new line when it would pass 80 columns, as in PyTorch
        n = len(suffix.replace("cnnlab.", "torch."))  # measured as PyTorch's name, so the lines break alike
        if last_len + n + 2 > _opts["linewidth"]:
            out += ",\n" + " " * len(prefix) + suffix
            last_len = len(prefix) + n
        else:
            out += ", " + suffix
            last_len += n + 2
    return out + ")"
