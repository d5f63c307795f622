"""Peak memory (RSS) of the ResNet-18 CIFAR training step (batch 32) for ONE library per process.

`python -m benchmarks.memory --lib cnnlab` (or `--lib torch`) imports only that library, builds the model,
the optimizer and a batch, then resets the kernel's high-water mark and runs a few training steps. It prints
one JSON line: RSS before the first step, the peak RSS during the steps (VmHWM), and their difference, the
memory the training step itself needs (activations, gradients, optimizer state, temporaries).
Both libraries in one process would share and mix their heaps, so `measure_both` runs two fresh processes.

What the difference counts: everything the first steps add to the process's resident pages, so the gradients
and the optimizer's momentum (both made in the first step), the activations held for backward, the kernels'
scratch, and pages the allocator keeps after a free. The RSS before the steps (the library, the model, the batch)
is not in it. `--trace` (cnnlab) also reports tracemalloc's peak over the steps, which NumPy's allocations
report to: the gap to step_mb is allocator slack, thread stacks and anything not allocated through NumPy.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np


def _status_mb(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in MB, or None where /proc is not available."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(lib_name, steps=3, batch=32, trace=False):
    """Run `steps` ResNet-18 CIFAR training steps with `lib_name` ('cnnlab' or 'torch'); returns a dict.
    trace: also return tracemalloc's peak over the steps (traced_step_mb; it counts only what they allocate)."""
    from .cases import library
    from .models import resnet18
    lib = library(lib_name)
    if lib_name == "torch":
        lib.torch.set_num_threads(2)
    lib.torch.manual_seed(0)
    model = resnet18(lib.nn, num_classes=10, layout="cifar")
    model.train()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = lib.torch.from_numpy(rng.standard_normal((batch, 3, 32, 32), dtype=np.float32))
    y = lib.torch.from_numpy(rng.integers(0, 10, batch).astype(np.int64))
    if trace:
        tracemalloc.start()
    rss_before = _status_mb("VmRSS")
    reset = _reset_peak()
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    peak = _status_mb("VmHWM") if reset else None
    traced = None
    if trace:
        traced = tracemalloc.get_traced_memory()[1] / 2 ** 20   # counted from start(): nothing before it
        tracemalloc.stop()
    if peak is None:  # no resettable high-water mark: the process-wide peak is the best we have
        peak = maxrss_mb
    return {"lib": lib_name, "steps": steps, "batch": batch, "rss_before_mb": rss_before,
            "peak_rss_mb": peak, "step_mb": peak - (rss_before or 0.0), "ru_maxrss_mb": maxrss_mb,
            "hwm_reset": reset, "loss": float(loss.item()),
            **({"traced_step_mb": traced} if trace else {})}


def measure_both(steps=3, timeout=600):
    """Measure cnnlab and PyTorch, each in a fresh subprocess; returns {'cnnlab', 'torch', 'ratio',
    'ratio_total'} or {'error': message}."""
    root = Path(__file__).resolve().parent.parent
    result = {}
    for lib in ("cnnlab", "torch"):
        cmd = [sys.executable, "-m", "benchmarks.memory", "--lib", lib, "--steps", str(steps)]
        try:
            proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout,
                                  env=os.environ.copy())
        except subprocess.TimeoutExpired:
            return {"error": f"{lib} memory run timed out after {timeout} s"}
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return {"error": f"{lib} memory run failed (exit {proc.returncode}): {tail}"}
        result[lib] = json.loads(lines[-1])
    result["ratio"] = result["cnnlab"]["step_mb"] / result["torch"]["step_mb"]
    result["ratio_total"] = result["cnnlab"]["peak_rss_mb"] / result["torch"]["peak_rss_mb"]
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--lib", choices=("cnnlab", "torch"), required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--trace", action="store_true", help="also report tracemalloc's peak over the steps")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.lib, args.steps, args.batch, args.trace)))


if __name__ == "__main__":
    main()
