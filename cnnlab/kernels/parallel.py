"""Run a kernel's blocks on several cores: one Python thread per core, each with single-threaded BLAS.

A convolution lowers to copies, elementwise transforms and matmuls over cache-sized blocks. NumPy's
elementwise ops run on one core, and BLAS splits a cache-sized matmul over threads poorly, so the kernels hand
whole blocks (copy in, matmul, copy out) to a few Python threads instead: NumPy and BLAS release the GIL while
they work, so the threads run in parallel, each in its own core's cache, as oneDNN does with its threads.

While they run, BLAS is set to one thread (OpenBLAS's openblas_set_num_threads, found by kernels/blas.py; the
previous count is restored afterwards), otherwise every matmul would also start BLAS's
own threads and the cores would be oversubscribed. Where the BLAS cannot be controlled that way (not OpenBLAS,
or not Linux), blocks run one after another in the calling thread and BLAS threads each matmul as usual.

Threads: set_num_threads(n), else the CNNLAB_NUM_THREADS environment variable, else as many as BLAS uses
(so threadpoolctl limits and OPENBLAS_NUM_THREADS apply), else the CPUs this process may run on.

>>> out = [0] * 4
>>> run(lambda slot, i: out.__setitem__(i, i * i), range(4))
>>> out
[0, 1, 4, 9]
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from . import blas

_lock = threading.Lock()
_pool = None
_pool_size = 0
_threads = None          # set by set_num_threads
_blas = None             # (get, set) ctypes functions of the process's OpenBLAS, or () when there is none
_single = [0, None]      # how many callers hold BLAS at one thread, and the count to restore


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
    value = os.environ.get("CNNLAB_NUM_THREADS", "").strip()
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
    threads=1 runs the items one after another in the calling thread, with BLAS threading each matmul itself
    (better for a few large matmuls)."""
    items = list(items)
    k = min(threads or num_threads(), num_threads(), len(items))
    if k < 2 or not _find_blas() or threading.current_thread().name.startswith("cnnlab-kernel"):
        for item in items:
            fn(0, item)
        return
    _set_single(True)
    try:
        shares = [items[len(items) * s // k:len(items) * (s + 1) // k] for s in range(k)]  # contiguous runs
        futures = [_executor(k - 1).submit(lambda s=s: [fn(s, item) for item in shares[s]]) for s in range(1, k)]
        try:
            for item in shares[0]:
                fn(0, item)
        finally:
            for f in futures:
                f.result()
    finally:
        _set_single(False)
