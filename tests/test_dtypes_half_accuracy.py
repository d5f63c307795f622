"""float16 accuracy against PyTorch: ops that PyTorch computes in float32 and rounds once (cumsum,
batch/layer/group/instance norm, average pooling) must not accumulate in float16."""
import numpy as np
import pytest

import cnnlab

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def test_float16_cumsum_accumulates_in_float32_like_torch():
    a = np.random.default_rng(7).random(20000).astype(np.float16)
    x, px = cnnlab.from_numpy(a).requires_grad_(), torch.from_numpy(a).requires_grad_()
    c, p = x.cumsum(0), px.cumsum(0)
    assert c.dtype == cnnlab.float16
    np.testing.assert_array_equal(c.detach().numpy(), p.detach().numpy())  # a float16 running sum stalls at 2048
    g = np.ones(20000, np.float16)
    c.backward(cnnlab.from_numpy(g))
    p.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(x.grad.numpy(), px.grad.numpy())


_NORMS = {
    "batch_norm_train": lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True),
    "batch_norm_eval": lambda L, x: L.nn.functional.batch_norm(
        x, L.full((4,), 1.25, dtype=x.dtype), L.full((4,), 0.3, dtype=x.dtype), L.full((4,), 1.5, dtype=x.dtype),
        L.full((4,), 0.1, dtype=x.dtype), training=False),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, (4, 16, 16)),
    "group_norm": lambda L, x: L.nn.functional.group_norm(x, 2),
    "instance_norm": lambda L, x: L.nn.functional.instance_norm(x),
}


@pytest.mark.parametrize("op", sorted(_NORMS))
def test_float16_normalisation_is_computed_in_float32_and_rounded_once(op):
    """PyTorch computes these float16 ops in float32 (its batch and instance norm less exactly than float32
    then rounding, up to ~2e-3 off here); cnnlab computed the statistics in float16 (layer norm ~85 float16
    steps off, batch norm 0.005 off on 2x4x64x64 data in [1, 2))."""
    a = (np.random.default_rng(8).random((2, 4, 16, 16)) + 1).astype(np.float16)
    g = np.random.default_rng(9).standard_normal(a.shape).astype(np.float16)
    x = cnnlab.from_numpy(a.copy()).requires_grad_()
    y = _NORMS[op](cnnlab, x)
    (y * cnnlab.from_numpy(g)).sum().backward()
    assert y.dtype == cnnlab.float16 and x.grad.dtype == cnnlab.float16
    px = torch.from_numpy(a.astype(np.float32)).requires_grad_()  # PyTorch in float32, rounded once
    py = _NORMS[op](torch, px)
    (py * torch.from_numpy(g.astype(np.float32))).sum().backward()
    ref, ref_grad = py.detach().half().float().numpy(), px.grad.half().float().numpy()
    np.testing.assert_allclose(y.detach().float().numpy(), ref, rtol=2 ** -10, atol=2 ** -14)
    np.testing.assert_allclose(x.grad.float().numpy(), ref_grad, rtol=2 ** -8, atol=2 ** -8)
    p16 = _NORMS[op](torch, torch.from_numpy(a))
    assert p16.dtype == torch.float16
    np.testing.assert_allclose(y.detach().float().numpy(), p16.float().numpy(), rtol=0, atol=4e-3)


@pytest.mark.parametrize("op", [
    lambda L, x: L.nn.functional.avg_pool2d(x, 8), lambda L, x: L.nn.functional.avg_pool2d(x, 3, 2, 1),
    lambda L, x: L.nn.functional.avg_pool2d(x, 4, divisor_override=3), lambda L, x: L.nn.functional.avg_pool1d(
        x.flatten(2), 50), lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1),
    lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (5, 3)), lambda L, x: L.nn.functional.adaptive_avg_pool2d(
        x, (64, 64))])
def test_float16_average_pooling_sums_in_float32_like_torch(op):
    a = (np.random.default_rng(10).random((2, 3, 64, 64)) + 1).astype(np.float16)
    x, px = cnnlab.from_numpy(a.copy()).requires_grad_(), torch.from_numpy(a.copy()).requires_grad_()
    y, py = op(cnnlab, x), op(torch, px)
    assert y.dtype == cnnlab.float16 and py.dtype == torch.float16
    np.testing.assert_array_equal(y.detach().numpy(), py.detach().numpy())  # one rounding of a float32 sum
    g = np.random.default_rng(11).standard_normal(tuple(py.shape)).astype(np.float16)
    y.backward(cnnlab.from_numpy(g))
    py.backward(torch.from_numpy(g))
    assert x.grad.dtype == cnnlab.float16
    # where windows overlap PyTorch adds the gradient's pieces in float16 (a few steps off); cnnlab adds them in
    # float32 and rounds once: one step from PyTorch's float32 gradient
    p32 = torch.from_numpy(a.astype(np.float32)).requires_grad_()
    op(torch, p32).backward(torch.from_numpy(g.astype(np.float32)))
    np.testing.assert_allclose(x.grad.float().numpy(), p32.grad.half().float().numpy(), rtol=2 ** -10, atol=2 ** -24)
    np.testing.assert_allclose(x.grad.float().numpy(), px.grad.float().numpy(), rtol=2 ** -7, atol=2 ** -11)
