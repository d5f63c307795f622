"""Batch norm folded into the convolution before it: torch.nn.utils.fusion's functions against PyTorch, and the
on-the-fly folding of nn.Sequential in inference (same values as layer by layer, and only where it is allowed)."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
from cnnlab.nn.modules import fusion
from cnnlab.nn.utils.fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval

from tests.oracle import rand


def _t(arr):
    return torch.from_numpy(np.array(arr, copy=True))


def _c(arr):
    return cnnlab.from_numpy(np.array(arr, copy=True))


def _bn_stats(c, seed):
    return (rand(c, seed=seed), rand(c, seed=seed + 1, low=0.2, high=2.0), rand(c, seed=seed + 2),
            rand(c, seed=seed + 3))


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("with_bias,affine", [(True, True), (False, True), (True, False), (False, False)])
def test_fuse_conv_bn_weights_matches_torch(transpose, with_bias, affine):
    w = rand(4, 3, 3, 3, seed=1) if not transpose else rand(3, 4, 3, 3, seed=1)
    b = rand(4, seed=2) if with_bias else None
    rm, rv, gamma, beta = _bn_stats(4, 10)
    if not affine:
        gamma = beta = None
    args = [w, b, rm, rv, 1e-3, gamma, beta]
    mine = fuse_conv_bn_weights(*[None if a is None else (_c(a) if isinstance(a, np.ndarray) else a) for a in args],
                                transpose=transpose)
    ref = torch.nn.utils.fusion.fuse_conv_bn_weights(
        *[None if a is None else (_t(a) if isinstance(a, np.ndarray) else a) for a in args], transpose=transpose)
    for m, r in zip(mine, ref):
        np.testing.assert_allclose(m.detach().numpy(), r.detach().numpy(), rtol=1e-13, atol=1e-15)
        assert type(m).__name__ == "Parameter" and m.requires_grad == r.requires_grad


def _pair(lib, dims, seed=0):
    conv = {1: lib.nn.Conv1d, 2: lib.nn.Conv2d, 3: lib.nn.Conv3d}[dims](3, 4, 3, padding=1, bias=seed % 2 == 0)
    bn = {1: lib.nn.BatchNorm1d, 2: lib.nn.BatchNorm2d, 3: lib.nn.BatchNorm3d}[dims](4)
    return conv.double(), bn.double()


def _load_same(c_mod, t_mod, seed):
    rng = np.random.default_rng(seed)
    state = {k: rng.uniform(0.2, 1.5, v.shape) for k, v in t_mod.state_dict().items() if v.dtype == torch.float64}
    t_mod.load_state_dict({k: _t(v) for k, v in state.items()}, strict=False)
    c_mod.load_state_dict({k: _c(v) for k, v in state.items()}, strict=False)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_fuse_conv_bn_eval_matches_torch(dims):
    lib_c = type("L", (), {"nn": nn})
    lib_t = type("L", (), {"nn": torch.nn})
    (cc, cb), (tc, tb) = _pair(lib_c, dims), _pair(lib_t, dims)
    _load_same(cc, tc, 1)
    _load_same(cb, tb, 2)
    for m in (cc, cb, tc, tb):
        m.eval()
    x = rand(2, 3, *(5,) * dims, seed=3)
    got = fuse_conv_bn_eval(cc, cb)(_c(x)).detach().numpy()
    want = torch.nn.utils.fusion.fuse_conv_bn_eval(tc, tb)(_t(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_fuse_linear_bn_eval_matches_layer_by_layer_and_needs_eval_mode():
    lin, bn = nn.Linear(3, 4).double().eval(), nn.BatchNorm1d(4).double().eval()
    _load_same(bn, torch.nn.BatchNorm1d(4).double(), 4)
    x = _c(rand(5, 3, seed=5))
    np.testing.assert_allclose(fuse_linear_bn_eval(lin, bn)(x).detach().numpy(), bn(lin(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match=r"fuse_linear_bn_eval: fusion is only for eval mode .* BatchNorm1d.training=True"):
        fuse_linear_bn_eval(lin, bn.train())


def _net(lib, inplace=True):
    return lib.nn.Sequential(lib.nn.Conv2d(3, 8, 3, padding=1, bias=False), lib.nn.BatchNorm2d(8),
                             lib.nn.ReLU6(inplace=inplace), lib.nn.Conv2d(8, 8, 3, stride=2, groups=8),
                             lib.nn.BatchNorm2d(8), lib.nn.Conv2d(8, 4, 1), lib.nn.BatchNorm2d(4)).double()


def _count_folds(monkeypatch):
    calls = []
    real = fusion.folded
    monkeypatch.setattr("cnnlab.nn.modules.container.folded", lambda *a: calls.append(1) or real(*a))
    return calls


def test_sequential_folds_in_inference_and_matches_torch(monkeypatch):
    folds = _count_folds(monkeypatch)
    mine, ref = _net(type("L", (), {"nn": nn})), _net(type("L", (), {"nn": torch.nn}))
    _load_same(mine, ref, 6)
    mine.eval(), ref.eval()
    x = rand(2, 3, 12, 12, seed=7)
    with cnnlab.no_grad():
        got = mine(_c(x)).numpy()
    assert len(folds) == 3  # every conv + batch norm pair
    with torch.no_grad():
        want = ref(_t(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


def test_folding_reads_the_current_parameters_on_every_call(monkeypatch):
    net = _net(type("L", (), {"nn": nn})).eval()
    x = _c(rand(1, 3, 12, 12, seed=8))
    with cnnlab.no_grad():
        before = net(x).numpy().copy()
        net[1].running_mean.add_(0.5)   # in place: a cache keyed on the arrays would miss this
        net[0].weight.mul_(2.0)
        after = net(x).numpy()
        net[1].running_mean.sub_(0.5)
        net[0].weight.div_(2.0)
    assert not np.allclose(before, after)
    with cnnlab.no_grad():
        layer_by_layer = x
        for m in net:
            layer_by_layer = m(layer_by_layer)
    np.testing.assert_allclose(net(x).detach().numpy(), layer_by_layer.numpy(), rtol=1e-12, atol=1e-13)


def test_no_folding_when_a_graph_is_recorded_in_training_or_with_hooks(monkeypatch):
    folds = _count_folds(monkeypatch)
    net = _net(type("L", (), {"nn": nn}))
    x = _c(rand(2, 3, 12, 12, seed=9))
    net.train()(x)                                 # training: batch statistics
    net.eval()(x).sum().backward()                 # eval, but the parameters' gradients are wanted
    assert net[0].weight.grad is not None and net[1].weight.grad is not None
    seen = []
    handle = net[1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with cnnlab.no_grad():
        net(x)                                     # a hook on the batch norm must run, so that pair is not folded
    handle.remove()
    assert seen == [cnnlab.Size([2, 8, 12, 12])] and len(folds) == 2


def test_errors_of_the_layers_are_kept():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(6)).eval()
    with cnnlab.no_grad(), pytest.raises(ValueError, match=r"batch_norm: running_mean must have one value per channel"):
        net(cnnlab.randn(1, 3, 8, 8))              # 8 channels into a 6-feature batch norm
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)).eval()
    with cnnlab.no_grad(), pytest.raises(ValueError, match="BatchNorm2d: expects a 4-d input"):
        net(cnnlab.randn(3, 8, 8))                 # unbatched: Conv2d accepts it, BatchNorm2d does not


def test_folding_is_skipped_where_it_costs_more_than_the_pass_it_saves():
    conv, bn = nn.Conv2d(64, 64, 3), nn.BatchNorm2d(64).eval()
    with cnnlab.no_grad():
        assert not fusion.foldable(conv, bn, cnnlab.randn(1, 64, 4, 4))     # 36,864 weights > 1,024 outputs
        assert fusion.foldable(conv, bn, cnnlab.randn(8, 64, 56, 56))
