"""The batch-norm backward kernel's two forms (kernels/batchnorm.py train_backward): with the mean folded into
the shift (data near zero for its spread: no x - mean pass) and with x - mean first (data far from zero), each
against the float64 closed form."""
import numpy as np
import pytest

from cnnlab.kernels import batchnorm
from oracle import rand


def _closed_form(g, x, w):
    """float64 dx, dweight, dbias of out = (x - mean) * invstd * w + b with the batch statistics; and mean, invstd."""
    g, x = g.astype(np.float64), x.astype(np.float64)
    mean, invstd = x.mean(axis=(0, 2)), 1 / np.sqrt(x.var(axis=(0, 2)) + 1e-5)
    xhat = (x - mean[:, None]) * invstd[:, None]
    dw, db = (g * xhat).sum(axis=(0, 2)), g.sum(axis=(0, 2))
    dx = (w * invstd)[:, None] * (g - g.mean(axis=(0, 2))[:, None] - xhat * (g * xhat).mean(axis=(0, 2))[:, None])
    return dx, dw, db, mean, invstd


@pytest.mark.parametrize("offset,folded", [(0.0, True), (5.0, True), (1000.0, False)])
@pytest.mark.parametrize("in_place", [False, True])
def test_batch_norm_backward_folds_the_mean_only_near_zero(monkeypatch, offset, folded, in_place):
    """train_backward takes sum(g * x) - mean * sum(g) and B * x + (D - B * mean) only where |mean| / std <=
    FOLD_MAX_RATIO (std 0.58 here: offsets 0 and 5 fold, 1000 does not); either way the float32 gradients stay
    within 2e-6 of float64 (dx relative to its largest value, dweight to the sum of |g * xhat|), plus (far from
    zero) the float32 spacing of the data there, scaled. dx may be written over g itself."""
    calls = []
    real = batchnorm.folds
    monkeypatch.setattr(batchnorm, "folds", lambda *a: calls.append(real(*a)) or calls[-1])
    x = (rand(4, 3, 50, seed=35, low=-1, high=1) + offset).astype(np.float32)
    g = (rand(4, 3, 50, seed=36) + 0.3).astype(np.float32)  # a gradient with a mean: sum(g) * mean is large
    w = np.array([0.5, 1.0, 2.0], np.float32)
    want_dx, want_dw, want_db, mean, invstd = _closed_form(g, x, w)
    scale_dw = np.abs(g.astype(np.float64) * (x - mean[:, None]) * invstd[:, None]).sum(axis=(0, 2))
    g_in = g.copy()
    dx, dw, db = batchnorm.train_backward(g_in, x, mean, invstd, w, True, True, True,
                                          out=g_in if in_place else None)
    assert calls == [folded] and dx.dtype == np.float32 and (dx is g_in) == in_place
    spacing = 0.0 if folded else float(np.spacing(np.float32(offset))) * float(invstd.max())
    assert np.abs(dx - want_dx).max() <= 2e-6 * np.abs(want_dx).max() + spacing * float(w.max()) * 2
    assert np.all(np.abs(dw - want_dw) <= 2e-6 * scale_dw + spacing * np.abs(g).sum(axis=(0, 2)))
    np.testing.assert_allclose(db, want_db, rtol=1e-6)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_batch_norm_backward_with_a_nonfinite_gradient_matches_torch(bad):
    """An inf in the upstream gradient of data near zero: the folded sum(g * x) - mean * sum(g) would be
    inf - inf = NaN where PyTorch's sum(g * (x - mean)) is +-inf, so the kernel takes x - mean first again."""
    import torch

    import cnnlab
    x = (rand(4, 3, 5, seed=37) + 0.5).astype(np.float32)
    g = rand(4, 3, 5, seed=38).astype(np.float32)
    g[1, 0, 2] = bad
    got = []
    for lib in (torch, cnnlab):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(np.full(3, 2.0, np.float32), requires_grad=True)
        lib.nn.functional.batch_norm(xt, None, None, wt, training=True).backward(lib.tensor(g))
        got.append((xt.grad.numpy(), wt.grad.numpy()))
    for want, have in zip(*got):
        np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-6)  # NaN and +-inf where PyTorch's are
