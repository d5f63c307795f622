"""Double backward of the activations, softmax family and dropout against PyTorch (float64): the gradient of
(grad . v) with respect to the input and the upstream gradient, and a third order on the smooth ones."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
import torch.nn.functional as TF

from double_nn import check_double

RNG = np.random.default_rng(18)
X = RNG.standard_normal((3, 4, 5)) * 2
X[0, 0, :3] = [0.0, -3.0, 3.0]                                  # the kinks of relu, hardswish, hardsigmoid

# (name, cnnlab op, torch op, third order checked)
POINTWISE = [
    ("relu", F.relu, TF.relu, False),
    ("relu6", F.relu6, TF.relu6, False),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.5), lambda x: TF.hardtanh(x, -0.5, 1.5), False),
    ("threshold", lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0), False),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), False),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7), True),
    ("selu", F.selu, TF.selu, True),
    ("celu", lambda x: F.celu(x, 1.5), lambda x: TF.celu(x, 1.5), True),
    ("gelu", F.gelu, TF.gelu, True),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), True),
    ("sigmoid", F.sigmoid, torch.sigmoid, True),
    ("tanh", F.tanh, torch.tanh, True),
    ("cnnlab.sigmoid", cnnlab.sigmoid, torch.sigmoid, False),
    ("silu", F.silu, TF.silu, True),
    ("mish", F.mish, TF.mish, True),
    ("softplus", F.softplus, TF.softplus, True),
    ("softplus_beta", lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), True),
    # PyTorch: "derivative for aten::hardsigmoid_backward is not implemented"; cnnlab's is exact (zero in x,
    # the masked slope in grad), checked against PyTorch's relu6(x + 3) / 6, which has the same kinks
    ("hardsigmoid", F.hardsigmoid, lambda x: TF.relu6(x + 3) / 6, False),
    ("hardswish", F.hardswish, TF.hardswish, True),
    ("softsign", F.softsign, TF.softsign, True),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid, True),
]


@pytest.mark.parametrize("name,op,top,third", POINTWISE, ids=[p[0] for p in POINTWISE])
def test_pointwise(name, op, top, third):
    check_double(op, top, X, order=3 if third else 2)


@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4, 5)])
def test_pointwise_shapes(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    check_double(F.silu, TF.silu, x, order=3)
    check_double(F.relu, TF.relu, x)


def test_pointwise_strided_input():
    # a transposed (non-contiguous) input and a composite after the op
    check_double(lambda x: F.gelu(x.transpose(0, 2)) * 2, lambda x: TF.gelu(x.transpose(0, 2)) * 2, X, order=3)


@pytest.mark.parametrize("wshape", [(1,), (4,)])
def test_prelu(wshape):
    w = np.random.default_rng(2).random(wshape)
    check_double(F.prelu, TF.prelu, X + (X == 0), w, order=3)


def test_prelu_1d_and_scalar():
    w = np.array([0.3])
    check_double(F.prelu, TF.prelu, X[0, 1], w, order=3)
    check_double(F.prelu, TF.prelu, np.array(-1.5), w)


def test_prelu_at_zero():
    # at x = 0 the slope is w (first order, as PyTorch); the second derivatives in x and w are 0 (PyTorch's);
    # d(grad . v)/dg is v w, the first-order map itself (PyTorch's double backward says v there, which is not
    # the derivative of its own first-order gradient g w)
    x = cnnlab.tensor([0.0, -1.0, 2.0], dtype=cnnlab.float64, requires_grad=True)
    w = cnnlab.tensor([0.25], dtype=cnnlab.float64, requires_grad=True)
    g = cnnlab.tensor([1.0, 2.0, 3.0], dtype=cnnlab.float64, requires_grad=True)
    gx, gw = cnnlab.autograd.grad((F.prelu(x, w) * g).sum(), (x, w), create_graph=True)
    assert gx.tolist() == [0.25, 0.5, 3.0] and gw.tolist() == [-2.0]
    v = cnnlab.tensor([1.0, 1.0, 1.0], dtype=cnnlab.float64)
    dx, dw, dg = cnnlab.autograd.grad((gx * v).sum() + gw.sum(), (x, w, g))
    assert dx.tolist() == [0.0, 2.0, 0.0] and dw.tolist() == [2.0] and dg.tolist() == [0.25, -0.75, 1.0]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu(dim):
    x = np.random.default_rng(3).standard_normal((4, 6, 2))
    check_double(lambda t: F.glu(t, dim), lambda t: TF.glu(t, dim), x, order=3)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(fn, dim):
    check_double(lambda t: getattr(F, fn)(t, dim), lambda t: getattr(TF, fn)(t, dim), X, order=3)


def test_softmax_scalar_and_tensor_method():
    check_double(lambda t: F.softmax(t, 0), lambda t: TF.softmax(t, 0), np.array(0.7))
    check_double(lambda t: t.log_softmax(1), lambda t: t.log_softmax(1), X, order=3)


@pytest.mark.parametrize("fn,shape", [("dropout", (6, 5)), ("dropout1d", (2, 4, 5)), ("dropout2d", (2, 4, 3, 3)),
                                      ("dropout3d", (2, 3, 2, 2, 2)), ("alpha_dropout", (6, 5)),
                                      ("feature_alpha_dropout", (2, 4, 3))])
def test_dropout_mask_fixed(fn, shape):
    # the mask is random, so the reference is the op's own scale, read from two forward passes with the same
    # seed: out = x * scale + shift, shift = op(0); dx = g * scale, and d(dx . v)/dg = v * scale
    x = np.random.default_rng(4).standard_normal(shape)
    gen = lambda: cnnlab.Generator().manual_seed(5)                      # noqa: E731
    xt = cnnlab.tensor(x, requires_grad=True)
    out = getattr(F, fn)(xt, 0.4, training=True, generator=gen())
    g = cnnlab.tensor(np.random.default_rng(6).standard_normal(shape), requires_grad=True)
    (gx,) = cnnlab.autograd.grad((out * g).sum(), xt, create_graph=True)
    v = np.random.default_rng(7).standard_normal(shape)
    (gg,) = cnnlab.autograd.grad((gx * cnnlab.tensor(v)).sum(), g)
    ref = (out - getattr(F, fn)(cnnlab.zeros(shape, dtype=cnnlab.float64), 0.4, training=True,
                                generator=gen())).detach().numpy() / x
    np.testing.assert_allclose(gx.detach().numpy(), g.detach().numpy() * ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gg.numpy(), v * ref, rtol=1e-12, atol=1e-12)


EXTREME = np.array([-1e4, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e4])


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "gelu", "gelu_tanh", "sigmoid", "tanh", "silu", "softplus",
                                  "softplus_beta", "softsign", "logsigmoid", "hardswish"])
def test_pointwise_extreme_inputs(name):
    # no overflow into NaN: exp only sees min(x, 0) in elu's formula, sigmoid's and tanh's read their output
    _, op, top, _ = next(p for p in POINTWISE if p[0] == name)
    check_double(op, top, EXTREME)


def test_mish_extreme_inputs_stay_finite():
    # PyTorch's create_graph mish backward gives NaN at x = 800 and 1e4 (1 - tanh^2 times an overflowed
    # sigmoid term); cnnlab's is 0 there, and equals PyTorch's elsewhere
    check_double(F.mish, TF.mish, EXTREME[:7], order=3)
    x = cnnlab.tensor(EXTREME, requires_grad=True)
    (gx,) = cnnlab.autograd.grad(F.mish(x).sum(), x, create_graph=True)
    (gg,) = cnnlab.autograd.grad(gx.sum(), x)
    assert np.isfinite(gg.numpy()).all()


def test_kinks_follow_pytorch_double_backward():
    # elu at 0 and softplus at beta x == threshold: the first derivative takes the smooth side's value, the
    # second is 0 there (PyTorch's masks: x < 0, beta x < threshold)
    check_double(lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7), np.array([0.0, -1.0, 1.0]), order=3)
    check_double(lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), np.array([1.5, 1.0, 2.0]),
                 order=3)


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_mask_fixed(mode):
    # out = x * noise (a product with a constant): dx = g * noise, d(dx . v)/dg = v * noise, nothing in x
    cnnlab.manual_seed(3)
    x = np.random.default_rng(8).standard_normal((6, 2, 3)) + 3.0
    xt = cnnlab.tensor(x, requires_grad=True)
    out = F.stochastic_depth(xt, 0.5, mode)
    noise = out.detach().numpy() / x
    g = cnnlab.tensor(np.random.default_rng(9).standard_normal(x.shape), requires_grad=True)
    (gx,) = cnnlab.autograd.grad((out * g).sum(), xt, create_graph=True)
    v = np.random.default_rng(10).standard_normal(x.shape)
    dx, dg = cnnlab.autograd.grad((gx * cnnlab.tensor(v)).sum(), (xt, g), allow_unused=True, materialize_grads=True)
    np.testing.assert_allclose(dg.numpy(), v * noise, rtol=1e-12, atol=1e-12)
    assert not dx.numpy().any()


def test_softmax_dtype_argument():
    x = X.astype(np.float32)
    check_double(lambda t: F.log_softmax(t, 1, dtype=cnnlab.float64),
                 lambda t: TF.log_softmax(t, 1, dtype=torch.float64), x, order=3, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "softplus", "elu", "sigmoid", "tanh"])
def test_float32_create_graph_keeps_first_order_values(name):
    # the formula's value is the op's own float32 gradient (its kernels), so create_graph=True does not move
    # first-order numbers (gelu_tanh's tail differed by 4e-6 before); the slope's derivative is computed in float64
    _, op, _, _ = next(p for p in POINTWISE if p[0] == name)
    x = (np.random.default_rng(11).standard_normal(40000) * 5).astype(np.float32)
    g = np.random.default_rng(12).standard_normal(40000).astype(np.float32)
    grads = []
    for create_graph in (False, True):
        xt = cnnlab.tensor(x, requires_grad=True)
        grads.append(cnnlab.autograd.grad((op(xt) * cnnlab.tensor(g)).sum(), xt, create_graph=create_graph)[0])
    assert grads[1].dtype == cnnlab.float32 and grads[1].requires_grad
    np.testing.assert_allclose(grads[1].detach().numpy(), grads[0].numpy(), rtol=1e-6, atol=1e-7)


def test_hardsigmoid_gradgradcheck():
    # PyTorch has no double backward for hardsigmoid; finite differences of cnnlab's (away from the kinks)
    x = cnnlab.tensor(np.array([-4.0, -2.5, -0.3, 0.8, 2.9, 3.5]), requires_grad=True)
    assert cnnlab.autograd.gradgradcheck(F.hardsigmoid, (x,), seed=0)
