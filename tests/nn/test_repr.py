"""repr / print(model) equal PyTorch's text exactly: every layer type with its default and non-default options,
containers (ModuleList's grouping of repeats included), a nested model, and Parameter."""
from collections import OrderedDict

import pytest
import torch

import cnnlab
import cnnlab.nn as nn

# Each entry builds the same layer from either library's nn namespace.
LAYERS = [
    lambda lib: lib.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
    lambda lib: lib.Conv1d(3, 4, 3),
    lambda lib: lib.Conv1d(3, 4, 3, padding="same", padding_mode="reflect", bias=False),
    lambda lib: lib.Conv2d(4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
    lambda lib: lib.Conv2d(4, 8, 3, padding="valid", padding_mode="circular"),
    lambda lib: lib.Conv3d(2, 4, 3, stride=2, padding=1, padding_mode="replicate"),
    lambda lib: lib.ConvTranspose1d(3, 4, 3),
    lambda lib: lib.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
    lambda lib: lib.ConvTranspose3d(4, 4, (2, 3, 3), groups=2, bias=False, dilation=2),
    lambda lib: lib.MaxPool1d(3),
    lambda lib: lib.MaxPool2d(2),
    lambda lib: lib.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True),
    lambda lib: lib.MaxPool3d(2, 1),
    lambda lib: lib.AvgPool1d(3),
    lambda lib: lib.AvgPool1d(3, 2, 1, ceil_mode=True),
    lambda lib: lib.AvgPool2d(2),
    lambda lib: lib.AvgPool2d((2, 3), stride=(1, 2), padding=1, count_include_pad=False, divisor_override=2),
    lambda lib: lib.AvgPool3d(2),
    lambda lib: lib.LPPool1d(2, 3),
    lambda lib: lib.LPPool2d(1.5, (2, 3), stride=2, ceil_mode=True),
    lambda lib: lib.LPPool3d(2, 2),
    lambda lib: lib.AdaptiveAvgPool1d(4),
    lambda lib: lib.AdaptiveAvgPool2d((5, None)),
    lambda lib: lib.AdaptiveAvgPool2d(1),
    lambda lib: lib.AdaptiveAvgPool3d((2, 3, 4)),
    lambda lib: lib.AdaptiveMaxPool1d(3),
    lambda lib: lib.AdaptiveMaxPool2d((3, 3), return_indices=True),
    lambda lib: lib.AdaptiveMaxPool3d(2),
    lambda lib: lib.MaxUnpool1d(2),
    lambda lib: lib.MaxUnpool2d(2, stride=1, padding=1),
    lambda lib: lib.MaxUnpool3d((2, 2, 1)),
    lambda lib: lib.Linear(250, 32),
    lambda lib: lib.Linear(32, 1, bias=False),
    lambda lib: lib.Bilinear(2, 3, 4),
    lambda lib: lib.Bilinear(2, 3, 4, bias=False),
    lambda lib: lib.Identity(),
    lambda lib: lib.Flatten(),
    lambda lib: lib.Flatten(0, 2),
    lambda lib: lib.Unflatten(1, (2, 5)),
    lambda lib: lib.Unflatten(-1, [3, 4]),
    lambda lib: lib.ReLU(),
    lambda lib: lib.ReLU(inplace=True),
    lambda lib: lib.ReLU6(),
    lambda lib: lib.ReLU6(True),
    lambda lib: lib.LeakyReLU(),
    lambda lib: lib.LeakyReLU(0.2, inplace=True),
    lambda lib: lib.ELU(),
    lambda lib: lib.ELU(alpha=0.5, inplace=True),
    lambda lib: lib.CELU(2.0),
    lambda lib: lib.SELU(),
    lambda lib: lib.SELU(inplace=True),
    lambda lib: lib.GELU(),
    lambda lib: lib.GELU(approximate="tanh"),
    lambda lib: lib.SiLU(),
    lambda lib: lib.SiLU(inplace=True),
    lambda lib: lib.Mish(),
    lambda lib: lib.Sigmoid(),
    lambda lib: lib.Tanh(),
    lambda lib: lib.Softmax(dim=1),
    lambda lib: lib.Softmax(),
    lambda lib: lib.LogSoftmax(dim=-1),
    lambda lib: lib.Softmin(0),
    lambda lib: lib.Softmax2d(),
    lambda lib: lib.Softplus(),
    lambda lib: lib.Softplus(beta=2, threshold=10),
    lambda lib: lib.Hardtanh(),
    lambda lib: lib.Hardtanh(-2.0, 2.0, inplace=True),
    lambda lib: lib.Hardswish(),
    lambda lib: lib.Hardswish(inplace=True),
    lambda lib: lib.Hardsigmoid(),
    lambda lib: lib.Softsign(),
    lambda lib: lib.LogSigmoid(),
    lambda lib: lib.Threshold(0.1, 20),
    lambda lib: lib.Threshold(0.1, 20, inplace=True),
    lambda lib: lib.PReLU(),
    lambda lib: lib.PReLU(8, init=0.1),
    lambda lib: lib.GLU(),
    lambda lib: lib.Dropout(),
    lambda lib: lib.Dropout(0.2, inplace=True),
    lambda lib: lib.Dropout1d(0.1),
    lambda lib: lib.Dropout2d(),
    lambda lib: lib.Dropout3d(0.3),
    lambda lib: lib.AlphaDropout(0.2),
    lambda lib: lib.BatchNorm1d(3),
    lambda lib: lib.BatchNorm2d(64, eps=1e-3, momentum=None),
    lambda lib: lib.BatchNorm2d(8, affine=False, track_running_stats=False),
    lambda lib: lib.BatchNorm3d(4, bias=False),
    lambda lib: lib.InstanceNorm1d(3),
    lambda lib: lib.InstanceNorm2d(3, affine=True, track_running_stats=True),
    lambda lib: lib.InstanceNorm3d(3, momentum=None),
    lambda lib: lib.LayerNorm(4),
    lambda lib: lib.LayerNorm([3, 4], eps=1e-6, bias=False),
    lambda lib: lib.LayerNorm((3, 4), elementwise_affine=False),
    lambda lib: lib.GroupNorm(2, 4),
    lambda lib: lib.GroupNorm(4, 8, eps=1e-3, affine=False),
    lambda lib: lib.LocalResponseNorm(2),
    lambda lib: lib.LocalResponseNorm(5, alpha=1e-3, beta=0.5, k=2.0),
    lambda lib: lib.Upsample(scale_factor=2),
    lambda lib: lib.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=False),
    lambda lib: lib.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
    lambda lib: lib.Upsample(size=7, mode="nearest-exact"),
    lambda lib: lib.UpsamplingNearest2d(scale_factor=2),
    lambda lib: lib.UpsamplingBilinear2d(size=(4, 5)),
    lambda lib: lib.ZeroPad1d(2),
    lambda lib: lib.ZeroPad2d(1),
    lambda lib: lib.ZeroPad2d((1, 2, 3, 4)),
    lambda lib: lib.ZeroPad3d(1),
    lambda lib: lib.ConstantPad1d(2, 3.5),
    lambda lib: lib.ConstantPad2d((1, 0, 2, 1), -1),
    lambda lib: lib.ConstantPad3d(1, 0.0),
    lambda lib: lib.ReflectionPad1d(3),
    lambda lib: lib.ReflectionPad2d((1, 2, 3, 4)),
    lambda lib: lib.ReflectionPad3d(1),
    lambda lib: lib.ReplicationPad1d((1, 2)),
    lambda lib: lib.ReplicationPad2d(2),
    lambda lib: lib.ReplicationPad3d(1),
    lambda lib: lib.CircularPad1d(1),
    lambda lib: lib.CircularPad2d((1, 1, 2, 0)),
    lambda lib: lib.CircularPad3d(2),
    lambda lib: lib.Fold((4, 5), 2),
    lambda lib: lib.Fold(output_size=6, kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2)),
    lambda lib: lib.Unfold(2),
    lambda lib: lib.Unfold((2, 3), dilation=1, padding=(1, 0), stride=2),
    lambda lib: lib.CrossEntropyLoss(),
    lambda lib: lib.CrossEntropyLoss(ignore_index=0, label_smoothing=0.1, reduction="sum"),
    lambda lib: lib.NLLLoss(),
    lambda lib: lib.BCELoss(),
    lambda lib: lib.BCEWithLogitsLoss(),
    lambda lib: lib.MSELoss(reduction="none"),
    lambda lib: lib.L1Loss(),
    lambda lib: lib.SmoothL1Loss(beta=0.5),
    lambda lib: lib.HuberLoss(delta=2.0),
    lambda lib: lib.KLDivLoss(reduction="batchmean", log_target=True),
    lambda lib: lib.SoftMarginLoss(),
    lambda lib: lib.MarginRankingLoss(margin=0.5),
    lambda lib: lib.PixelShuffle(3),
    lambda lib: lib.ChannelShuffle(3),
    lambda lib: lib.PixelUnshuffle(2),
    lambda lib: lib.PairwiseDistance(),
    lambda lib: lib.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True),
    lambda lib: lib.CosineSimilarity(dim=0, eps=1e-3),
    lambda lib: lib.TripletMarginLoss(margin=0.5, p=1, swap=True),
    lambda lib: lib.TripletMarginWithDistanceLoss(),
    lambda lib: lib.TripletMarginWithDistanceLoss(distance_function=lib.CosineSimilarity(), margin=0.5, swap=True),
    lambda lib: lib.CosineEmbeddingLoss(margin=0.2),
    lambda lib: lib.HingeEmbeddingLoss(),
    lambda lib: lib.MultiMarginLoss(p=2),
    lambda lib: lib.MultiLabelMarginLoss(),
    lambda lib: lib.MultiLabelSoftMarginLoss(),
    lambda lib: lib.PoissonNLLLoss(log_input=False, full=True),
    lambda lib: lib.GaussianNLLLoss(full=True, eps=1e-3),
    lambda lib: lib.LazyLinear(5),
    lambda lib: lib.LazyConv1d(4, 3, stride=2),
    lambda lib: lib.LazyConv2d(8, 3, padding=1, bias=False),
    lambda lib: lib.LazyConv3d(2, 2, dilation=2, groups=2),
    lambda lib: lib.LazyConvTranspose1d(4, 3),
    lambda lib: lib.LazyConvTranspose2d(4, 3, stride=2, output_padding=1),
    lambda lib: lib.LazyConvTranspose3d(2, 2),
    lambda lib: lib.LazyBatchNorm1d(),
    lambda lib: lib.LazyBatchNorm2d(momentum=0.2),
    lambda lib: lib.LazyBatchNorm3d(affine=False),
    lambda lib: lib.UninitializedParameter(),
    lambda lib: lib.UninitializedBuffer(),
]


def _source(build):
    import inspect
    return inspect.getsource(build).strip().rstrip(",").replace("lambda lib: lib.", "")


@pytest.mark.parametrize("build", LAYERS, ids=[_source(b) for b in LAYERS])
def test_layer_repr_equals_torch(build):
    assert repr(build(nn)) == repr(build(torch.nn))


def test_every_layer_class_has_a_repr_test():
    """Every public layer class of cnnlab.nn that PyTorch also has appears in LAYERS above."""
    covered = {type(build(nn)).__name__ for build in LAYERS}
    public = {name for name in nn.modules.__all__ if hasattr(torch.nn, name)}
    untested = public - covered - {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
                                   "ParameterDict", "RemovableHandle"}
    assert not untested, sorted(untested)


def alexnet(lib):
    """AlexNet as torchvision defines it (features, avgpool, classifier)."""
    class AlexNet(lib.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.features = lib.Sequential(
                lib.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), lib.ReLU(inplace=True),
                lib.MaxPool2d(kernel_size=3, stride=2),
                lib.Conv2d(64, 192, kernel_size=5, padding=2), lib.ReLU(inplace=True),
                lib.MaxPool2d(kernel_size=3, stride=2),
                lib.Conv2d(192, 384, kernel_size=3, padding=1), lib.ReLU(inplace=True),
                lib.Conv2d(384, 256, kernel_size=3, padding=1), lib.ReLU(inplace=True),
                lib.Conv2d(256, 256, kernel_size=3, padding=1), lib.ReLU(inplace=True),
                lib.MaxPool2d(kernel_size=3, stride=2))
            self.avgpool = lib.AdaptiveAvgPool2d((6, 6))
            self.classifier = lib.Sequential(
                lib.Dropout(p=0.5), lib.Linear(256 * 6 * 6, 4096), lib.ReLU(inplace=True),
                lib.Dropout(p=0.5), lib.Linear(4096, 4096), lib.ReLU(inplace=True), lib.Linear(4096, num_classes))

    return AlexNet(num_classes=10)


def nested(lib):
    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.Conv2d(8, 8, 3, padding=1, bias=False)
            self.bn = lib.BatchNorm2d(8)
            self.act = lib.ReLU()

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.stem = lib.Sequential(OrderedDict([("conv", lib.Conv2d(3, 8, 3)), ("act", lib.SiLU())]))
            self.blocks = lib.ModuleList([Block() for _ in range(3)] + [lib.Identity()])
            self.heads = lib.ModuleDict({"cls": lib.Sequential(lib.Flatten(), lib.Linear(8, 10)),
                                         "none": lib.Sequential()})
            self.empty = lib.ModuleList()
            self.missing = None
            self.loss = lib.CrossEntropyLoss()

    return Net()


@pytest.mark.parametrize("build", [alexnet, nested], ids=["alexnet", "nested"])
def test_model_repr_equals_torch(build):
    assert repr(build(nn)) == repr(build(torch.nn))


def test_print_model(capsys):
    print(nested(nn))
    cn = capsys.readouterr().out
    print(nested(torch.nn))
    assert cn == capsys.readouterr().out
    assert "(0-2): 3 x Block(" in cn


def test_module_list_groups_runs_like_torch():
    for items in ([], [0], [0, 0], [0, 1, 1, 0, 0, 0, 2], [1, 2, 1]):
        def build(lib, items=items):
            kinds = [lambda: lib.ReLU(), lambda: lib.Linear(2, 2), lambda: lib.Sequential(lib.Tanh(), lib.Tanh())]
            return lib.ModuleList([kinds[i]() for i in items])
        assert repr(build(nn)) == repr(build(torch.nn)), items


def test_custom_extra_repr_multiline():
    for lib in (nn, torch.nn):
        class Scale(lib.Module):
            def extra_repr(self):
                return "factor=2\n\nbias=True"
        s = lib.Sequential(Scale())
        s.inner = Scale()
        s.inner.sub = lib.ReLU()
        if lib is nn:
            cn = repr(s)
        else:
            assert cn == repr(s)


def test_parameter_and_container_reprs():
    assert repr(nn.Parameter(cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]))) == \
        repr(torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]])))
    pl = repr(nn.ParameterList([nn.Parameter(cnnlab.zeros(2, 3)), cnnlab.zeros(2, dtype=cnnlab.float64)]))
    pt = repr(torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)), torch.zeros(2, dtype=torch.float64)]))
    assert pl == pt.replace("torch.", "cnnlab.")
    pd = repr(nn.ParameterDict({"a": cnnlab.zeros(2, 3)}))
    assert pd == repr(torch.nn.ParameterDict({"a": torch.zeros(2, 3)})).replace("torch.", "cnnlab.")
    assert repr(nn.ModuleDict()) == repr(torch.nn.ModuleDict()) and repr(nn.Sequential()) == "Sequential()"
