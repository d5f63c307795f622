"""Float32 activation timings beside PyTorch: forward and forward+backward, medians of interleaved runs.

Run: .venv/bin/python benchmarks/bench_activations.py [op ...]
"""
import sys
import timeit

import numpy as np
import torch

import cnnlab
import cnnlab.nn.functional as F

torch.set_num_threads(2)
OPS = {
    "gelu": (lambda m, x: m.gelu(x)),
    "gelu_tanh": (lambda m, x: m.gelu(x, approximate="tanh")),
    "silu": (lambda m, x: m.silu(x)),
    "mish": (lambda m, x: m.mish(x)),
    "hardswish": (lambda m, x: m.hardswish(x)),
    "hardsigmoid": (lambda m, x: m.hardsigmoid(x)),
    "elu": (lambda m, x: m.elu(x)),
    "selu": (lambda m, x: m.selu(x)),
    "celu": (lambda m, x: m.celu(x, 0.5)),
    "softplus": (lambda m, x: m.softplus(x)),
}
SHAPES = [(1, 56, 56, 384), (8, 64, 56, 56)]


def bench(fn, reps=7):
    return [min(timeit.repeat(fn, number=1, repeat=2)) for _ in range(reps)]


def main(names):
    rng = np.random.default_rng(0)
    print(f"{'op':12s} {'shape':16s} {'cn fwd':>8s} {'pt fwd':>8s} {'cn f+b':>8s} {'pt f+b':>8s}  (ms, medians)")
    for shape in SHAPES:
        a = rng.standard_normal(shape).astype(np.float32) * 3
        g = rng.standard_normal(shape).astype(np.float32)
        cx, px = cnnlab.tensor(a), torch.tensor(a)
        cxg, pxg = cnnlab.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        cg, pg = cnnlab.tensor(g), torch.tensor(g)
        for name in names:
            f = OPS[name]
            cases = [lambda: f(F, cx), lambda: f(torch.nn.functional, px),
                     lambda: f(F, cxg).backward(cg), lambda: f(torch.nn.functional, pxg).backward(pg)]
            res = [[] for _ in cases]
            for _ in range(5):  # interleave: the machine is shared
                for i, c in enumerate(cases):
                    res[i] += bench(c, reps=1)
            med = [1000 * float(np.median(r)) for r in res]
            print(f"{name:12s} {str(shape):16s} " + " ".join(f"{m:8.2f}" for m in med), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(OPS))
