"""assert_close: compare tensors, numbers and containers of them with dtype-aware tolerances, as
torch.testing.assert_close does, with the same failure report."""
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from . import _dtypes
from .tensor import Size, Tensor

__all__ = ["assert_close"]

# PyTorch's default (rtol, atol) per dtype; integers and bools compare exactly
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}
_BFLOAT16_TOLERANCE = (1.6e-2, 1e-5)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless actual and expected are close: |actual - expected| <= atol + rtol * |expected|
    elementwise, with the same shape and (by default) dtype. Tensors, NumPy arrays, Python numbers, and
    sequences or mappings of them (compared item by item) are accepted.

    Args:
        actual, expected: what to compare.
        rtol, atol (float, default None): both or neither; by default from the dtype: float16 (1e-3, 1e-5),
            float32 (1.3e-6, 1e-5), float64 and Python floats (1e-7, 1e-7), integers and bools exact.
        equal_nan (bool, default False): NaN equals NaN.
        check_dtype (bool, default True): the dtypes must be equal (else both are promoted to a common one).
        msg (str or callable, default None): replaces the failure report (a callable gets the report and
            returns the message).
        allow_subclasses, check_device, check_layout, check_stride: accepted for PyTorch compatibility (one
            device, one layout here).

    Raises:
        AssertionError: the values differ, with a report of how many elements, the greatest absolute and
        relative differences and where. ValueError: only one of rtol and atol given. TypeError: inputs of
        kinds that cannot be compared (a tensor and a list). Matches torch.testing.assert_close.

    >>> import cnnlab
    >>> cnnlab.testing.assert_close(cnnlab.tensor([1.0, 2.0]), cnnlab.tensor([1.0, 2.0 + 1e-7]))
    >>> cnnlab.testing.assert_close(cnnlab.tensor([1.0, 2.0, 3.0]), cnnlab.tensor([1.0, 2.5, 3.0]))
    Traceback (most recent call last):
    ...
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 1 / 3 (33.3%)
    Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'atol' if atol is None else 'rtol'}.")
    _compare(actual, expected, "", dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg))


def _is_number(x):
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, Tensor)


def _compare(actual, expected, path, opts):
    if (isinstance(actual, Tensor) and isinstance(expected, Tensor)) or (
            isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray)):
        return _compare_arrays(actual, expected, path, opts)
    if _is_number(actual) and _is_number(expected):
        return _compare_arrays(np.asarray(actual), np.asarray(expected), path, opts, python=True)
    if actual is None and expected is None:
        return None
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                  f"{sorted(map(repr, set(expected) - set(actual)))}\nAdditional keys in the actual mapping: "
                  f"{sorted(map(repr, set(actual) - set(expected)))}", path, opts)
        for k in expected:
            _compare(actual[k], expected[k], f"{path}[{k!r}]", opts)
        return None
    if (isinstance(actual, Sequence) and isinstance(expected, Sequence) and not isinstance(actual, (str, bytes))
            and not isinstance(expected, (str, bytes))):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", path, opts)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{path}[{i}]", opts)
        return None
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")


def _fail(text, path, opts):
    if path:
        text += f"\n\nThe failure occurred for item {path}"
    msg = opts["msg"]
    if msg is not None:
        text = msg(text) if callable(msg) else msg
    raise AssertionError(text)


def _dtype_name(dt):
    return str(_dtypes.as_dtype(dt))


def _compare_arrays(actual, expected, path, opts, python=False):
    a = actual._data if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected._data if isinstance(expected, Tensor) else np.asarray(expected)
    if a.shape != e.shape:
        _fail(f"The values for attribute 'shape' do not match: {Size(a.shape)!r} != {Size(e.shape)!r}.", path, opts)
    if a.dtype != e.dtype or _dtypes.is_bfloat16(a.dtype) != _dtypes.is_bfloat16(e.dtype):  # (tagged float32)
        if opts["check_dtype"] and not python:
            _fail(f"The values for attribute 'dtype' do not match: {_dtype_name(a.dtype)} != "
                  f"{_dtype_name(e.dtype)}.", path, opts)
    if opts["rtol"] is None:
        pairs = [_BFLOAT16_TOLERANCE if _dtypes.is_bfloat16(d) else
                 _TOLERANCES.get(np.dtype(np.float64) if python and d.kind == "f" else d, (0.0, 0.0))
                 for d in (a.dtype, e.dtype)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    else:
        rtol, atol = float(opts["rtol"]), float(opts["atol"])
    common = np.result_type(a.dtype, e.dtype)
    if common == np.bool_:
        common = np.dtype(np.int64)
    a, e = a.astype(common, copy=False), e.astype(common, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e) if common.kind == "f" else np.abs(a.astype(np.int64) - e.astype(np.int64))
        close = diff <= atol + rtol * np.abs(e)
        if common.kind == "f":
            close |= a == e  # equal infinities
            if opts["equal_nan"]:
                close |= np.isnan(a) & np.isnan(e)
    if close.all():
        return
    kind = "equal" if rtol == 0 and atol == 0 else "close"
    up_a = f" (up to {atol} allowed)" if kind == "close" else ""
    up_r = f" (up to {rtol} allowed)" if kind == "close" else ""
    if a.ndim == 0:  # as Python numbers, as PyTorch reports scalars
        got, want = a.item(), e.item()
        abs_diff = abs(got - want)
        rel_diff = abs_diff / abs(want) if want != 0 else float("inf")
        _fail(f"Scalars are not {kind}!\n\nExpected {want} but got {got}.\nAbsolute difference: {abs_diff}"
              f"{up_a}\nRelative difference: {rel_diff}{up_r}", path, opts)
    # the greatest differences among the mismatched elements only
    rel_type = common if common.kind == "f" else np.float32
    diff = np.where(close, 0, diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(close, 0, diff.astype(rel_type) / np.abs(e).astype(rel_type))
    n_bad = int((~close).sum())
    ia, ir = _worst(diff), _worst(rel)
    _fail(f"Tensor-likes are not {kind}!\n\nMismatched elements: {n_bad} / {close.size} "
          f"({100 * n_bad / close.size:.1f}%)\nGreatest absolute difference: {diff[ia].item()} at index {ia}"
          f"{up_a}\nGreatest relative difference: {rel[ir].item()} at index {ir}{up_r}", path, opts)


def _worst(values):
    """The index of the largest value, NaN counting as the largest (as torch.argmax does)."""
    flat = values.reshape(-1)
    nans = np.flatnonzero(np.isnan(flat)) if flat.dtype.kind == "f" else ()
    k = int(nans[0]) if len(nans) else int(np.argmax(flat))
    return tuple(int(i) for i in np.unravel_index(k, values.shape))
