"""linear's products (parallel.product): small ones and single rows go straight to NumPy, the rest through
parallel.matmul with BLAS held at one thread; every path matches PyTorch (float64 and float32, gradients of every
input)."""
import importlib

import pytest

import cnnlab.nn.functional as F
from oracle import check, check_float32, rand

# (x shape, weight shape, the left operands of the products that go through parallel.matmul)
CASES = [((1, 600), (500, 600), {(500, 1)}),  # one row: forward and dx in NumPy, dw = g^T x (an outer product) not
         ((4, 8), (3, 8), set()),             # tiny: all three in NumPy
         ((64, 84), (10, 84), set()),         # LeNet-5's last layer
         ((64, 120), (84, 120), {(64, 120), (64, 84), (84, 64)})]  # 645,120 multiply-adds: over the threshold


@pytest.mark.parametrize("xshape,wshape,blocked", CASES)
def test_linear_products_match_torch_and_take_their_path(monkeypatch, xshape, wshape, blocked):
    calls = []
    # the module linear itself calls (a doctest run may import a second copy of cnnlab.kernels.parallel)
    parallel = importlib.import_module("cnnlab.nn.functional.linear").parallel
    matmul = parallel.matmul
    monkeypatch.setattr(parallel, "matmul",
                        lambda a, b, out, beta=0.0: calls.append(a.shape) or matmul(a, b, out, beta))
    x, w, b = rand(*xshape, seed=1), rand(*wshape, seed=2), rand(wshape[0], seed=3)
    check(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b, second_order=False)
    assert set(calls) == blocked
    check_float32(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b, second_order=False)

