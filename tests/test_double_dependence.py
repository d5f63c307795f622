"""create_graph gradients that PyTorch computes from the op's input even where their derivative in it is zero
(relu's mask, pools, reflection/replication pads: cnnlab/derivatives/dependence.py): whether the gradient
requires grad, and what differentiating it gives (zeros, not None), against PyTorch in float64; and the ops whose
PyTorch gradient does not require grad (x * 2, constant pads, interpolate, ...), which must not either."""
import numpy as np
import pytest

import cnnlab
from tests.oracle import rand

torch = pytest.importorskip("torch")

X1, X3, X4, X5 = rand(9, seed=1), rand(2, 3, 8, seed=2), rand(2, 3, 6, 6, seed=3), rand(1, 2, 4, 4, 4, seed=4)


def _unpool(lib, x):
    _, idx = lib.nn.functional.max_pool2d(lib.tensor(X4), 2, return_indices=True)
    return lib.nn.functional.max_unpool2d(x[:, :, :3, :3], idx, 2)


# name -> (fn(lib, x), input, whether PyTorch's gradient requires grad: asserted below on torch itself)
CASES = {
    "relu": (lambda lib, x: lib.relu(x), X1, True),
    "relu_inplace": (lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True), X1, True),
    "leaky_relu": (lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1), X1, True),
    "relu6": (lambda lib, x: lib.nn.functional.relu6(x * 4), X1, True),
    "hardtanh": (lambda lib, x: lib.nn.functional.hardtanh(x * 2), X1, True),
    "threshold": (lambda lib, x: lib.nn.functional.threshold(x, 0.1, 2.0), X1, True),
    "prelu": (lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.25], dtype=lib.float64)), X1, True),
    "max_pool1d": (lambda lib, x: lib.nn.functional.max_pool1d(x, 2), X3, True),
    "max_pool2d": (lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True), X4, True),
    "max_pool3d": (lambda lib, x: lib.nn.functional.max_pool3d(x, 2), X5, True),
    "avg_pool1d": (lambda lib, x: lib.nn.functional.avg_pool1d(x, 2), X3, True),
    "avg_pool2d": (lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False), X4, True),
    "avg_pool3d": (lambda lib, x: lib.nn.functional.avg_pool3d(x, 2), X5, True),
    "adaptive_avg_pool1d": (lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 3), X3, True),
    "adaptive_avg_pool2d": (lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (1, 3)), X4, True),
    "adaptive_max_pool1d": (lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 3), X3, True),
    "adaptive_max_pool2d": (lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 1), X4, True),
    "adaptive_max_pool3d": (lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x, 2), X5, True),
    "reflect_pad1d": (lambda lib, x: lib.nn.functional.pad(x, (2, 1), mode="reflect"), X3, True),
    "reflect_pad2d": (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 2, 0), mode="reflect"), X4, True),
    "replicate_pad3d": (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate"), X5, True),
    # linear in x with fixed geometry and no use of x in PyTorch's gradient: it does not require grad
    "mul_2": (lambda lib, x: x * 2, X1, False),
    "sum": (lambda lib, x: (x + 1).sum(), X1, False),
    "clamp": (lambda lib, x: x.clamp(-0.5, 0.5), X1, False),
    "max_over_dim": (lambda lib, x: x.max(0)[0], X1, False),
    "constant_pad": (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1)), X4, False),
    "circular_pad": (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1), mode="circular"), X4, False),
    "interpolate": (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"), X4, False),
    "unfold": (lambda lib, x: lib.nn.functional.unfold(x, 2), X4, False),
    "adaptive_avg_pool_to_1": (lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, 1), X4, False),
    "adaptive_avg_pool1d_to_1": (lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 1), X3, False),
    "max_unpool2d": (_unpool, X4, False),
    "dropout_eval": (lambda lib, x: lib.nn.functional.dropout(x, 0.5, training=False), X1, False),
}


def _through(lib, fn, a):
    """The create_graph gradient of fn's sum, its requires_grad, then x.grad after backward through it (None
    where it does not require grad) and autograd.grad of it with allow_unused and create_graph."""
    x = lib.tensor(a.copy(), requires_grad=True)
    (g,) = lib.autograd.grad((fn(lib, x) * lib.tensor(rand(*fn(lib, lib.tensor(a)).shape, seed=5))).sum(), x,
                             create_graph=True)
    if not g.requires_grad:
        return False, None, None, g.detach().numpy()
    (gg,) = lib.autograd.grad((g * lib.tensor(rand(*a.shape, seed=6))).sum(), x, allow_unused=True,
                              create_graph=True)
    third = gg is not None and gg.requires_grad
    (g * g.detach()).sum().backward()
    return True, x.grad.numpy(), (None if gg is None else gg.detach().numpy(), third), g.detach().numpy()


@pytest.mark.parametrize("name", CASES)
def test_gradient_requires_grad_as_in_pytorch(name):
    fn, a, expected = CASES[name]
    want, got = _through(torch, fn, a), _through(cnnlab, fn, a)
    assert want[0] is expected  # the case list says what torch does
    assert got[0] is want[0]
    np.testing.assert_allclose(got[3], want[3], rtol=1e-12, atol=1e-14)  # the gradient's values are unchanged
    if want[0]:
        np.testing.assert_array_equal(got[1], want[1])  # zeros, where backward() used to raise
        assert not np.any(got[1])
        (g_gg, g_third), (w_gg, w_third) = got[2], want[2]
        assert (g_gg is None) == (w_gg is None) and g_third == w_third
        if w_gg is not None:
            np.testing.assert_array_equal(g_gg, w_gg)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")  # torch's
def test_backward_create_graph_then_backward_through_grad():
    """The .backward(create_graph=True) path: x.grad through a max pool requires grad, and x.grad.sum()
    backpropagates zeros into x (added to the first-order gradient, as PyTorch does)."""
    results = []
    for lib in (torch, cnnlab):
        x = lib.tensor(X4.copy(), requires_grad=True)
        lib.nn.functional.max_pool2d(x, 2).sum().backward(create_graph=True)
        first = x.grad
        assert first.requires_grad, lib.__name__
        x.grad = None
        first.sum().backward()
        results.append((first.detach().numpy(), x.grad.numpy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, want)


def _conv_net(lib, x, w1, b1, w2, b2):
    F = lib.nn.functional
    h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
    h = F.avg_pool2d(F.relu(F.conv2d(F.pad(h, (1, 1, 1, 1), mode="reflect"), w2, b2)), 2)
    return h.sum(dim=(1, 2, 3))


def test_conv_net_input_gradient_penalty_as_in_pytorch():
    """An input-gradient penalty of a conv/relu/pool net: every parameter's and the input's gradient of the
    penalty, with allow_unused: the same None-ness and values (the biases' are zeros, through relu and the
    pools: None before)."""
    arrays = [rand(2, 1, 8, 8, seed=7), rand(3, 1, 3, 3, seed=8), rand(3, seed=9), rand(2, 3, 3, 3, seed=10),
              rand(2, seed=11)]
    results = []
    for lib in (torch, cnnlab):
        x, *params = (lib.tensor(a, requires_grad=True) for a in arrays)
        (gx,) = lib.autograd.grad(_conv_net(lib, x, *params).sum(), x, create_graph=True)
        assert gx.requires_grad
        out = lib.autograd.grad((gx ** 2).sum(), [x] + params, allow_unused=True)
        results.append([None if r is None else r.numpy() for r in out])
    for i, (got, want) in enumerate(zip(*results[::-1])):
        assert (got is None) == (want is None), i
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13, err_msg=str(i))
    assert not np.any(results[0][2]) and not np.any(results[0][4]) and np.any(results[0][1])  # b1, b2, w1


def test_relu_gradient_of_a_gradient_that_already_requires_grad():
    """relu(x * w): the gradient in x requires grad through w anyway; differentiating it in x gives zeros and in
    w the real derivative, as PyTorch (the dependence is added even when the gradient has a graph)."""
    results = []
    for lib in (torch, cnnlab):
        x, w = lib.tensor(X1.copy(), requires_grad=True), lib.tensor(rand(9, seed=12), requires_grad=True)
        (gx,) = lib.autograd.grad(lib.relu(x * w).sum(), x, create_graph=True)
        results.append([r.numpy() for r in lib.autograd.grad(gx.sum(), [x, w])])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", ["hardsigmoid", "abs"])
def test_gradient_requires_grad_where_pytorch_cannot_differentiate_it(op):
    """hardsigmoid (torch: 'derivative for aten::hardsigmoid_backward is not implemented') and abs (a ZeroTensor
    from sgn that torch's backward() cannot always use): the gradient requires grad as torch's does, and
    differentiating it gives zeros, its true derivative (both are piecewise linear)."""
    fn = {"hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x * 4), "abs": lambda lib, x: x.abs()}[op]
    x = torch.tensor(X1.copy(), requires_grad=True)
    assert torch.autograd.grad(fn(torch, x).sum(), x, create_graph=True)[0].requires_grad
    x = cnnlab.tensor(X1.copy(), requires_grad=True)
    (g,) = cnnlab.autograd.grad(fn(cnnlab, x).sum(), x, create_graph=True)
    assert g.requires_grad
    (g * g.detach()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(X1))


def test_freed_graph_raises_as_in_pytorch():
    """relu's gradient depends on relu's result, as torch's: with retain_graph=False, differentiating the
    gradient reaches the freed relu node and raises, as torch does."""
    for lib, error in ((torch, RuntimeError), (cnnlab, cnnlab.errors.GradError)):
        x = lib.tensor(X1.copy(), requires_grad=True)
        (g,) = lib.autograd.grad(lib.relu(x * 3).sum(), x, create_graph=True, retain_graph=False)
        with pytest.raises(error, match="(?i)backward through the graph a second time"):
            g.sum().backward()
