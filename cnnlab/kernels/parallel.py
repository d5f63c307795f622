"""Run the memory-bound passes of a kernel on several cores with Python threads.

NumPy's elementwise ops and copies run on one core, while its matmul (BLAS) uses all of them; a convolution
that lowers to copies + transforms + matmuls would leave the other cores idle for half its time. NumPy releases
the GIL inside its loops, so a few Python threads each running the copies of their own block of the work
(disjoint outputs, their own scratch buffers) run in parallel; the matmuls stay in the calling thread, where
BLAS threads them itself.

The number of threads is set_num_threads(n), else the environment (CNNLAB_NUM_THREADS, OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, in that order), else the CPUs this process may run on. 1 means no threads at all.

>>> out = [0] * 4
>>> run(lambda i: out.__setitem__(i, i * i), range(4))
>>> out
[0, 1, 4, 9]
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_pool = None
_threads = None


def _default_threads():
    for name in ("CNNLAB_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def num_threads():
    """How many threads the kernels' copy passes use (at least 1)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(n):
    """Use n threads for the kernels' copy passes (n >= 1; 1 runs everything in the calling thread)."""
    global _threads, _pool
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int. Got n={n!r}.")
    with _lock:
        _threads = n
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def _executor():
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=num_threads() - 1, thread_name_prefix="cnnlab-kernel")
        return _pool


def run(fn, items):
    """fn(item) for every item, spread over num_threads() threads (the caller runs its share); returns when all
    are done and re-raises the first exception. Calls must write disjoint outputs."""
    items = list(items)
    if num_threads() == 1 or len(items) < 2 or threading.current_thread().name.startswith("cnnlab-kernel"):
        for item in items:
            fn(item)
        return
    k = min(num_threads(), len(items))
    shares = [items[i::k] for i in range(k)]
    futures = [_executor().submit(lambda share=share: [fn(item) for item in share]) for share in shares[1:]]
    try:
        for item in shares[0]:
            fn(item)
    finally:
        for f in futures:
            f.result()


def pipeline(blocks, prepare, compute, finish):
    """Process blocks in groups of num_threads(): prepare(slot, block) for the group's blocks in parallel, then
    compute(group) in the calling thread (the matmuls: BLAS threads them), then finish(slot, block) in
    parallel. `slot` (0..num_threads()-1) names the scratch buffers a block may use; finish may be None."""
    k = num_threads()
    for g0 in range(0, len(blocks), k):
        group = blocks[g0:g0 + k]
        run(lambda i: prepare(i, group[i]), range(len(group)))
        compute(group)
        if finish is not None:
            run(lambda i: finish(i, group[i]), range(len(group)))
