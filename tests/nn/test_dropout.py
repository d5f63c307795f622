"""Dropout: the statistics of the mask (fixed seeds), scaling, gradients through the same mask, eval identity,
reproducibility, channel-wise variants and errors. PyTorch draws other random numbers, so it is compared only
where dropout is deterministic (eval, p=0, p=1) and on error behaviour."""
import warnings

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, rand


def gen(seed=0):
    return cnnlab.Generator().manual_seed(seed)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    x = cnnlab.ones(200_000, dtype=cnnlab.float64)
    y = F.dropout(x, p, generator=gen(1)).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - p) < 0.005  # fraction dropped (binomial sd ~ 0.0011)
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-15)  # survivors scaled by 1 / (1 - p)
    assert abs(y.mean() - 1.0) < 0.02  # the mean is preserved


def test_dropout_mean_preserved_on_random_data():
    x = rand(400, 500, seed=2, low=0.0, high=2.0)
    y = F.dropout(cnnlab.tensor(x), 0.3, generator=gen(3)).numpy()
    assert abs(y.mean() - x.mean()) < 0.01


@pytest.mark.parametrize("p", [0.2, 0.5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_gradient_is_mask_times_scale(p, dtype):
    x = cnnlab.tensor(rand(30, 40, seed=4, low=0.5, high=1.5).astype(dtype), requires_grad=True)
    y = F.dropout(x, p, generator=gen(5))
    g = rand(30, 40, seed=6).astype(dtype)
    y.backward(cnnlab.tensor(g))
    mask = (y.detach().numpy() != 0)  # inputs are positive, so zero outputs are exactly the dropped ones
    assert 0 < mask.mean() < 1
    np.testing.assert_allclose(x.grad.numpy(), g * mask / dtype(1 - p), rtol=1e-6 if dtype == np.float32 else 1e-15)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * mask / dtype(1 - p), rtol=1e-6)
    assert y.dtype == x.dtype and x.grad.dtype == x.dtype


def test_dropout_same_seed_same_mask():
    x = cnnlab.ones(50, 60)
    a = F.dropout(x, 0.4, generator=gen(7)).numpy()
    b = F.dropout(x, 0.4, generator=gen(7)).numpy()
    c = F.dropout(x, 0.4, generator=gen(8)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    cnnlab.manual_seed(11)
    d = F.dropout(x, 0.4).numpy()
    e = F.dropout(x, 0.4).numpy()  # the default generator moves on
    cnnlab.manual_seed(11)
    np.testing.assert_array_equal(F.dropout(x, 0.4).numpy(), d)
    np.testing.assert_array_equal(F.dropout(x, 0.4).numpy(), e)
    assert not np.array_equal(d, e)
    # the mask does not depend on the dtype
    np.testing.assert_array_equal(F.dropout(x.double(), 0.4, generator=gen(7)).numpy() != 0, a != 0)


@pytest.mark.parametrize("fn,shape", [(F.dropout, (2, 3)), (F.dropout1d, (2, 3, 4)), (F.dropout2d, (2, 3, 4, 5)),
                                      (F.dropout3d, (2, 3, 4, 5, 6)), (F.alpha_dropout, (4,)),
                                      (F.feature_alpha_dropout, (2, 3, 4))])
def test_eval_mode_and_p0_return_the_input(fn, shape):
    x = cnnlab.tensor(rand(*shape, seed=1), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fn(x, 0.5, training=False) is x
        assert fn(x, 0.0, training=True) is x


def test_eval_and_p1_match_torch():
    x = rand(3, 4, 5, seed=2)
    check(lambda lib, x: lib.F.dropout(x, 0.5, training=False) * 2, x)
    check(lambda lib, x: lib.F.dropout(x, 1.0), x)  # zeros, zero gradient
    check(lambda lib, x: lib.F.dropout(x, 0.0) * 3, x)
    check(lambda lib, x: lib.F.dropout2d(x[None], 1.0), x)
    check(lambda lib, x: lib.F.alpha_dropout(x, 1.0, training=True), x)
    check(lambda lib, x: lib.F.alpha_dropout(x, 0.3), x)  # training=False by default, as in PyTorch


def _channel_constant(y, spatial_axes):
    return np.array_equal(y.max(axis=spatial_axes), y.min(axis=spatial_axes))


@pytest.mark.parametrize("fn,shape,spatial", [
    (F.dropout1d, (8, 16, 5), (2,)), (F.dropout1d, (16, 5), (1,)),
    (F.dropout2d, (8, 16, 3, 3), (2, 3)), (F.dropout2d, (8, 16, 3), (2,)),  # 3-d: PyTorch's legacy (N, C, L)
    (F.dropout3d, (4, 16, 2, 3, 2), (2, 3, 4)), (F.dropout3d, (16, 2, 3, 2), (1, 2, 3))])
def test_channel_dropout_zeroes_whole_channels(fn, shape, spatial):
    x = cnnlab.ones(*shape, dtype=cnnlab.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = fn(x, 0.5, generator=gen(2))
    out = y.detach().numpy()
    assert _channel_constant(out, spatial)
    assert set(np.unique(out)) == {0.0, 2.0}
    g = rand(*shape, seed=3)
    y.backward(cnnlab.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * out)  # mask * 1/(1-p) == out for an all-ones input


def test_channel_dropout_fraction():
    y = F.dropout2d(cnnlab.ones(100, 200, 2, 2), 0.25, generator=gen(4)).numpy()
    assert abs((y[:, :, 0, 0] == 0).mean() - 0.25) < 0.01


def test_dropout2d_warnings_like_torch():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(cnnlab.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        F.dropout2d(cnnlab.ones(2, 3, 4, 2, 2))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(cnnlab.ones(2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(cnnlab.ones(2, 3, 4, 4))
        F.dropout3d(cnnlab.ones(2, 3, 4, 4))


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(p):
    x = np.random.default_rng(0).standard_normal(400_000)
    y = F.alpha_dropout(cnnlab.tensor(x), p, training=True, generator=gen(5)).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.02
    # dropped units all take one value: a * (-alpha') + b
    alpha_p = 1.7580993408473766
    a = 1 / np.sqrt((alpha_p ** 2 * p + 1) * (1 - p))
    dropped_value = -alpha_p * a + alpha_p * a * p
    assert abs((np.isclose(y, dropped_value)).mean() - p) < 0.005


def test_alpha_dropout_gradient():
    x = cnnlab.tensor(rand(40, 50, seed=1), requires_grad=True)
    y = F.alpha_dropout(x, 0.3, training=True, generator=gen(6))
    y.sum().backward()
    alpha_p = 1.7580993408473766
    a = 1 / np.sqrt((alpha_p ** 2 * 0.3 + 1) * 0.7)
    kept = x.grad.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy()[kept], a, rtol=1e-14)
    np.testing.assert_allclose(y.detach().numpy()[kept], x.detach().numpy()[kept] * a + alpha_p * a * 0.3,
                               rtol=1e-12)
    assert 0.6 < kept.mean() < 0.8


def test_feature_alpha_dropout_whole_channels():
    y = F.feature_alpha_dropout(cnnlab.zeros(4, 32, 3, 3, dtype=cnnlab.float64), 0.5, training=True,
                                generator=gen(1)).numpy()
    assert _channel_constant(y, (2, 3)) and len(np.unique(y)) == 2


@pytest.mark.parametrize("fn", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout])
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_p_out_of_range(fn, p):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: dropout probability p must be between 0 and 1. Got p={p}."):
        fn(cnnlab.ones(2, 3, 4, 4, 4), p)  # p is checked first, before the input's rank (as in PyTorch)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(torch.nn.functional, fn.__name__)(torch.ones(2, 3, 4, 4, 4), p)


def test_other_errors():
    with pytest.raises(RuntimeError, match=r"dropout1d: expects a 2-d \(C, L\) or 3-d \(N, C, L\) input. "
                                           r"Got input.shape=\(2, 3, 4, 5\)."):
        F.dropout1d(cnnlab.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError):
        torch.nn.functional.dropout1d(torch.ones(2, 3, 4, 5))
    with pytest.raises(TypeError, match="dropout: input must be a floating-point tensor. Got dtype=cnnlab.int64"):
        F.dropout(cnnlab.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="generator must be a cnnlab.Generator"):
        F.dropout(cnnlab.ones(3), generator=np.random.default_rng(0))


def test_inplace_flag_accepted():
    x = cnnlab.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True, generator=gen(0))
    assert y.shape == x.shape and float(x.sum()) == 100.0
