"""nn.init: gains and fans equal PyTorch's; every distribution checked on large fixed-seed samples (bounds for the
uniform ones, mean and std within a few standard errors for all); in place, returns the tensor, records no graph;
seeding and generator=; the layers' default initialisation."""
import math

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
from cnnlab.nn import init


@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_equals_torch(name, param):
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_calculate_gain_errors_like_torch():
    for args, msg in ((("swish",), "Unsupported nonlinearity swish"),
                      (("leaky_relu", "x"), "negative_slope x not a valid number"),
                      (("leaky_relu", True), "negative_slope True not a valid number")):
        with pytest.raises(ValueError, match=msg):
            init.calculate_gain(*args)
        with pytest.raises(ValueError, match=msg):
            torch.nn.init.calculate_gain(*args)


@pytest.mark.parametrize("shape", [(5, 3), (16, 3, 5, 5), (4, 2, 3), (8, 4, 2, 3, 1), (1, 7)])
def test_fans_equal_torch(shape):
    assert init._calculate_fan_in_and_fan_out(cnnlab.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(cnnlab.empty(5))
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(cnnlab.empty(3, 4), mode="fan_avg")


N = 200_000


def _stats(t):
    a = t.numpy().astype(np.float64).ravel()
    return a, a.mean(), a.std()


def _check_moments(a, mean, std, k=5.0):
    """Sample mean within k standard errors; sample std within k standard errors of the std (normal approx)."""
    n = a.size
    assert abs(a.mean() - mean) < k * std / math.sqrt(n) + 1e-12, (a.mean(), mean)
    assert abs(a.std() - std) < k * std * math.sqrt(2.0 / n) * 1.5 + 1e-12, (a.std(), std)


@pytest.mark.parametrize("dtype", [cnnlab.float32, cnnlab.float64])
def test_uniform_and_normal(dtype):
    cnnlab.manual_seed(0)
    t = cnnlab.empty(N, dtype=dtype)
    assert init.uniform_(t, -2.0, 3.0) is t and t.dtype == dtype
    a = t.numpy()
    assert a.min() >= -2.0 and a.max() <= 3.0 and a.min() < -1.99 and a.max() > 2.99
    _check_moments(a.astype(np.float64), 0.5, 5 / math.sqrt(12))
    init.normal_(t, 1.5, 0.3)
    _check_moments(t.numpy().astype(np.float64), 1.5, 0.3)


def test_constant_ones_zeros_eye_dirac():
    t = cnnlab.empty(3, 4)
    assert init.constant_(t, 2.5) is t and np.all(t.numpy() == 2.5)
    assert np.all(init.ones_(t).numpy() == 1) and np.all(init.zeros_(t).numpy() == 0)
    np.testing.assert_array_equal(init.eye_(cnnlab.empty(3, 5)).numpy(), torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(cnnlab.empty(2, 2, 2))
    for shape, groups in (((4, 4, 3, 3), 1), ((6, 2, 3), 2), ((4, 6, 2, 3, 3), 2), ((3, 5, 3, 3), 1)):
        np.testing.assert_array_equal(init.dirac_(cnnlab.empty(*shape), groups).numpy(),
                                      torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())


def test_dirac_conv_is_identity():
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    init.dirac_(conv.weight)
    x = cnnlab.randn(1, 3, 5, 5)
    np.testing.assert_allclose(conv(x).detach().numpy(), x.numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn,kw,shape,bound,std", [
    ("xavier_uniform_", {}, (400, 500), math.sqrt(6 / 900), None),
    ("xavier_uniform_", dict(gain=2.0), (20, 30, 3, 3), 2 * math.sqrt(6 / 450), None),
    ("kaiming_uniform_", {}, (500, 400), math.sqrt(2) * math.sqrt(3 / 400), None),  # a=0: slope 0
    ("kaiming_uniform_", dict(a=math.sqrt(5)), (64, 30, 5, 5), 1 / math.sqrt(750), None),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), (40, 50, 3, 3), math.sqrt(2) * math.sqrt(3 / 360), None),
    ("xavier_normal_", {}, (400, 500), None, math.sqrt(2 / 900)),
    ("xavier_normal_", dict(gain=0.5), (20, 30, 3, 3), None, 0.5 * math.sqrt(2 / 450)),
    ("kaiming_normal_", {}, (500, 400), None, math.sqrt(2) / math.sqrt(400)),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu"), (40, 50, 3, 3), None, math.sqrt(2 / 360)),
    ("kaiming_normal_", dict(a=0.2, nonlinearity="leaky_relu"), (64, 30, 5, 5), None,
     math.sqrt(2 / 1.04) / math.sqrt(750)),
])
def test_xavier_kaiming_distributions(fn, kw, shape, bound, std):
    cnnlab.manual_seed(1)
    t = cnnlab.empty(*shape, dtype=cnnlab.float64)
    assert getattr(init, fn)(t, **kw) is t
    a = t.numpy().ravel()
    if bound is not None:
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.999 * bound
        _check_moments(a, 0.0, bound / math.sqrt(3))
    else:
        _check_moments(a, 0.0, std)
    # torch's function on a tensor of the same shape draws from the same distribution (compare the spread;
    # the ratio of two sample stds has a standard error of about 1/sqrt(n), so allow five of them)
    torch.manual_seed(1)
    ref = getattr(torch.nn.init, fn)(torch.empty(*shape, dtype=torch.float64), **kw).numpy()
    assert abs(a.std() / ref.std() - 1) < 5 / math.sqrt(a.size)


def _trunc_normal_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) truncated to [a, b] (the textbook formulas)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = (phi(alpha) - phi(beta)) / z
    var = 1 + (alpha * phi(alpha) - beta * phi(beta)) / z - m * m
    return mean + std * m, std * math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [
    (0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.0, 1.5), (0.0, 1.0, 2.5, 4.0),
    (0.0, 1.0, -6.0, -3.0), (0.0, 1.0, 3.0, 1e9), (0.5, 0.1, -10.0, 10.0),
])
def test_trunc_normal(mean, std, a, b):
    cnnlab.manual_seed(2)
    t = cnnlab.empty(N, dtype=cnnlab.float64)
    assert init.trunc_normal_(t, mean, std, a, b) is t
    x = t.numpy()
    assert x.min() >= a and x.max() <= b
    m, s = _trunc_normal_moments(mean, std, a, b)
    _check_moments(x, m, s)
    if a - 2 * std <= mean <= b + 2 * std:  # torch's inverse-CDF sampler is only meant for this case
        ref = torch.nn.init.trunc_normal_(torch.empty(N, dtype=torch.float64), mean, std, a, b).numpy()
        assert abs(x.mean() - ref.mean()) < 6 * s / math.sqrt(N) and abs(x.std() / ref.std() - 1) < 0.02


def test_trunc_normal_errors():
    with pytest.raises(ValueError, match="trunc_normal_: b must be greater than a. Got a=1.0, b=1.0."):
        init.trunc_normal_(cnnlab.empty(3), a=1.0, b=1.0)


@pytest.mark.parametrize("shape,gain", [((6, 6), 1.0), ((3, 8), 2.0), ((8, 3), 1.0), ((4, 2, 3, 3), 0.5)])
def test_orthogonal(shape, gain):
    t = init.orthogonal_(cnnlab.empty(*shape, dtype=cnnlab.float64), gain=gain)
    flat = t.numpy().reshape(shape[0], -1)
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(small), atol=1e-10)


def test_in_place_without_graph_and_on_parameters():
    p = nn.Parameter(cnnlab.empty(4, 3))
    arr = p.detach().numpy()
    out = init.kaiming_uniform_(p, a=math.sqrt(5))
    assert out is p and p.requires_grad and p.is_leaf and p.grad_fn is None
    assert np.shares_memory(arr, p.detach().numpy()) and arr.any()
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_normal_(cnnlab.empty(0, 3))


def test_seeding_and_generator():
    cnnlab.manual_seed(5)
    a = init.normal_(cnnlab.empty(10)).numpy().copy()
    cnnlab.manual_seed(5)
    b = init.normal_(cnnlab.empty(10)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = cnnlab.Generator().manual_seed(7), cnnlab.Generator().manual_seed(7)
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
               init.kaiming_normal_, init.trunc_normal_, init.orthogonal_):
        x = fn(cnnlab.empty(5, 4), generator=g1).numpy()
        y = fn(cnnlab.empty(5, 4), generator=g2).numpy()
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(init.normal_(cnnlab.empty(10), generator=g1).numpy(), a)


def test_layer_default_initialisation():
    cnnlab.manual_seed(3)
    conv = nn.Conv2d(32, 64, 5)
    fan_in = 32 * 25
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(fan_in) and np.abs(b).max() <= 1 / math.sqrt(fan_in)
    _check_moments(w.astype(np.float64).ravel(), 0.0, 1 / math.sqrt(fan_in) / math.sqrt(3))
    lin = nn.Linear(300, 200)
    assert np.abs(lin.weight.detach().numpy()).max() <= 1 / math.sqrt(300)
    assert np.abs(lin.weight.detach().numpy()).max() > 0.99 / math.sqrt(300)
    convt = nn.ConvTranspose2d(16, 8, 3, groups=2)  # weight (16, 4, 3, 3): fan_in = 4 * 9, as PyTorch
    assert np.abs(convt.bias.detach().numpy()).max() <= 1 / 6
    bn = nn.BatchNorm2d(5)
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.running_var.tolist() == [1.0] * 5
    with cnnlab.no_grad():
        lin.weight.fill_(0.0)
        bn.running_mean.fill_(3.0)
    lin.reset_parameters()
    bn.reset_parameters()
    assert lin.weight.detach().numpy().any() and bn.running_mean.tolist() == [0.0] * 5
    assert nn.Bilinear(20, 3, 4).weight.detach().numpy().max() <= 1 / math.sqrt(20)
    assert nn.PReLU(3).weight.tolist() == pytest.approx([0.25] * 3)
    assert nn.Conv1d(2, 4, 3, dtype=cnnlab.float64).weight.dtype == cnnlab.float64
