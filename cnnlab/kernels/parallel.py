"""Run a kernel's blocks on several cores: one Python thread per core, each with single-threaded BLAS.

A convolution lowers to copies, elementwise transforms and matmuls over cache-sized blocks. NumPy's
elementwise ops run on one core, and BLAS splits a cache-sized matmul over threads poorly, so the kernels hand
whole blocks (copy in, matmul, copy out) to a few Python threads instead: NumPy and BLAS release the GIL while
they work, so the threads run in parallel, each in its own core's cache, as oneDNN does with its threads.

While a kernel runs (`own_threads()`), BLAS is held at one thread (OpenBLAS's openblas_set_num_threads, found
by kernels/blas.py; the previous count is restored afterwards), and a large matmul outside the blocks is split
over the threads by `matmul`. BLAS's own threads are then never woken by a kernel: after each threaded call
they spin for about 0.1 s (OpenBLAS's thread timeout), and while they spin the kernel threads share the cores
with them (benchmarks/NOTES.md). A batch with fewer images than threads keeps BLAS's threads, which hand over
faster than these (they spin while they wait): `own_threads(parts)`, batch-1 inference. Where the BLAS cannot be
controlled (not OpenBLAS, or not Linux), blocks run one after another in the calling thread and BLAS threads each
matmul as usual.

Threads: set_num_threads(n), else the CNNLAB_NUM_THREADS environment variable, else as many as BLAS uses
(so threadpoolctl limits and OPENBLAS_NUM_THREADS apply), else the CPUs this process may run on.

>>> out = [0] * 4
>>> run(lambda slot, i: out.__setitem__(i, i * i), range(4))
>>> out
[0, 1, 4, 9]
"""
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _settings
from . import blas

_lock = threading.Lock()
_pool = None
_pool_size = 0
_threads = None          # set by set_num_threads
_blas = None             # (get, set) ctypes functions of the process's OpenBLAS, or () when there is none
_single = [0, None]      # how many callers hold BLAS at one thread, and the count to restore
_local = threading.local()  # .busy: this thread runs a share of run()'s items (so matmul stays in it)
MATMUL_SPLIT_FLOPS = 2**22  # multiply-adds from which matmul() splits a product over the threads
SMALL_PRODUCT_FLOPS = 2**18  # multiply-adds below which product() leaves a product to NumPy


def _find_blas():
    """(get_num_threads, set_num_threads) of the process's OpenBLAS, or () (see kernels/blas.py)."""
    global _blas
    if _blas is None:
        _blas = blas.thread_functions() or ()
    return _blas


def num_threads():
    """How many threads the kernels use (at least 1)."""
    if _threads is not None:
        return _threads
    value = _settings.NUM_THREADS
    if value.isdigit() and int(value) > 0:
        return int(value)
    blas = _find_blas()
    if blas:
        return max(1, _single[1] if _single[0] else blas[0]())
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def set_num_threads(n):
    """Use n threads in the kernels (n >= 1; 1 runs blocks in the calling thread); None: back to the default."""
    global _threads
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise ValueError(f"set_num_threads: n must be a positive int or None. Got n={n!r}.")
    _threads = n


def set_blas_threads(n):
    """Let OpenBLAS use n threads (when NumPy's BLAS is OpenBLAS). While a kernel holds BLAS at one thread,
    n is what it restores when done."""
    blas = _find_blas()
    if blas:
        with _lock:
            if _single[0]:
                _single[1] = n
            else:
                blas[1](n)


def _executor(workers):
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_size = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnnlab-kernel"), workers
        return _pool


@contextlib.contextmanager
def own_threads(parts=None):
    """Within the block BLAS runs on one thread: the kernels thread their work themselves (run, matmul).
    parts: how many independent parts (images) the work has; with fewer than the threads (batch 1) BLAS keeps
    its threads and threads each matmul itself, which measured faster there than splitting every product.
    Re-entrant; a no-op where BLAS's threads cannot be controlled."""
    if not _find_blas() or (parts is not None and parts < num_threads()):
        yield
        return
    _set_single(True)
    try:
        yield
    finally:
        _set_single(False)


def _set_single(on):
    """Hold BLAS at one thread while any caller is inside run() (nested and concurrent callers counted)."""
    get, put = _blas
    with _lock:
        if on:
            if _single[0] == 0:
                _single[1] = get()
                put(1)
            _single[0] += 1
        else:
            _single[0] -= 1
            if _single[0] == 0:
                put(_single[1])


def run(fn, items, threads=None):
    """fn(slot, item) for every item, spread over num_threads() threads with single-threaded BLAS; `slot`
    (0 <= slot < num_threads()) tells a thread's items apart so they can share its scratch buffers; each thread
    takes a contiguous run of the items (neighbouring blocks often share an image). Returns
    when all are done and re-raises the first exception. The calls must write disjoint outputs.
    threads=1 runs the items one after another in the calling thread, where `matmul` splits each large
    product over the threads instead (better for a few large matmuls), as it does inside own_threads()."""
    items = list(items)
    k = min(threads or num_threads(), num_threads(), len(items))
    if k < 2 or not _find_blas() or _busy():
        for item in items:
            fn(0, item)
        return
    with own_threads():
        shares = [items[a:b] for a, b in ranges(len(items), k)]                      # contiguous runs
        errors = np.geterr()   # the caller's floating-point warning setting (NumPy keeps one per thread)
        futures = [_executor(k - 1).submit(_share, fn, s, shares[s], errors) for s in range(1, k)]
        try:
            _share(fn, 0, shares[0])
        finally:
            for f in futures:
                f.result()


def _busy():
    """Whether this thread is running a share of some run()'s items."""
    return getattr(_local, "busy", False)      # set by _share, the only work the kernel threads are given


def _share(fn, slot, items, errors=None):
    _local.busy = True
    try:
        with np.errstate(**(errors or {})):
            for item in items:
                fn(slot, item)
    finally:
        _local.busy = False


def add_up(parts):
    """The sum of the arrays in parts that are not None (the threads' partial results of one call), added in
    place into the first of them, which is returned; None when there is none.

    >>> import numpy as np
    >>> add_up([np.ones(2), None, np.ones(2)]).tolist()
    [2.0, 2.0]
    """
    used = [p for p in parts if p is not None]
    if not used:
        return None
    total = used[0]
    for other in used[1:]:
        total += other
    return total


def ranges(n, k=None):
    """[0, n) as min(k, n) contiguous (start, stop) ranges of near-equal length, k by default num_threads():
    one share per thread of a loop over images, rows, channels or elements.

    >>> ranges(7, 3)
    [(0, 2), (2, 4), (4, 7)]
    """
    k = max(1, min(num_threads() if k is None else k, n))
    return [(n * i // k, n * (i + 1) // k) for i in range(k)] if n > 0 else []


def product(a, b):
    """a @ b as a new array. For 2-d floating operands of one dtype: an outer product (depth 1: a weight gradient at
    batch 1) is np.multiply of the column by the row, the same single products as a gemm of depth 1, faster; a
    single row (NumPy's matrix-vector path: 4x faster than a one-row gemm on a 2048 x 1000 weight) and a product
    under SMALL_PRODUCT_FLOPS are plain a @ b (OpenBLAS runs those on one thread anyway); float32/float64 products
    from there run with BLAS held at one thread (so its own threads stay asleep for the kernels that follow): NumPy's
    a @ b under MATMUL_SPLIT_FLOPS (one gemm: blas.gemm's ctypes arguments cost more), `matmul` split over the
    threads from there. Other operands: plain a @ b.

    >>> import numpy as np
    >>> product(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)).tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """
    if a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype or a.dtype.kind != "f":
        return a @ b
    (m, depth), n = a.shape, b.shape[1]
    if depth == 1 and b.shape[0] == 1:
        return np.multiply(a, b)
    if a.dtype.type not in (np.float32, np.float64) or m == 1 or m * depth * n < SMALL_PRODUCT_FLOPS:
        return a @ b
    with own_threads():
        return a @ b if m * depth * n < MATMUL_SPLIT_FLOPS else matmul(a, b, np.empty((m, n), a.dtype))


def matmul(a, b, out, beta=0.0):
    """out[...] = a @ b + beta * out for 2-d a (M, K), b (K, N), out (M, N) (kernels/blas.py's gemm: views with
    any row stride are read and written in place), with a large product split over the threads: out's rows
    (or columns, when M is small) in one contiguous piece per thread. Inside run()'s items, or outside
    own_threads() (BLAS threads it then), it is one gemm.

    >>> import numpy as np
    >>> out = np.empty((2, 2))
    >>> matmul(np.eye(2), np.arange(4.0).reshape(2, 2), out).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    (m, kk), n = a.shape, b.shape[1]
    k = min(num_threads(), max(1, m * n * kk // MATMUL_SPLIT_FLOPS))
    if k < 2 or not _single[0] or _busy():     # _single[0] > 0 only inside own_threads, where BLAS was found
        blas.gemm(a, b, out, beta)
        return out
    if m >= n or m >= 64 * k:                                           # split rows: each piece reads all of b
        pieces = [(slice(c0, c1), slice(None)) for c0, c1 in ranges(m, k)]
    else:
        pieces = [(slice(None), slice(c0, c1)) for c0, c1 in ranges(n, k)]
    run(lambda slot, p: blas.gemm(a[p[0]], b[:, p[1]], out[p], beta), pieces)
    return out
