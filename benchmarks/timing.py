"""Clocks and the machine's description: interleaved paired timing, the GEMM peak, the environment in force."""
import gc
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

# Allocator and BLAS variables that change the measured speed: printed with every run.
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "GLIBC_TUNABLES")


def time_pair(run_a, run_b, repeats, warmup=1, settle=0.0):
    """Time two zero-argument callables alternately (a, b, b, a, a, b, ...) so slow drift of the machine
    (other processes, frequency, caches) affects both alike; returns (seconds_a, seconds_b) lists.

    settle: seconds to sleep whenever the library changes, so one library's idle worker threads have stopped
    spinning before the other's call starts (OpenBLAS's threads spin ~2**28 cycles, about 0.12 s at 2.3 GHz,
    after each call; on 2 cores that would slow the next PyTorch call)."""
    return tuple(time_alternating((run_a, run_b), repeats, warmup, settle))


def time_alternating(runs, repeats, warmup=1, settle=0.0):
    """time_pair for any number of callables: in order, then in reverse order (a, b, c, c, b, a, ...);
    returns one list of seconds per callable."""
    for _ in range(warmup):
        for run in runs:
            run()
    times = [[] for _ in runs]
    last = runs[-1]
    for i in range(repeats):
        order = list(zip(runs, times))
        for run, ts in (order if i % 2 == 0 else order[::-1]):
            if run is not last and settle > 0:
                time.sleep(settle)
            last = run
            t0 = time.perf_counter()
            run()
            ts.append(time.perf_counter() - t0)
    return times


def time_once(run):
    """Seconds for one call of `run` (used to size the number of repeats after the warm-up)."""
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def choose_repeats(seconds_per_pair, budget_s, min_repeats, max_repeats):
    """As many repeats as fit in budget_s seconds, within [min_repeats, max_repeats]; 3 where min_repeats
    would take more than 2.5x the budget (a slow case on a slow or busy machine)."""
    fit = int(budget_s / max(seconds_per_pair, 1e-9))
    if seconds_per_pair * min_repeats > 2.5 * budget_s:
        min_repeats = min(3, min_repeats)
    return max(min_repeats, min(max_repeats, fit))


def median(values):
    return statistics.median(values) if values else float("nan")


def gemm_peak(torch, n=4096, repeats=3, max_seconds=2.0, settle=0.0):
    """Best float32 GFLOP/s of an n x n x n matmul in NumPy and in torch (same inputs), halving n while one
    NumPy call takes longer than max_seconds. Returns {'n', 'numpy_gflops', 'torch_gflops'}."""
    rng = np.random.default_rng(0)
    while True:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        out = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=out)  # warm-up: threads started, pages faulted in
        if time_once(lambda: np.matmul(a, b, out=out)) <= max_seconds or n <= 512:
            break
        n //= 2
    ta, tb, tout = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(np.empty_like(out))
    torch.mm(ta, tb, out=tout)
    t_np, t_torch = time_pair(lambda: np.matmul(a, b, out=out), lambda: torch.mm(ta, tb, out=tout),
                              repeats, warmup=0, settle=settle)
    flops = 2.0 * n ** 3
    return {"n": n, "numpy_gflops": flops / min(t_np) / 1e9, "torch_gflops": flops / min(t_torch) / 1e9}


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit():
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment(torch):
    """What the numbers depend on: versions, CPU, BLAS libraries and kernels (threadpoolctl), threads, and
    the BLAS/OpenMP/allocator environment variables (None where unset)."""
    try:
        from threadpoolctl import threadpool_info
        pools = [{k: p.get(k) for k in ("user_api", "internal_api", "prefix", "version", "architecture",
                                          "threading_layer", "num_threads")} for p in threadpool_info()]
    except ImportError:
        pools = [{"user_api": "unknown (threadpoolctl not installed)"}]
    env = {k: os.environ.get(k) for k in ENV_VARS}
    env.update({k: v for k, v in os.environ.items() if k.startswith("MALLOC_")})
    import cnnlab
    return {
        "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
        "cnnlab": getattr(cnnlab, "__version__", "?"), "cnnlab_commit": _git_commit(),
        "cpu": _cpu_model(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "threadpools": pools, "env": env, "load_average": load_average(), "compiled": compiled_kernels(),
    }


def compiled_kernels():
    """Whether cnnlab's optional numba kernels run in this process: 'numba <version>', or 'off: <why>'. It loads
    them (kernels/compiled.py imports numba at the first use), since only an import shows a numba that is
    installed but broken, e.g. built for another NumPy."""
    from importlib import metadata, util
    from cnnlab import _settings
    from cnnlab.kernels import compiled
    if not _settings.COMPILED:
        return "off: CNNLAB_COMPILED=0"
    if util.find_spec("numba") is None:
        return "off: numba not installed"
    if compiled.kernels() is None:
        return f"off: numba {metadata.version('numba')} is installed but failed to import"
    return f"numba {metadata.version('numba')}"


def load_average():
    """The 1-minute load average (other processes compete for the cores: above ~0.5 the timings are noisy)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def collect_garbage():
    """Free the previous case's arrays before the next one starts (collect twice for finalizer chains)."""
    gc.collect()
    gc.collect()
