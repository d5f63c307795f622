"""Matrix products that np.matmul cannot express, from the BLAS that NumPy itself ships with (OpenBLAS).

`gemm(a, b, c, beta)` computes c = a @ b + beta * c in place, where a, b and c may be strided 2-d views with
any row stride (a window of a padded image plane, the rows of one group), and a or b may be the transpose of
such a view. That lets a convolution sum its kernel offsets straight into the output (beta = 1), reading each
offset's shifted window of the input in place: no column matrix is ever copied (BLAS packs its operands into
its cache anyway). np.matmul would copy every such view and allocate a fresh result.

The library is found among the process's loaded libraries (Linux /proc/self/maps; the wheel's
libscipy_openblas64_ or a system libopenblas) and called through ctypes, with every operand's shape, dtype and
strides checked first. Where there is no such library, or CNNLAB_BLAS=numpy is set, `gemm` falls back to
np.matmul (correct, slower). The same library's thread count is what kernels/parallel.py controls.

>>> import numpy as np
>>> x = np.arange(12.0).reshape(3, 4)
>>> c = np.ones((2, 2))
>>> gemm(np.eye(2, 3), x[:, 1:3], c, beta=1.0)     # a window of x, read in place
>>> c.tolist()
[[2.0, 3.0], [6.0, 7.0]]
"""
import ctypes

import numpy as np

from .. import _settings

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_lib = None   # (library, int type, suffix-and-prefix (prefix, suffix)) or () when there is none


def _find():
    """The loaded OpenBLAS: (ctypes library, its integer type, (prefix, suffix) of its symbols), or ()."""
    global _lib
    if _lib is None:
        _lib = ()
        try:
            with open("/proc/self/maps") as maps:
                paths = sorted({line.split(None, 5)[-1].strip() for line in maps if "openblas" in line.lower()})
        except OSError:
            paths = []
        for path in paths:
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix in ("scipy_", ""):
                for suffix in ("64_", "_64", ""):
                    if hasattr(lib, f"{prefix}cblas_sgemm{suffix}") and \
                            hasattr(lib, f"{prefix}openblas_set_num_threads{suffix}"):
                        _lib = (lib, ctypes.c_int64 if "64" in suffix else ctypes.c_int, (prefix, suffix))
                        return _lib
    return _lib


def _function(name, restype, argtypes):
    lib, _, (prefix, suffix) = _find()
    fn = getattr(lib, f"{prefix}{name}{suffix}")
    fn.restype, fn.argtypes = restype, argtypes
    return fn


_cache = {}


def _gemm_function(dtype):
    if dtype not in _cache:
        real = ctypes.c_float if dtype == np.float32 else ctypes.c_double
        n, p = _find()[1], ctypes.c_void_p
        _cache[dtype] = _function("cblas_sgemm" if dtype == np.float32 else "cblas_dgemm", None,
                                  [ctypes.c_int] * 3 + [n] * 3 + [real, p, n, p, n, real, p, n])
    return _cache[dtype]


def available():
    """Whether gemm() calls BLAS directly (else it uses np.matmul)."""
    return bool(_find()) and _settings.BLAS != "numpy"


def thread_functions():
    """(get_num_threads, set_num_threads) of the BLAS, or None."""
    if not _find():
        return None
    if "threads" not in _cache:
        _cache["threads"] = (_function("openblas_get_num_threads", ctypes.c_int, []),
                             _function("openblas_set_num_threads", None, [ctypes.c_int]))
    return _cache["threads"]


def _layout(m):
    """(transposed flag, leading dimension) that describe the 2-d view m to a row-major BLAS, or None."""
    item = m.itemsize
    s0, s1 = m.strides
    rows, cols = m.shape
    if s1 == item and s0 % item == 0 and (s0 // item >= max(cols, 1) or rows == 1):
        return False, max(s0 // item, cols, 1)
    if s0 == item and s1 % item == 0 and (s1 // item >= max(rows, 1) or cols == 1):
        return True, max(s1 // item, rows, 1)
    return None


def gemm(a, b, c, beta=0.0):
    """c[...] = a @ b + beta * c, in place; a (M, K), b (K, N), c (M, N) are 2-d float32 or float64 arrays or
    views of one dtype (c's rows may have any stride; a and b may also be transposed views)."""
    (m, k), (k2, n) = a.shape, b.shape
    if (k, m, n) != (k2,) + c.shape or not (a.dtype == b.dtype == c.dtype):
        raise ValueError(f"gemm: shapes or dtypes do not match. Got a={a.shape} {a.dtype}, b={b.shape} {b.dtype}, "
                         f"c={c.shape} {c.dtype}.")
    la, lb, lc = _layout(a), _layout(b), _layout(c)
    if not (available() and c.dtype in (np.float32, np.float64) and la and lb and lc and not lc[0] and
            c.flags.writeable and m and n and k):
        if beta == 0.0:
            np.matmul(a, b, out=c) if c.flags.c_contiguous else c.__setitem__(Ellipsis, a @ b)
        else:
            if beta != 1.0:
                c *= beta
            c += a @ b
        return
    _gemm_function(c.dtype.type)(_ROW_MAJOR, _TRANS if la[0] else _NO_TRANS, _TRANS if lb[0] else _NO_TRANS,
                                 m, n, k, 1.0, a.ctypes.data, la[1], b.ctypes.data, lb[1], beta, c.ctypes.data,
                                 lc[1])
