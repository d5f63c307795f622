"""Double backward of the normalisation ops against PyTorch (float64): batch norm (training and evaluation),
instance, layer and group norm, local response norm and normalize; the gradient of (grad . v) with respect to
the input, weight, bias and the upstream gradient, third order on a few."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
import torch.nn.functional as TF

from double_nn import check_double

R = np.random.default_rng(18)


# PyTorch's native batch/layer/instance norm double backward uses the saved statistics as constants, so its
# THIRD order is not the derivative of its second (differs from the same norm composed of mean, pow and mul,
# which agree with each other and with cnnlab). Third orders are checked against these compositions.
def _t_standardize(x, axes, eps=1e-5):
    xc = x - x.mean(axes, keepdim=True)
    return xc * ((xc * xc).mean(axes, keepdim=True) + eps) ** -0.5


def _t_affine(xhat, w, b, param_shape):
    out = xhat if w is None else xhat * w.reshape(param_shape)
    return out if b is None else out + b.reshape(param_shape)


def t_batch_norm(x, w=None, b=None, eps=1e-5):
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return _t_affine(_t_standardize(x, (0,) + tuple(range(2, x.ndim)), eps), w, b, shape)


def t_layer_norm(x, nshape, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - len(nshape), x.ndim))
    return _t_affine(_t_standardize(x, axes, eps), w, b, nshape)


def t_group_norm(x, groups, w=None, b=None):
    xhat = _t_standardize(x.reshape(x.shape[0], groups, -1), (2,)).reshape(x.shape)
    return _t_affine(xhat, w, b, (1, x.shape[1]) + (1,) * (x.ndim - 2))


def t_instance_norm(x, w=None, b=None):
    return _t_affine(_t_standardize(x, tuple(range(2, x.ndim))), w, b, (1, x.shape[1]) + (1,) * (x.ndim - 2))


def test_pytorch_native_third_order_differs_from_its_composition():
    # the reason for the references above (if PyTorch fixes it, the native ops can be the reference again)
    torch.manual_seed(0)
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    g, v, u = (torch.randn(4, 5, dtype=torch.float64) for _ in range(3))
    thirds = []
    for f in (lambda a: TF.layer_norm(a, (5,)), lambda a: t_layer_norm(a, (5,))):
        (gx,) = torch.autograd.grad((f(x) * g).sum(), x, create_graph=True)
        (s,) = torch.autograd.grad((gx * v).sum(), x, create_graph=True)
        thirds.append(torch.autograd.grad((s * u).sum(), x)[0])
    assert not torch.allclose(*thirds)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 5), (2, 3, 4, 3), (2, 3, 2, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    x = R.standard_normal(shape) * 2 + 1
    C = shape[1]
    if affine:
        w, b = R.random(C) + 0.5, R.standard_normal(C)
        cl = lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True)  # noqa: E731
        check_double(cl, lambda a, w, b: TF.batch_norm(a, None, None, w, b, training=True), x, w, b)
        check_double(cl, t_batch_norm, x, w, b, order=3)
    else:
        cl = lambda a: F.batch_norm(a, None, None, training=True, eps=0.1)  # noqa: E731
        check_double(cl, lambda a: TF.batch_norm(a, None, None, training=True, eps=0.1), x)
        check_double(cl, lambda a: t_batch_norm(a, eps=0.1), x, order=3)


def test_batch_norm_training_with_running_stats():
    x = R.standard_normal((4, 3, 5))
    rm, rv = R.standard_normal(3), R.random(3) + 0.5
    check_double(lambda a, w: F.batch_norm(a, cnnlab.tensor(rm), cnnlab.tensor(rv), w, None, training=True),
                 lambda a, w: TF.batch_norm(a, torch.tensor(rm), torch.tensor(rv), w, None, training=True),
                 x, R.random(3) + 0.5)


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval(affine):
    x = R.standard_normal((4, 3, 2, 2))
    rm, rv = R.standard_normal(3), R.random(3) + 0.5
    if affine:
        check_double(lambda a, w, b: F.batch_norm(a, cnnlab.tensor(rm), cnnlab.tensor(rv), w, b),
                     lambda a, w, b: TF.batch_norm(a, torch.tensor(rm), torch.tensor(rv), w, b),
                     x, R.random(3) + 0.5, R.standard_normal(3), order=3)
    else:
        check_double(lambda a: F.batch_norm(a, cnnlab.tensor(rm), cnnlab.tensor(rv)),
                     lambda a: TF.batch_norm(a, torch.tensor(rm), torch.tensor(rv)), x)


@pytest.mark.parametrize("shape,nshape", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((6,), (6,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(shape, nshape, affine):
    x = R.standard_normal(shape)
    if affine:
        w, b = R.random(nshape) + 0.5, R.standard_normal(nshape)
        cl = lambda a, w, b: F.layer_norm(a, nshape, w, b)  # noqa: E731
        check_double(cl, lambda a, w, b: TF.layer_norm(a, nshape, w, b), x, w, b)
        check_double(cl, lambda a, w, b: t_layer_norm(a, nshape, w, b), x, w, b, order=3)
    else:
        cl = lambda a: F.layer_norm(a, nshape, eps=0.01)  # noqa: E731
        check_double(cl, lambda a: TF.layer_norm(a, nshape, eps=0.01), x)
        check_double(cl, lambda a: t_layer_norm(a, nshape, eps=0.01), x, order=3)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((2, 4, 2, 3), 2), ((3, 4), 4), ((2, 6, 2, 2), 1)])
def test_group_norm(shape, groups):
    x = R.standard_normal(shape)
    C = shape[1]
    w, b = R.random(C) + 0.5, R.standard_normal(C)
    cl = lambda a, w, b: F.group_norm(a, groups, w, b)  # noqa: E731
    check_double(cl, lambda a, w, b: TF.group_norm(a, groups, w, b), x, w, b)
    check_double(cl, lambda a, w, b: t_group_norm(a, groups, w, b), x, w, b, order=3)
    check_double(lambda a: F.group_norm(a, groups), lambda a: TF.group_norm(a, groups), x)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 2, 3)])
def test_instance_norm(shape):
    x = R.standard_normal(shape)
    w, b = R.random(3) + 0.5, R.standard_normal(3)
    cl = lambda a, w, b: F.instance_norm(a, weight=w, bias=b)  # noqa: E731
    check_double(cl, lambda a, w, b: TF.instance_norm(a, weight=w, bias=b), x, w, b)
    check_double(cl, t_instance_norm, x, w, b, order=3)
    rm, rv = R.standard_normal(3), R.random(3) + 0.5
    check_double(lambda a: F.instance_norm(a, cnnlab.tensor(rm), cnnlab.tensor(rv), use_input_stats=False),
                 lambda a: TF.instance_norm(a, torch.tensor(rm), torch.tensor(rv), use_input_stats=False), x)


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_local_response_norm(size):
    x = R.standard_normal((2, 5, 3, 2))
    kw = dict(size=size, alpha=0.5, beta=0.8, k=1.5)
    check_double(lambda a: F.local_response_norm(a, **kw), lambda a: TF.local_response_norm(a, **kw), x,
                 order=3 if size == 3 else 2)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), float("-inf"), 0.0])
@pytest.mark.parametrize("dim", [1, -1, 0])
def test_normalize(p, dim):
    x = R.standard_normal((3, 4, 2))
    check_double(lambda a: F.normalize(a, p, dim), lambda a: TF.normalize(a, p, dim), x,
                 order=3 if p in (2.0, 3.0) else 2)


def test_normalize_below_eps_and_scalar():
    x = R.standard_normal((3, 4)) * 1e-3
    check_double(lambda a: F.normalize(a, 2.0, 1, eps=1e-2), lambda a: TF.normalize(a, 2.0, 1, eps=1e-2), x,
                 order=3)
    check_double(lambda a: F.normalize(a, 2.0, 0), lambda a: TF.normalize(a, 2.0, 0), np.array(-0.7))


def test_float32_second_order_recomputes_statistics_in_float64():
    # data far from zero: the formula recomputes the statistics in float64, so the float32 second derivative
    # is within float32 rounding of the float64 one (PyTorch's float32 is ~6e-5 away here)
    x = (R.random((8, 3, 6, 6)) * 2 - 1 + 1000.0).astype(np.float32)
    g, v = R.standard_normal(x.shape), R.standard_normal(x.shape)
    second = {}
    for dt in (np.float32, np.float64):
        xt = cnnlab.tensor(x.astype(dt), requires_grad=True)
        out = F.batch_norm(xt, None, None, training=True) * cnnlab.tensor(g.astype(dt))
        (gx,) = cnnlab.autograd.grad(out.sum(), xt, create_graph=True)
        second[dt] = cnnlab.autograd.grad((gx * cnnlab.tensor(v.astype(dt))).sum(), xt)[0]
    assert second[np.float32].dtype == cnnlab.float32
    np.testing.assert_allclose(second[np.float32].numpy(), second[np.float64].numpy(), rtol=1e-5, atol=1e-6)


def test_empty_inputs():
    # an input without elements: an empty output, zero gradients for weight and bias, at every order
    x, w, b = np.zeros((0, 4)), R.random(4) + 0.5, R.standard_normal(4)
    check_double(lambda a, w, b: F.layer_norm(a, (4,), w, b), lambda a, w, b: TF.layer_norm(a, (4,), w, b), x, w, b)
    check_double(lambda a, w, b: F.group_norm(a, 2, w, b), lambda a, w, b: TF.group_norm(a, 2, w, b), x, w, b)


@pytest.mark.parametrize("p", [3.0, 2.0, 1.0, float("inf"), 0.5, -1.0])
def test_normalize_slice_below_eps(p):
    # a slice whose norm is below eps is divided by the constant eps: its norm leaves the graph, so the second
    # derivatives stay finite (PyTorch's are NaN there for p = 2, 0.5 and -1; they agree for the others)
    x = R.standard_normal((3, 4))
    x[:, 1] = 0.0
    fn = lambda a: F.normalize(a, p, 0)  # noqa: E731
    if p in (2.0, 0.5, -1.0):
        xt = cnnlab.tensor(x, requires_grad=True)
        (gx,) = cnnlab.autograd.grad((fn(xt) * cnnlab.tensor(R.standard_normal(x.shape))).sum(), xt, create_graph=True)
        assert np.isfinite(cnnlab.autograd.grad((gx * gx).sum(), xt)[0].numpy()).all()
    else:
        check_double(fn, lambda a: TF.normalize(a, p, 0), x)
