"""linear's products (parallel.product): small ones and single rows go straight to NumPy, the rest with BLAS held at
one thread, those of at least parallel.MATMUL_SPLIT_FLOPS multiply-adds split by parallel.matmul; every path
matches PyTorch (float64 and float32, gradients of every input)."""
import importlib

import pytest

import cnnlab.nn.functional as F
from oracle import check, check_float32, rand

# (x shape, weight shape, whether some product holds BLAS at one thread, the left operands of the products that
# go through parallel.matmul)
CASES = [((1, 600), (500, 600), False, set()),  # one row: forward and dx in NumPy, dw = g^T x an outer product
         ((4, 8), (3, 8), False, set()),       # tiny: all three in NumPy
         ((64, 84), (10, 84), False, set()),   # LeNet-5's last layer
         ((64, 120), (84, 120), True, set()),  # 645,120 multiply-adds: one gemm each, BLAS held at one thread
         ((128, 400), (120, 400), True, {(128, 400), (128, 120), (120, 128)})]  # 6.1M: split over the threads


@pytest.mark.parametrize("xshape,wshape,held,split", CASES)
def test_linear_products_match_torch_and_take_their_path(monkeypatch, xshape, wshape, held, split):
    calls, holds, inside = [], [], []
    # the module linear itself calls (a doctest run may import a second copy of cnnlab.kernels.parallel)
    parallel = importlib.import_module("cnnlab.nn.functional.linear").parallel
    matmul, own_threads = parallel.matmul, parallel.own_threads

    def recorded_matmul(a, b, out, beta=0.0):
        calls.append(a.shape)
        inside.append(True)   # run() inside matmul holds BLAS too: not a product of its own
        try:
            return matmul(a, b, out, beta)
        finally:
            inside.pop()

    monkeypatch.setattr(parallel, "matmul", recorded_matmul)
    monkeypatch.setattr(parallel, "own_threads", lambda parts=None: holds.append(parts) or own_threads(parts)
                        if not inside else own_threads(parts))
    x, w, b = rand(*xshape, seed=1), rand(*wshape, seed=2), rand(wshape[0], seed=3)
    check(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b, second_order=False)
    assert set(calls) == split
    assert bool(holds) == held
    check_float32(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b, second_order=False)
