"""The modern zoo (mobilenet_v2, mobilenet_v3_small/large, efficientnet_b0..b3, convnext_tiny..large, googlenet,
inception_v3) against torchvision: module tree, printed form, state_dict keys and shapes, parameter counts and
weights metadata for every builder (built without their random initialisation, torchvision's on the meta
device); then outputs and every gradient in float64, in eval and train mode, with copied weights (dropout and
stochastic depth at 0 in train mode, where the libraries' random draws differ; stochastic depth by statistics)."""
import warnings

import numpy as np
import pytest

import cnnlab
from cnnlab import models
from modelcheck import assert_same_state, compare, copy_weights, keys_and_shapes, param_count
from tv import torch, tvm

torch.set_num_threads(1)  # as tests/oracle.py: PyTorch's threads on 2 shared cores slow its float64 kernels 10-100x

MODERN = ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1",
          "efficientnet_b2", "efficientnet_b3", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
          "googlenet", "inception_v3"]


@pytest.fixture
def no_init(monkeypatch):
    """Skip the random initialisation (197M draws for convnext_large): the structure tests need shapes only."""
    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "constant_", "ones_",
                 "zeros_"):
        monkeypatch.setattr(cnnlab.nn.init, name, lambda tensor, *args, **kwargs: tensor)


def _quiet(build, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # googlenet/inception_v3's init_weights=None notice
        return build(*args, **kwargs)


@pytest.mark.parametrize("name", MODERN)
def test_same_tree_keys_printing_parameter_count_and_weights_as_torchvision(name, no_init):
    model = _quiet(models.get_model, name)
    with torch.device("meta"):
        ref = _quiet(tvm.get_model, name)
    assert keys_and_shapes(model) == keys_and_shapes(ref)
    assert repr(model) == repr(ref)
    assert [type(m).__name__ for m in model.modules()] == [type(m).__name__ for m in ref.modules()]
    assert param_count(model) == param_count(ref)
    ours, theirs = models.get_model_weights(name), tvm.get_model_weights(name)
    assert ours.__name__ == theirs.__name__ and list(ours.__members__) == list(theirs.__members__)
    for key in theirs.__members__:
        a, b = ours[key], theirs[key]
        assert a.url == b.url and a.file_name == b.url.rsplit("/", 1)[1]
        assert a.meta == dict(b.meta, min_size=tuple(b.meta["min_size"]))  # num_params, _ops, categories, ...
        assert repr(a.transforms()) == repr(b.transforms())
    assert ours.DEFAULT.name == theirs.DEFAULT.name
    if name == "googlenet":  # its weights are published without the auxiliary heads
        model = models.googlenet(aux_logits=False, init_weights=False)
    assert ours.DEFAULT.meta["num_params"] == param_count(model)


@pytest.mark.parametrize("name, kwargs", [
    ("mobilenet_v2", dict(width_mult=0.5, round_nearest=4, num_classes=10, dropout=0.3)),
    ("mobilenet_v2", dict(inverted_residual_setting=[[1, 16, 1, 1], [4, 24, 2, 2]], width_mult=1.3)),
    ("mobilenet_v3_large", dict(reduced_tail=True, dilated=True, width_mult=0.75, dropout=0.5)),
    ("mobilenet_v3_small", dict(reduced_tail=True, num_classes=3)),
    ("efficientnet_b1", dict(stochastic_depth_prob=0.5, dropout=0.1, num_classes=5)),
    ("convnext_small", dict(stochastic_depth_prob=0.25, layer_scale=0.1, num_classes=4)),
    ("googlenet", dict(aux_logits=False, init_weights=False, dropout=0.4, dropout_aux=0.1, transform_input=True)),
    ("inception_v3", dict(aux_logits=False, init_weights=False, dropout=0.1, num_classes=20)),
])
def test_builder_arguments_build_the_same_tree(name, kwargs, no_init):
    model = models.get_model(name, **kwargs)
    with torch.device("meta"):
        ref = tvm.get_model(name, **kwargs)
    assert repr(model) == repr(ref)
    assert keys_and_shapes(model) == keys_and_shapes(ref)


def test_registry_lists_the_modern_zoo_as_torchvision():
    assert set(MODERN) <= set(models.list_models()) and set(MODERN) <= set(tvm.list_models())
    assert models.list_models(include="convnext_*") == tvm.list_models(include="convnext_*")
    assert models.list_models(include="mobilenet_v*") == tvm.list_models(include="mobilenet_v*")
    assert models.describe("convnext_tiny") == "ConvNeXt-T for 3x224x224 ImageNet images (28,589,128 parameters)"
    assert models.input_shape("inception_v3") == (3, 299, 299)


def _pair(name, seed=0, **kwargs):
    torch.manual_seed(seed)
    cnnlab.manual_seed(seed)
    model, ref = _quiet(models.get_model, name, **kwargs), _quiet(tvm.get_model, name, **kwargs)
    copy_weights(ref, model)
    return model, ref


def _input(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _randomise_norms(ref, seed=1):
    """Batch-norm statistics and affine parameters away from their 1/0 defaults, so eval mode tests them."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def _small_efficientnet(lib, fused=False):
    e = lib.efficientnet
    if fused:  # FusedMBConv stages (with and without expansion) ahead of an MBConv stage, as in EfficientNetV2
        setting = [e.FusedMBConvConfig(1, 3, 1, 8, 8, 2), e.FusedMBConvConfig(4, 3, 2, 8, 16, 2),
                   e.MBConvConfig(4, 3, 2, 16, 24, 2)]
        return e.EfficientNet(setting, 0.0, stochastic_depth_prob=0.0, num_classes=10, last_channel=64)
    setting, last = e._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    return e.EfficientNet(setting, 0.0, stochastic_depth_prob=0.0, num_classes=10, last_channel=last)


def _small_convnext(lib):
    c = lib.convnext
    setting = [c.CNBlockConfig(16, 32, 2), c.CNBlockConfig(32, None, 2)]
    return c.ConvNeXt(setting, stochastic_depth_prob=0.0, layer_scale=0.5, num_classes=10)


# Every architecture's code path in float64 with gradients; the channel-heavy ones at reduced width (PyTorch's
# float64 depthwise convolution has no fast kernel), the full widths by the structure tests and the 224 forwards.
PARITY = {
    "mobilenet_v2": (lambda lib: lib.mobilenet_v2(width_mult=0.25, dropout=0.0, num_classes=10), 32),
    "mobilenet_v3_small": (lambda lib: lib.mobilenet_v3_small(width_mult=0.5, dropout=0.0, num_classes=10), 48),
    "mobilenet_v3_large_dilated": (lambda lib: lib.mobilenet_v3_large(width_mult=0.25, reduced_tail=True,
                                                                      dilated=True, dropout=0.0, num_classes=10), 48),
    "efficientnet_b0_narrow": (_small_efficientnet, 32),
    "efficientnet_fused": (lambda lib: _small_efficientnet(lib, fused=True), 32),
    "convnext_small_setting": (_small_convnext, 32),
    "googlenet_aux": (lambda lib: lib.googlenet(dropout=0.0, dropout_aux=0.0, init_weights=True, num_classes=10), 32),
    "googlenet_transform_input": (lambda lib: lib.googlenet(aux_logits=False, transform_input=True, dropout=0.0,
                                                            init_weights=False, num_classes=10), 47),
    "inception_v3": (lambda lib: lib.inception_v3(aux_logits=False, dropout=0.0, transform_input=True,
                                                  init_weights=True, num_classes=10), 75),
}


@pytest.mark.parametrize("case", PARITY)
def test_outputs_gradients_and_batch_norm_statistics_match_in_eval_and_train_mode(case, no_init):
    build, size = PARITY[case]
    torch.manual_seed(0)
    model, ref = build(models), build(tvm)
    _randomise_norms(ref)
    copy_weights(ref, model)
    x = _input(2, 3, size, size)
    compare(model, ref, x, train=False, rtol=1e-6, atol=1e-8, scaled=True)
    out = compare(model, ref, x, train=True, rtol=1e-6, atol=1e-8, scaled=True)
    if case == "googlenet_aux":
        assert len(out) == 3  # GoogLeNetOutputs(logits, aux_logits2, aux_logits1) in train mode
    assert_same_state(model, ref, rtol=1e-6)


def test_train_mode_returns_torchvisions_namedtuples():
    model = _quiet(models.googlenet, num_classes=4, init_weights=False)
    out = model(cnnlab.randn(2, 3, 32, 32))
    assert type(out).__name__ == "GoogLeNetOutputs" and out._fields == ("logits", "aux_logits2", "aux_logits1")
    assert isinstance(out, models.GoogLeNetOutputs) and out.logits.shape == out.aux_logits1.shape == (2, 4)
    assert isinstance(model.eval()(cnnlab.randn(1, 3, 32, 32)), cnnlab.Tensor)
    assert models.InceptionOutputs._fields == ("logits", "aux_logits")


def test_inception_aux_head_and_train_outputs_at_299(no_init):
    # the auxiliary head needs the 17x17 grid of a 299x299 input; compare the head alone on that grid, then the
    # whole network's InceptionOutputs once without gradients
    torch.manual_seed(0)
    from cnnlab.models.inception import InceptionAux
    ref_aux = tvm.inception.InceptionAux(768, 6)
    aux = InceptionAux(768, 6)
    assert repr(aux) == repr(ref_aux)
    copy_weights(ref_aux, aux)
    compare(aux, ref_aux, _input(2, 768, 17, 17), train=True, rtol=1e-6)
    model, ref = _pair("inception_v3", num_classes=6, dropout=0.0)
    out = compare(model, ref, _input(2, 3, 299, 299), train=True, grads=False, rtol=1e-6,
                  atol=1e-8)
    assert len(out) == 2 and out[1].shape == (2, 6)


def test_stochastic_depth_drops_whole_residual_branches_per_sample():
    # a CNBlock has no batch statistics, so train and eval differ only by the drop: per sample, the output is
    # the input (dropped) or input + branch / (1 - p) (kept), and about p of the samples are dropped
    from cnnlab.models.convnext import CNBlock
    cnnlab.manual_seed(0)
    p, N = 0.4, 400
    block = CNBlock(8, layer_scale=0.5, stochastic_depth_prob=p).double()
    x = cnnlab.tensor(_input(N, 8, 3, 3))
    with cnnlab.no_grad():
        branch = (block.eval()(x) - x).numpy().reshape(N, -1)
        delta = (block.train()(x) - x).numpy().reshape(N, -1)
    dropped = np.abs(delta).max(axis=1) == 0
    np.testing.assert_allclose(delta[~dropped], branch[~dropped] / (1 - p), rtol=1e-10)
    assert abs(dropped.sum() - N * p) < 5 * np.sqrt(N * p * (1 - p))
    # the schedule: block i of n drops with prob * i / (n - 1) in ConvNeXt, prob * i / n in EfficientNet
    ps = [m.p for m in models.convnext_tiny(stochastic_depth_prob=0.3).modules()
          if isinstance(m, cnnlab.nn.StochasticDepth)]
    np.testing.assert_allclose(ps, 0.3 * np.arange(18) / 17)
    ps = [m.p for m in models.efficientnet_b0(stochastic_depth_prob=0.4).modules()
          if isinstance(m, cnnlab.nn.StochasticDepth)]
    np.testing.assert_allclose(ps, 0.4 * np.arange(16) / 16)


@pytest.mark.parametrize("name", ["mobilenet_v2", "convnext_tiny"])
def test_a_full_224_forward(name, no_init):  # no_init: the weights are copied from torchvision's
    model, ref = _pair(name)
    compare(model, ref, _input(1, 3, 224, 224).astype(np.float32), train=False, grads=False, rtol=1e-4, atol=1e-5)


def test_pretrained_weights_from_the_hub_cache(tmp_path, monkeypatch):
    # a file in $TORCH_HOME/hub/checkpoints under torchvision's name is used without a download; googlenet's
    # builder then sets transform_input and drops the (untrained) auxiliary heads, as torchvision's
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    ref = tvm.googlenet(init_weights=True)
    _randomise_norms(ref)
    torch.save(ref.state_dict(), folder / models.GoogLeNet_Weights.IMAGENET1K_V1.file_name)
    model = models.googlenet(weights="DEFAULT")
    assert model.transform_input and not model.aux_logits and model.aux1 is None
    with torch.no_grad():
        ref.transform_input, ref.aux_logits, ref.aux1, ref.aux2 = True, False, None, None
    assert repr(model) == repr(ref)  # '(aux1): None' printed as torchvision's
    compare(model, ref, _input(1, 3, 64, 64), train=False, grads=False, rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match="deprecated"):
        assert models.googlenet(pretrained=True).transform_input
    with pytest.raises(ValueError, match="googlenet: these weights need num_classes=1000. Got num_classes=10"):
        models.googlenet(weights="DEFAULT", num_classes=10)


def test_errors_name_the_rule_and_the_values():
    with pytest.raises(ValueError, match=r"MobileNetV2: inverted_residual_setting must be a non-empty list of "
                                         r"\[t, c, n, s\]. Got inverted_residual_setting=\[\[1, 16, 1\]\]"):
        models.mobilenet_v2(inverted_residual_setting=[[1, 16, 1]])
    with pytest.raises(ValueError, match="InvertedResidual: stride must be 1 or 2. Got stride=3"):
        models.mobilenetv2.InvertedResidual(8, 8, 3, 2)
    with pytest.raises(ValueError, match="EfficientNet: inverted_residual_setting must not be empty"):
        models.EfficientNet([], 0.2)
    with pytest.raises(TypeError, match="ConvNeXt: block_setting must be a list of CNBlockConfig. Got list"):
        models.ConvNeXt([(96, None, 3)])
    with pytest.raises(ValueError, match=r"GoogLeNet: blocks must hold 3 callables. Got len\(blocks\)=2"):
        models.GoogLeNet(blocks=[1, 2], init_weights=False)
    with pytest.raises(ValueError, match="unknown weights. Got weights='IMAGENET1K_V9'"):
        models.convnext_tiny(weights="IMAGENET1K_V9")
    with pytest.warns(FutureWarning, match="default weight initialization of inception_v3"):
        models.Inception3(num_classes=2)


def test_layer_norm_2d_and_cn_block_match_torchvision():
    from cnnlab.models.convnext import CNBlock, LayerNorm2d
    torch.manual_seed(0)
    ref, model = tvm.convnext.LayerNorm2d(6, eps=1e-6), LayerNorm2d(6, eps=1e-6)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-0.5, 0.5)
    assert repr(model) == repr(ref) == "LayerNorm2d((6,), eps=1e-06, elementwise_affine=True, bias=True)"
    copy_weights(ref, model)
    compare(model, ref, _input(2, 6, 5, 3))
    ref, model = tvm.convnext.CNBlock(8, 0.3, 0.0), CNBlock(8, 0.3, 0.0)
    assert repr(model) == repr(ref)
    copy_weights(ref, model)
    compare(model, ref, _input(2, 8, 9, 9), train=True)


def test_initialisation_follows_torchvision():
    # kaiming fan_out convolutions and N(0, 0.01) heads (MobileNets), U(-1/sqrt(out), 1/sqrt(out)) heads
    # (EfficientNet), truncated N(0, 0.02) (ConvNeXt), truncated N(0, stddev) with per-layer stddev (Inception;
    # the bounds -2, 2 are absolute, so far in the tails)
    cnnlab.manual_seed(0)
    m = models.mobilenet_v2()
    w = m.features[1].conv[1].weight.detach().numpy()  # pointwise 32 -> 16: fan_out = 16
    assert abs(w.std() - np.sqrt(2.0 / 16)) < 0.05 * np.sqrt(2.0 / 16)
    fc = m.classifier[1]
    assert abs(fc.weight.detach().numpy().std() - 0.01) < 0.0005 and not fc.bias.detach().numpy().any()
    head = models.efficientnet_b0(num_classes=100).classifier[1].weight.detach().numpy()
    assert 0.9 * 0.1 < np.abs(head).max() <= 0.1 and abs(head.std() - 0.1 / np.sqrt(3)) < 0.002
    c = models.convnext.ConvNeXt([models.convnext.CNBlockConfig(32, None, 2)])
    w = c.features[1][0].block[3].weight.detach().numpy()
    assert abs(w.std() - 0.02) < 0.001 and np.abs(w).max() <= 2  # a=-2, b=2 are absolute bounds: 100 std away
    assert np.allclose(c.features[1][0].layer_scale.detach().numpy(), 1e-6)
    inc = models.inception.InceptionAux(768, 1000)
    assert inc.conv1.stddev == 0.01 and inc.fc.stddev == 0.001
    i3 = models.inception_v3(init_weights=True)
    assert abs(i3.AuxLogits.fc.weight.detach().numpy().std() - 0.001) < 0.0001
    assert abs(i3.Mixed_7c.branch1x1.conv.weight.detach().numpy().std() - 0.1) < 0.002
