"""hardtanh/relu6(inplace=True) inside a recorded graph (nn/functional/graph_inplace.py), as relu's: over a fresh
convolution, batch norm or sum they write into the input's array and return the input itself, as PyTorch's
hardtanh_; outputs, gradients and second derivatives stay PyTorch's; elsewhere a new tensor as before."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, rand

X = rand(2, 3, 5, 5, seed=1)
W = rand(4, 3, 3, 3, seed=2)
GAMMA, BETA = rand(4, seed=3, low=0.5, high=1.5), rand(4, seed=4)


def _conv_bn_relu6(lib, x, w, gamma, beta):
    y = lib.F.batch_norm(lib.F.conv2d(x, w, padding=1), None, None, gamma * 3, beta * 3, training=True)
    return lib.F.relu6(y, inplace=True)       # values on both sides of 0 and of 6


def _sum_hardtanh(lib, x, w, gamma, beta):
    s = lib.F.conv2d(x, w, padding=1) + lib.F.conv2d(x, w * gamma.reshape(4, 1, 1, 1), padding=1)
    return lib.F.hardtanh(s, -0.5, 0.75, inplace=True) * beta.reshape(1, 4, 1, 1)


@pytest.mark.parametrize("fn", [_conv_bn_relu6, _sum_hardtanh])
def test_results_and_derivatives_are_pytorchs(fn):
    check(fn, X, W, GAMMA, BETA, second_order=True)


def test_writes_into_a_fresh_batch_norm_output_and_returns_it():
    x, w = cnnlab.tensor(X, requires_grad=True), cnnlab.tensor(W, requires_grad=True)
    y = F.batch_norm(F.conv2d(x, w, padding=1), None, None, training=True)
    array = y._data
    z = F.hardtanh(y, -0.5, 0.5, inplace=True)
    assert z is y and z._data is array and z.grad_fn.name() == "HardtanhBackward0"
    assert np.abs(array).max() <= 0.5
    g = rand(*z.shape, seed=5)
    z.backward(cnnlab.tensor(g))
    xt, wt = torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)
    yt = torch.nn.functional.batch_norm(torch.nn.functional.conv2d(xt, wt, padding=1), None, None, training=True)
    torch.nn.functional.hardtanh(yt, -0.5, 0.5, inplace=True).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_later_use_of_the_input_sees_the_clamp():
    def fn(lib, a, b):
        s = a + b
        r = lib.F.relu6(s * 4, inplace=True)
        return r * 2 + s * 3
    check(fn, rand(3, 4, seed=6), rand(3, 4, seed=7), second_order=True)


def test_an_input_another_op_has_taken_gets_a_new_tensor():
    a = cnnlab.tensor(rand(3, 4, seed=6) * 8, requires_grad=True)
    s = a + 1
    u = s * 2                               # s is used: overwriting it would change u's gradient
    r = F.relu6(s, inplace=True)
    assert r is not s and s._data.max() > 6
    (r.sum() + u.sum()).backward()
    want = 2 + ((s._data > 0) & (s._data < 6))
    np.testing.assert_array_equal(a.grad.numpy(), want)
