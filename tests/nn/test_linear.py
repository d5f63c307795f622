"""linear and bilinear against PyTorch: any leading dims, with and without bias, gradients of every input."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, check_float32, gradcheck, rand

LINEAR_SHAPES = [((4, 3), (5, 3)), ((1, 3), (2, 3)), ((3,), (4, 3)), ((2, 3, 7), (5, 7)), ((2, 1, 3, 4), (1, 4)),
                 ((6, 1), (3, 1)), ((0, 3), (2, 3))]


@pytest.mark.parametrize("xshape,wshape", LINEAR_SHAPES)
@pytest.mark.parametrize("bias", [False, True])
def test_linear_matches_torch(xshape, wshape, bias):
    x, w = rand(*xshape, seed=1), rand(*wshape, seed=2)
    b = rand(wshape[0], seed=3) if bias else None
    check(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b)
    check_float32(lambda lib, x, w, b: lib.F.linear(x, w, bias=b), x, w, b)


@pytest.mark.parametrize("bias", [False, True])
def test_linear_gradcheck(bias):
    x, w = rand(2, 3, 4, seed=4), rand(5, 4, seed=5)
    args = (x, w) + ((rand(5, seed=6),) if bias else ())
    gradcheck(lambda *t: F.linear(*t), *args)


def test_linear_one_dim_weight_and_broadcast_bias():
    x = rand(3, 4, seed=7)
    check(lambda lib, x, w: lib.F.linear(x, w), x, rand(4, seed=8))  # (in,) weight: output without its dim
    check(lambda lib, x, w, b: lib.F.linear(x, w, b), x, rand(5, 4, seed=9), rand(1, seed=10))  # (1,) bias


def test_linear_partial_requires_grad():
    x, w, b = rand(3, 4, seed=1), rand(2, 4, seed=2), rand(2, seed=3)
    for mask in ([True, False, False], [False, True, False], [False, False, True], [False, True, True]):
        check(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b, grad=mask)


def test_linear_grad_fn_and_int_inputs():
    x = cnnlab.tensor(rand(2, 3), requires_grad=True)
    assert F.linear(x, cnnlab.ones(4, 3, dtype=cnnlab.float64)).grad_fn is not None
    out = F.linear(cnnlab.tensor([[1, 2]]), cnnlab.tensor([[3, 4]]), cnnlab.tensor([5]))
    assert out.dtype == cnnlab.int64 and out.tolist() == [[16]]


def test_linear_errors():
    x = cnnlab.tensor(rand(8, 3))
    with pytest.raises(ValueError, match=r"linear: input.shape\[-1\] must equal weight.shape\[1\] \(in_features\). "
                                         r"Got input.shape=\(8, 3\), weight.shape=\(4, 5\)."):
        F.linear(x, cnnlab.ones(4, 5, dtype=cnnlab.float64))
    with pytest.raises(RuntimeError, match=r"linear: bias must have shape \(out_features,\) = \(4,\). Got "
                                           r"bias.shape=\(5,\), weight.shape=\(4, 3\)."):
        F.linear(x, cnnlab.ones(4, 3, dtype=cnnlab.float64), cnnlab.ones(5, dtype=cnnlab.float64))
    with pytest.raises(ValueError, match=r"bias.shape=\(1, 4\)"):
        F.linear(x, cnnlab.ones(4, 3, dtype=cnnlab.float64), cnnlab.ones(1, 4, dtype=cnnlab.float64))
    with pytest.raises(TypeError, match=r"linear: all tensors must have the same dtype. Got input.dtype=cnnlab.float64, "
                                        r"weight.dtype=cnnlab.float32."):
        F.linear(x, cnnlab.ones(4, 3))
    with pytest.raises(ValueError, match=r"linear: input must have at least 1 dim and weight must be 1-d or 2-d"):
        F.linear(cnnlab.tensor(1.0), cnnlab.ones(4, 1))
    # PyTorch rejects the same inputs (with RuntimeError, which our ShapeError/DTypeError also are)
    with pytest.raises(RuntimeError):
        torch.nn.functional.linear(torch.zeros(8, 3), torch.zeros(4, 5))
    with pytest.raises(RuntimeError):
        torch.nn.functional.linear(torch.zeros(8, 3), torch.zeros(4, 3), torch.zeros(5))
    with pytest.raises(RuntimeError):
        torch.nn.functional.linear(torch.zeros(8, 3, dtype=torch.float64), torch.zeros(4, 3))


BILINEAR_SHAPES = [((4, 3), (4, 2), (5, 3, 2)), ((1, 3), (1, 3), (1, 3, 3)), ((3,), (2,), (4, 3, 2)),
                   ((2, 3, 4), (2, 3, 5), (6, 4, 5)), ((2, 1), (2, 1), (3, 1, 1))]


@pytest.mark.parametrize("s1,s2,ws", BILINEAR_SHAPES)
@pytest.mark.parametrize("bias", [False, True])
def test_bilinear_matches_torch(s1, s2, ws, bias):
    a, c, w = rand(*s1, seed=1), rand(*s2, seed=2), rand(*ws, seed=3)
    b = rand(ws[0], seed=4) if bias else None
    check(lambda lib, a, c, w, b: lib.F.bilinear(a, c, w, b), a, c, w, b)
    check_float32(lambda lib, a, c, w, b: lib.F.bilinear(a, c, w, bias=b), a, c, w, b)


def test_bilinear_gradcheck_and_partial_grads():
    a, c, w, b = rand(3, 2, seed=5), rand(3, 4, seed=6), rand(2, 2, 4, seed=7), rand(2, seed=8)
    gradcheck(lambda *t: F.bilinear(*t), a, c, w, b)
    for mask in ([True, False, False, False], [False, True, False, False], [False, False, True, True]):
        check(lambda lib, a, c, w, b: lib.F.bilinear(a, c, w, b), a, c, w, b, grad=mask)


def test_bilinear_errors():
    a, c = cnnlab.tensor(rand(4, 3)), cnnlab.tensor(rand(4, 2))
    with pytest.raises(ValueError, match=r"bilinear: input1.shape\[-1\] must equal weight.shape\[1\] and "
                                         r"input2.shape\[-1\] must equal weight.shape\[2\]. Got input1.shape=\(4, 3\), "
                                         r"input2.shape=\(4, 2\), weight.shape=\(5, 2, 2\)."):
        F.bilinear(a, c, cnnlab.zeros(5, 2, 2, dtype=cnnlab.float64))
    with pytest.raises(ValueError, match=r"bilinear: input1 and input2 must have at least 1 dim and the same leading "
                                         r"dims. Got input1.shape=\(4, 3\), input2.shape=\(5, 2\)."):
        F.bilinear(a, cnnlab.tensor(rand(5, 2)), cnnlab.zeros(5, 3, 2, dtype=cnnlab.float64))
    with pytest.raises(ValueError, match=r"bilinear: weight must be 3-d"):
        F.bilinear(a, c, cnnlab.zeros(3, 2, dtype=cnnlab.float64))
    with pytest.raises(ValueError, match=r"bilinear: bias must have shape \(out_features,\) = \(5,\)"):
        F.bilinear(a, c, cnnlab.zeros(5, 3, 2, dtype=cnnlab.float64), cnnlab.zeros(4, dtype=cnnlab.float64))
    with pytest.raises(RuntimeError):
        torch.nn.functional.bilinear(torch.zeros(4, 3), torch.zeros(4, 2), torch.zeros(5, 2, 2))


@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 3, 4), (2, 2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_grad_fn_name_equals_torch(shape, bias):
    # PyTorch prints addmm/mm for 2-d input and a view of it otherwise (tutorials print model outputs)
    x, w, b = np.ones(shape), np.ones((5, 4)), np.ones(5) if bias else None
    ours = F.linear(cnnlab.tensor(x, requires_grad=True), cnnlab.tensor(w), None if b is None else cnnlab.tensor(b))
    theirs = torch.nn.functional.linear(torch.tensor(x, requires_grad=True), torch.tensor(w),
                                        None if b is None else torch.tensor(b))
    assert ours.grad_fn.name() == theirs.grad_fn.name()
