"""torchvision.ops-style layers (Conv2dNormActivation, SqueezeExcitation, StochasticDepth, Permute, MLP) against
torchvision.ops, and nn.ChannelShuffle / F.channel_shuffle against PyTorch: printed forms, keys, values and
gradients in float64 with a random upstream gradient."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
import cnnlab.nn.functional as F
from modelcheck import compare, copy_weights, keys_and_shapes
from oracle import check, rand
from tv import torch  # noqa: F401  (skips without torch/torchvision)

import torchvision.ops as tvops  # noqa: E402  (after tv's stubs)
from torchvision.ops import misc as tvmisc  # noqa: E402

tnn = torch.nn


# ChannelShuffle ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 4), 2), ((2, 6, 3, 4), 3), ((1, 6, 5), 6), ((3, 4, 2, 2, 2), 2),
                                          ((1, 5, 3, 3), 1)])
def test_channel_shuffle_matches_torch(shape, groups):
    check(lambda lib, x: lib.F.channel_shuffle(x, groups), rand(*shape))


def test_channel_shuffle_module_and_errors():
    assert repr(nn.ChannelShuffle(2)) == repr(tnn.ChannelShuffle(2))
    x = cnnlab.arange(12.0).reshape(1, 6, 2)
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(x).numpy(),
                                  tnn.ChannelShuffle(3)(torch.arange(12.0).reshape(1, 6, 2)).numpy())
    with pytest.raises(RuntimeError, match=r"channel_shuffle: the channel count must be divisible by groups. "
                                           r"Got input.shape=\(1, 6, 2, 2\) \(C=6\), groups=4."):
        F.channel_shuffle(cnnlab.zeros(1, 6, 2, 2), 4)
    with pytest.raises(RuntimeError, match=r"channel_shuffle: groups must be positive. Got groups=0."):
        F.channel_shuffle(cnnlab.zeros(1, 6, 2, 2), 0)
    with pytest.raises(RuntimeError, match=r"at least 3 dims \(N, C, \*\). Got shape=\(1, 6\)"):
        F.channel_shuffle(cnnlab.zeros(1, 6), 2)
    with pytest.raises(TypeError, match="groups must be an int. Got groups=2.0"):
        F.channel_shuffle(cnnlab.zeros(1, 6, 2), 2.0)


# Conv2dNormActivation ------------------------------------------------------------------------------------------

_CNA_CASES = [
    dict(),
    dict(kernel_size=1, activation_layer="ReLU6"),
    dict(kernel_size=5, stride=2, groups=4, activation_layer="Hardswish"),
    dict(kernel_size=3, dilation=2, activation_layer="SiLU", norm_layer=None),
    dict(kernel_size=(1, 7), activation_layer=None),
    dict(kernel_size=4, stride=4, padding=0, bias=True, activation_layer=None, inplace=None),
    dict(kernel_size=(3, 5), dilation=(2, 1), inplace=False),
]


def _resolve(lib_nn, kw):
    kw = dict(kw)
    for key in ("activation_layer", "norm_layer"):
        if isinstance(kw.get(key), str):
            kw[key] = getattr(lib_nn, kw[key])
    return kw


@pytest.mark.parametrize("kw", _CNA_CASES)
def test_conv2d_norm_activation_matches_torchvision(kw):
    torch.manual_seed(0)
    ref = tvmisc.Conv2dNormActivation(4, 8, **_resolve(tnn, kw))
    model = nn.Conv2dNormActivation(4, 8, **_resolve(nn, kw))
    assert repr(model) == repr(ref)
    assert keys_and_shapes(model) == keys_and_shapes(ref)
    assert model.out_channels == ref.out_channels == 8
    copy_weights(ref, model)
    x = rand(2, 4, 9, 11)
    compare(model, ref, x, train=True)
    compare(model, ref, x, train=False)


# SqueezeExcitation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("act,scale", [("ReLU", "Sigmoid"), ("ReLU", "Hardsigmoid"), ("SiLU", "Sigmoid")])
def test_squeeze_excitation_matches_torchvision(act, scale):
    torch.manual_seed(0)
    ref = tvops.SqueezeExcitation(12, 3, activation=getattr(tnn, act), scale_activation=getattr(tnn, scale))
    model = nn.SqueezeExcitation(12, 3, activation=getattr(nn, act), scale_activation=getattr(nn, scale))
    assert repr(model) == repr(ref)
    assert keys_and_shapes(model) == keys_and_shapes(ref)
    copy_weights(ref, model)
    # the input gradient sums the direct path and the gate's path (terms of 1e-1 cancelling to 1e-3): atol 1e-8
    compare(model, ref, rand(3, 12, 5, 4, seed=1) * 3, atol=1e-8)


# StochasticDepth -----------------------------------------------------------------------------------------------

def test_stochastic_depth_repr_and_identity_cases():
    for p, mode in [(0.1, "row"), (0.0, "batch"), (1, "row")]:
        assert repr(nn.StochasticDepth(p, mode)) == repr(tvops.StochasticDepth(p, mode))
    x = cnnlab.randn(4, 3, 2, 2)
    assert F.stochastic_depth(x, 0.7, "row", training=False) is x
    assert F.stochastic_depth(x, 0.0, "batch") is x
    layer = nn.StochasticDepth(0.5, "row").eval()
    assert layer(x) is x
    np.testing.assert_array_equal(F.stochastic_depth(x, 1.0, "row").numpy(), 0.0)
    np.testing.assert_array_equal(F.stochastic_depth(x, 1.0, "batch").numpy(), 0.0)


@pytest.mark.parametrize("bad,kw", [("p", dict(p=-0.1, mode="row")), ("p", dict(p=1.5, mode="batch")),
                                    ("mode", dict(p=0.5, mode="col"))])
def test_stochastic_depth_errors_like_torchvision(bad, kw):
    x = torch.ones(2, 3)
    with pytest.raises(ValueError):
        tvops.stochastic_depth(x, **kw)
    with pytest.raises(ValueError, match=rf"stochastic_depth: {bad} must be .*Got {bad}="):
        F.stochastic_depth(cnnlab.ones(2, 3), **kw)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_stochastic_depth_row_statistics_and_gradient(p):
    cnnlab.manual_seed(0)
    N = 4000
    x = cnnlab.tensor(rand(N, 3, 2, low=0.5, high=1.5), requires_grad=True)
    y = F.stochastic_depth(x, p, "row")
    ratio = (y / x).detach().numpy().reshape(N, -1)
    # each sample is dropped or kept whole; kept ones are scaled by 1/(1-p)
    kept = ratio[:, 0] != 0
    np.testing.assert_allclose(ratio[kept], 1 / (1 - p), rtol=1e-12)
    np.testing.assert_array_equal(ratio[~kept], 0.0)
    # the number dropped is Binomial(N, p): within 5 standard deviations
    assert abs((~kept).sum() - N * p) < 5 * np.sqrt(N * p * (1 - p))
    # the gradient of a kept sample is the scale, of a dropped one 0 (same mask as the forward)
    g = rand(N, 3, 2, seed=3)
    (y * cnnlab.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g * ratio.reshape(N, 3, 2), rtol=1e-12)


def test_stochastic_depth_batch_mode_drops_all_or_nothing():
    cnnlab.manual_seed(1)
    outcomes = []
    x = cnnlab.ones(5, 4, dtype=cnnlab.float64)
    for _ in range(400):
        y = F.stochastic_depth(x, 0.25, "batch").numpy()
        assert len(np.unique(y)) == 1
        outcomes.append(y[0, 0])
    outcomes = np.array(outcomes)
    assert set(np.round(outcomes, 12)) <= {0.0, round(1 / 0.75, 12)}
    assert abs((outcomes == 0).mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 400)


def test_stochastic_depth_is_seeded():
    x = cnnlab.ones(64, 2)
    cnnlab.manual_seed(7)
    a = F.stochastic_depth(x, 0.5, "row").numpy()
    cnnlab.manual_seed(7)
    np.testing.assert_array_equal(F.stochastic_depth(x, 0.5, "row").numpy(), a)


# Permute, MLP --------------------------------------------------------------------------------------------------

def test_permute_matches_torchvision():
    assert repr(nn.Permute([0, 2, 3, 1])) == repr(tvmisc.Permute([0, 2, 3, 1]))
    check(lambda lib, x: x.permute(0, 2, 3, 1) * 1.0, rand(2, 3, 4, 5),
          torch_fn=lambda lib, x: tvmisc.Permute([0, 2, 3, 1])(x) * 1.0)
    check(lambda lib, x: nn.Permute([2, 0, 1])(x), rand(2, 3, 4), torch_fn=lambda lib, x: x.permute(2, 0, 1))


@pytest.mark.parametrize("kw", [dict(), dict(norm_layer="LayerNorm", activation_layer="GELU", dropout=0.0),
                                dict(inplace=False, bias=False, dropout=0.5)])
def test_mlp_matches_torchvision(kw):
    torch.manual_seed(0)
    ref = tvops.MLP(6, [10, 7, 3], **_resolve(tnn, kw))
    model = nn.MLP(6, [10, 7, 3], **_resolve(nn, kw))
    assert repr(model) == repr(ref)
    assert keys_and_shapes(model) == keys_and_shapes(ref)
    copy_weights(ref, model)
    compare(model, ref, rand(4, 6), train=False)
