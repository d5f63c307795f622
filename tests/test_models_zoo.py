"""The classic zoo (alexnet, vgg, resnet/resnext/wide_resnet, squeezenet, densenet) against torchvision: module
tree, printed form, state_dict keys and shapes and parameter counts for every builder (built without their
random initialisation, torchvision's on the meta device), then outputs, gradients and batch-norm statistics in
eval and train mode with weights copied through a torch.save file read by cnnlab.load."""
import numpy as np
import pytest

import cnnlab
from cnnlab import models
from modelcheck import assert_same_state, compare, keys_and_shapes
from tv import torch, tvm

CLASSIC = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
           "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
           "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2", "squeezenet1_0", "squeezenet1_1",
           "densenet121", "densenet161", "densenet169", "densenet201"]


@pytest.fixture
def no_init(monkeypatch):
    """Skip the random initialisation (up to 143M normal draws for VGG-19): the structure tests need shapes."""
    for name in ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_", "constant_"):
        monkeypatch.setattr(cnnlab.nn.init, name, lambda tensor, *args, **kwargs: tensor)


@pytest.mark.parametrize("name", CLASSIC)
def test_same_tree_keys_printing_and_parameter_count_as_torchvision(name, no_init):
    model = models.get_model(name)
    with torch.device("meta"):
        ref = tvm.get_model(name)
    assert keys_and_shapes(model) == keys_and_shapes(ref)
    assert repr(model) == repr(ref)
    assert [type(m).__name__ for m in model.modules()] == [type(m).__name__ for m in ref.modules()]
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters())
    assert models.get_model_weights(name).DEFAULT.meta["num_params"] == sum(p.numel() for p in ref.parameters())


def _copy_through_file(ref, model, tmp_path, legacy=False):
    """torch.save(ref.state_dict()) in float64, cnnlab.load, load_state_dict: the way users bring weights over.
    Batch norms first get random affine parameters and running statistics (their initial 1/0 values would hide
    a swapped mean and variance)."""
    gen = torch.Generator().manual_seed(1)
    for m in ref.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                for t, low, high in ((m.weight, 0.5, 1.5), (m.bias, -0.5, 0.5), (m.running_mean, -0.5, 0.5),
                                     (m.running_var, 0.5, 2.0)):
                    t.copy_(torch.rand(t.shape, generator=gen) * (high - low) + low)
    path = tmp_path / "weights.pth"
    torch.save(ref.double().state_dict(), path, _use_new_zipfile_serialization=not legacy)
    model.double().load_state_dict(cnnlab.load(path))


def _pair(name, seed=0, **kwargs):
    """The same network from both libraries: a registered builder's name, or (class name, module) for the
    model classes built directly (small configurations exercise the same code paths far more cheaply)."""
    torch.manual_seed(seed)
    if isinstance(name, tuple):
        cls, module = name
        args, kwargs = kwargs.pop("args", ()), kwargs
        ours = [getattr(models, a) if isinstance(a, str) else a for a in args]
        theirs = [getattr(getattr(tvm, module), a) if isinstance(a, str) else a for a in args]
        return getattr(models, cls)(*ours, **kwargs), getattr(getattr(tvm, module), cls)(*theirs, **kwargs)
    return models.get_model(name, **kwargs), tvm.get_model(name, **kwargs)


def _input(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("name, size, kwargs", [
    ("resnet18", 48, {}),
    (("ResNet", "resnet"), 48, {"args": ("Bottleneck", [1, 1, 1, 1]), "num_classes": 7}),
    (("ResNet", "resnet"), 48, {"args": ("Bottleneck", [1, 1, 1, 1]), "groups": 32, "width_per_group": 4}),
    (("ResNet", "resnet"), 32, {"args": ("Bottleneck", [1, 1, 1, 1]),
                                "replace_stride_with_dilation": [False, True, True]}),
    ("squeezenet1_0", 64, {"dropout": 0.0}),    # dropout draws differ between libraries: off in train mode
    ("squeezenet1_1", 47, {"dropout": 0.0}),    # an odd size: the ceil-mode pools
    # (train-mode batch norm over the 2 values of a 1x1 map is too ill-conditioned to compare: sizes keep the
    # last maps at 2x2 or more)
    (("DenseNet", "densenet"), 64, {"args": (8, (2, 3, 2, 2), 16), "drop_rate": 0.0}),
])
def test_outputs_gradients_and_batch_norm_statistics_match_in_eval_and_train_mode(name, size, kwargs, tmp_path):
    model, ref = _pair(name, **kwargs)
    _copy_through_file(ref, model, tmp_path, legacy=name == "squeezenet1_0")
    x = _input(2, 3, size, size)
    compare(model, ref, x, train=False, rtol=1e-7, atol=1e-9)
    compare(model, ref, x, train=True, rtol=1e-7, atol=1e-9)
    assert_same_state(model, ref)  # running means/variances and num_batches_tracked after the train step


@pytest.mark.parametrize("name, size", [("vgg11_bn", 32), ("alexnet", 63)])
def test_whole_forward_with_a_small_head(name, size, tmp_path, monkeypatch):
    # the first classifier layers alone are 25088x4096 (VGG) and 9216x4096 (AlexNet): swap the head in both
    # models for a small one so that the rest of the forward (features, adaptive pooling, flatten) runs on
    # copied weights in a fraction of the time and memory
    # (both built without their random initialisation, then the small ones drawn: torch's on the meta device)
    with monkeypatch.context() as patch:
        for init in ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_"):
            patch.setattr(cnnlab.nn.init, init, lambda tensor, *args, **kwargs: tensor)
        model = models.get_model(name)
    with torch.device("meta"):
        ref = tvm.get_model(name)
    features = 512 * 7 * 7 if name.startswith("vgg") else 256 * 6 * 6
    model.classifier = cnnlab.nn.Sequential(cnnlab.nn.Linear(features, 5))
    ref.classifier = torch.nn.Sequential(torch.nn.Linear(features, 5, device="meta"))
    ref.to_empty(device="cpu")
    torch.manual_seed(0)
    for m in ref.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.BatchNorm2d)):
            m.reset_parameters()
    _copy_through_file(ref, model, tmp_path)
    x = _input(2, 3, size, size)
    compare(model, ref, x, train=False)
    compare(model, ref, x, train=True)
    assert_same_state(model, ref)


@pytest.mark.parametrize("name", ["resnet18", "squeezenet1_1"])
def test_a_full_224_forward(name, tmp_path):
    model, ref = _pair(name)
    _copy_through_file(ref, model, tmp_path)
    compare(model, ref, _input(1, 3, 224, 224), train=False, grads=False)


def test_builder_arguments_as_torchvision():
    torch.manual_seed(0)
    model = models.resnet18(zero_init_residual=True, num_classes=3)
    assert all(not m.bn2.weight.detach().numpy().any() for m in model.modules() if isinstance(m, models.BasicBlock))
    assert model.fc.out_features == 3
    model = models.resnet50(zero_init_residual=True)
    assert all(not m.bn3.weight.detach().numpy().any() for m in model.modules() if isinstance(m, models.Bottleneck))
    model = models.resnet18(norm_layer=lambda c: cnnlab.nn.GroupNorm(2, c))
    assert type(model.bn1).__name__ == "GroupNorm"
    with pytest.raises(ValueError, match="BasicBlock: only supports groups=1 and base_width=64. Got groups=2"):
        models.resnet18(groups=2)
    with pytest.raises(ValueError, match=r"resnext50_32x4d: these weights need groups=32. Got groups=4"):
        models.resnext50_32x4d(groups=4)
    with pytest.raises(ValueError, match="SqueezeNet: version must be '1_0' or '1_1'. Got version='2_0'"):
        models.SqueezeNet("2_0")
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None or a 3-element tuple"):
        models.resnet50(replace_stride_with_dilation=[True])
    assert models.densenet121(memory_efficient=True, drop_rate=0.2).features.denseblock1.denselayer1.drop_rate == 0.2


def test_init_matches_torchvision_statistics():
    # the initialisations follow torchvision's: kaiming fan_out for ResNet/VGG convolutions, N(0, 0.01) for
    # VGG's linear layers and SqueezeNet's final convolution, ones/zeros for batch norm
    cnnlab.manual_seed(0)
    model = models.resnet18()
    w = model.layer3[0].conv1.weight.detach().numpy()
    assert abs(w.std() - np.sqrt(2.0 / (256 * 9))) < 0.02 * np.sqrt(2.0 / (256 * 9))  # fan_out = 256 * 3 * 3
    assert model.bn1.weight.detach().numpy().min() == 1 and not model.bn1.bias.detach().numpy().any()
    final = models.squeezenet1_1(num_classes=50).classifier[1].weight.detach().numpy()
    assert abs(final.std() - 0.01) < 0.001


def test_the_notes_alexnet_shapes_at_224(no_init):
    # 224 -> conv 11x11/4 -> 55 -> pool 27 -> conv 5x5 -> 27 -> pool 13 -> three 3x3 convs 13 -> pool 6
    model = models.alexnet()
    convs_and_pools = {f"features.{i}": f"features.{i}" for i in (0, 2, 3, 5, 6, 8, 10, 12)}
    with cnnlab.no_grad():
        maps = models.feature_extractor(model, convs_and_pools)(cnnlab.zeros(1, 3, 224, 224))
    assert [tuple(m.shape[1:]) for m in maps.values()] == [
        (64, 55, 55), (64, 27, 27), (192, 27, 27), (192, 13, 13), (384, 13, 13), (256, 13, 13), (256, 13, 13),
        (256, 6, 6)]
