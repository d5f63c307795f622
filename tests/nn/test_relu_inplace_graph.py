"""relu(inplace=True) inside a recorded graph (nn/functional/graph_inplace.py): over a fresh convolution, batch norm
or sum it writes into its input's array and returns the input itself, as PyTorch's relu_; outputs, gradients and
second derivatives stay PyTorch's; everywhere else it returns a new tensor as before."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.nn.functional import graph_inplace
from oracle import check, rand

X = rand(2, 3, 5, 5, seed=1)
W = rand(4, 3, 3, 3, seed=2)
GAMMA, BETA = rand(4, seed=3, low=0.5, high=1.5), rand(4, seed=4)
W2 = rand(4, 4, 3, 3, seed=11)


def _conv_bn_relu(lib, x, w, gamma, beta):
    y = lib.F.batch_norm(lib.F.conv2d(x, w, padding=1), None, None, gamma, beta, training=True)
    return lib.F.relu(y, inplace=True)


def _block(lib, x, w, gamma, beta, w2):
    """A residual block with every in-place case: relu_ over a convolution, over a sum, over a difference."""
    h = lib.F.relu(lib.F.conv2d(x, w, padding=1), inplace=True)
    h = lib.F.batch_norm(lib.F.conv2d(h, w2, padding=1), None, None, gamma, beta, training=True)
    return lib.F.relu(h + lib.F.conv2d(x, w, padding=1), inplace=True) + lib.F.relu(h - 0.25, inplace=True)


@pytest.mark.parametrize("fn,more", [(_conv_bn_relu, ()), (_block, (W2,))])
def test_results_and_derivatives_are_pytorchs(fn, more):
    check(fn, X, W, GAMMA, BETA, *more, second_order=True)


def test_writes_into_a_fresh_batch_norm_output_and_returns_it():
    x, w = cnnlab.tensor(X, requires_grad=True), cnnlab.tensor(W, requires_grad=True)
    y = F.batch_norm(F.conv2d(x, w, padding=1), None, None, training=True)
    array = y._data
    z = F.relu(y, inplace=True)
    assert z is y and z._data is array and z.grad_fn.name() == "ReluBackward0"   # no second activation
    assert (array >= 0).all()
    g = rand(*z.shape, seed=5)
    z.backward(cnnlab.tensor(g))
    xt, wt = torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)
    zt = torch.relu_(torch.nn.functional.batch_norm(torch.nn.functional.conv2d(xt, wt, padding=1), None, None,
                                                    training=True))
    zt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_later_use_of_the_input_goes_through_the_relu():
    """In PyTorch the input is the relu's output afterwards: its later uses see the new values and their
    gradient passes the mask."""
    def fn(lib, a, b):
        s = a + b
        r = lib.F.relu(s, inplace=True)
        return r * 2 + s * 3
    check(fn, rand(3, 4, seed=6), rand(3, 4, seed=7), second_order=True)


def _fresh():
    return cnnlab.tensor(rand(3, 4, seed=8), requires_grad=True) * 1 + 0   # AddBackward0


@pytest.mark.parametrize("case", ["used", "result_reading", "hook", "retains_grad", "leaf", "view", "float16"])
def test_a_new_tensor_where_the_graph_could_tell(case):
    t = _fresh()
    if case == "used":
        other = t * 3                                       # an op already took t: it must keep its values
    elif case == "result_reading":
        t = t.exp()                                         # exp's gradient reads its result
    elif case == "hook":
        t.register_hook(lambda g: g)
    elif case == "retains_grad":
        t.retain_grad()
    elif case == "leaf":
        t = cnnlab.tensor(rand(3, 4, seed=8), requires_grad=True)
    elif case == "view":
        t = t.t()                                           # not C-contiguous, and not t's own array
    elif case == "float16":
        t = cnnlab.tensor(rand(3, 4, seed=8), dtype=cnnlab.float16, requires_grad=True) + 0
    before = t.detach().numpy().copy()
    assert not graph_inplace.overwritable(t)
    z = F.relu(t, inplace=True)
    assert z is not t
    np.testing.assert_array_equal(t.detach().numpy(), before)
    np.testing.assert_array_equal(z.detach().numpy(), np.maximum(before, 0))
    if case == "used":
        np.testing.assert_array_equal(other.detach().numpy(), before * 3)


def test_backward_twice_with_retain_graph():
    x = cnnlab.tensor(rand(2, 3, seed=9), requires_grad=True)
    z = F.relu(x * 2 + 1, inplace=True)
    z.sum().backward(retain_graph=True)
    first = x.grad.numpy().copy()
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    np.testing.assert_array_equal(first, 2.0 * (rand(2, 3, seed=9) * 2 + 1 > 0))


def test_a_network_gives_the_same_gradients_in_place_or_not():
    """ResNet blocks with ReLU(inplace=True) and with inplace=False: the same loss and gradients, to the bit."""
    from benchmarks.models import resnet18

    def run(inplace):
        cnnlab.manual_seed(0)
        model = resnet18(cnnlab.nn, num_classes=10, layout="cifar")
        for m in model.modules():
            if isinstance(m, cnnlab.nn.ReLU):
                m.inplace = inplace
        x = cnnlab.tensor(rand(2, 3, 16, 16, seed=10, dtype=np.float32))
        loss = F.cross_entropy(model(x), cnnlab.tensor([1, 7]))
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in model.parameters()]

    (la, ga), (lb, gb) = run(True), run(False)
    assert la == lb
    for a, b in zip(ga, gb):
        np.testing.assert_array_equal(a, b)
