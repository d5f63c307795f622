"""Cold start: the first ResNet-18 forward (224x224, batch 1, eval, no_grad) in a fresh process, per library.

`python -m benchmarks.cold --lib cnnlab` imports only that library, builds the model, then times the first forward
call and a second one; it prints one JSON line. `measure_both` runs a fresh process per library and repeat, so
nothing is warm (imports, allocator, BLAS threads, caches of the kernels' plans) and reports the medians.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def measure(lib_name):
    """import, build, first and second forward times (s) of ResNet-18 224 b1 in this process."""
    t0 = time.perf_counter()
    from .cases import library
    from .models import resnet18
    lib = library(lib_name)
    if lib_name == "torch":
        lib.torch.set_num_threads(2)
    t_import = time.perf_counter() - t0
    lib.torch.manual_seed(0)
    model = resnet18(lib.nn).eval()
    x = lib.torch.randn(1, 3, 224, 224)
    times = []
    for _ in range(2):
        t = time.perf_counter()
        with lib.torch.no_grad():
            model(x)
        times.append(time.perf_counter() - t)
    return {"import_s": t_import, "first_forward_s": times[0], "second_forward_s": times[1]}


def measure_both(repeats=3):
    """Medians over `repeats` fresh processes per library (alternating), as {'cnnlab': {...}, 'torch': {...},
    'ratio': first-forward ratio}; {'error': ...} when a process fails."""
    root = Path(__file__).resolve().parent.parent
    runs = {"cnnlab": [], "torch": []}
    for _ in range(repeats):
        for lib in runs:
            proc = subprocess.run([sys.executable, "-m", "benchmarks.cold", "--lib", lib], cwd=root,
                                  capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                return {"error": f"{lib}: " + (proc.stderr.strip().splitlines() or ["exit " + str(proc.returncode)])[-1]}
            runs[lib].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out = {lib: {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in rs[0]} for lib, rs in runs.items()}
    out["ratio"] = out["cnnlab"]["first_forward_s"] / out["torch"]["first_forward_s"]
    out["repeats"] = repeats
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m benchmarks.cold", description=__doc__.split("\n")[0])
    p.add_argument("--lib", choices=("cnnlab", "torch"), required=True)
    print(json.dumps(measure(p.parse_args().lib)))
