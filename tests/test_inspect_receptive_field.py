"""cnnlab.inspect.receptive_field against a brute-force gradient probe in PyTorch.

The same random network (chains and graphs: skip connections, concatenation, dilation, transposed convolution,
pooling, upsampling, adaptive pooling) is built in cnnlab and in PyTorch. The probe sets every weight positive,
feeds a positive input, and backpropagates one central output value: the input positions with a nonzero
gradient are those the value depends on (nothing cancels). Max pooling sends its gradient to one position per
window, so the probe network uses average pooling (or a positive depthwise convolution, for dilation) of the same
geometry in its place. The input is made large enough that the region lies inside it, so the probe's span is
the theoretical, unclipped region.
"""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as cnn
from cnnlab.inspect import receptive_field

torch = pytest.importorskip("torch")
C = 2  # channels everywhere: the receptive field does not depend on them


def _body(lib, spec, n, probe):
    return lib.nn.Sequential(*[_layer(lib, item, n, probe) for item in spec])


def _layer(lib, item, n, probe):
    nn = lib.nn
    kind = item[0]
    if kind == "conv":
        _, k, s, p, d = item
        return getattr(nn, f"Conv{n}d")(C, C, k, stride=s, padding=p, dilation=d)
    if kind == "tconv":
        _, k, s, p, d, op = item
        return getattr(nn, f"ConvTranspose{n}d")(C, C, k, stride=s, padding=p, dilation=d, output_padding=op)
    if kind == "pool":
        _, how, k, s, p, d, ceil = item
        if how == "avg" or (probe and d == 1):
            return getattr(nn, f"AvgPool{n}d")(k, s, p, ceil_mode=ceil)
        if probe:  # a dilated max pool's geometry as a positive depthwise convolution
            return getattr(nn, f"Conv{n}d")(C, C, k, stride=s, padding=p, dilation=d, groups=C, bias=False)
        return getattr(nn, f"MaxPool{n}d")(k, s, p, d, ceil_mode=ceil)
    if kind == "up":
        _, mode, factor = item
        mode = {"linear": {1: "linear", 2: "bilinear", 3: "trilinear"}[n]}.get(mode, mode)
        return nn.Upsample(scale_factor=factor, mode=mode)
    if kind == "adaptive":
        return getattr(nn, f"AdaptiveAvgPool{n}d")(item[1])
    if kind == "res":
        return _Residual(lib, _body(lib, item[1], n, probe))
    if kind == "cat":
        return _Concat(lib, _body(lib, item[1], n, probe), _body(lib, item[2], n, probe),
                       getattr(nn, f"Conv{n}d")(2 * C, C, 1))
    raise AssertionError(kind)


class _Residual:
    def __new__(cls, lib, body):
        class Residual(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.body = body

            def forward(self, x):
                return x + self.body(x)
        return Residual()


class _Concat:
    def __new__(cls, lib, a, b, merge):
        class Concat(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b, self.merge = a, b, merge

            def forward(self, x):
                return self.merge(lib.cat([self.a(x), self.b(x)], 1).relu())
        return Concat()


def _same_conv(rng):
    k, d = int(rng.choice([1, 3, 5])), int(rng.integers(1, 4))
    return ("conv", k, 1, d * (k - 1) // 2, d)


def _random_spec(rng, depth=0):
    spec = []
    for _ in range(int(rng.integers(2, 6))):
        r = rng.random()
        if r < 0.3:
            spec.append(("conv", int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(0, 3)),
                         int(rng.integers(1, 3))))
        elif r < 0.45:
            k, d = int(rng.integers(2, 4)), int(rng.integers(1, 3))
            ceil = bool(rng.random() < 0.3) and d == 1
            spec.append(("pool", str(rng.choice(["max", "avg"])) if d == 1 else "max", k, int(rng.integers(1, 3)),
                         int(rng.integers(0, k // 2 + 1)), d, ceil))
        elif r < 0.55:
            s = int(rng.integers(1, 3))
            d = int(rng.integers(1, 3))
            spec.append(("tconv", int(rng.integers(1, 5)), s, int(rng.integers(0, 2)), d,
                         int(rng.integers(0, max(s, d)))))
        elif r < 0.62:
            spec.append(("up", str(rng.choice(["nearest", "linear"])), 2))
        elif r < 0.8 and depth < 2:
            spec.append(("res", [_same_conv(rng) for _ in range(int(rng.integers(1, 3)))]))
        elif depth < 2:
            spec.append(("cat", [_same_conv(rng) for _ in range(int(rng.integers(1, 3)))],
                         [_same_conv(rng), ("res", [_same_conv(rng)])]))
    return spec


def _positive(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand_like(p) + 0.1)
    return model.double().eval()


def _probe(model, size, n, position):
    x = (torch.rand(1, C, *size, dtype=torch.float64) + 0.5).requires_grad_(True)
    y = model(x)
    y[(0, 0) + tuple(position)].backward()
    hit = x.grad[0].abs().sum(0) > 0
    spans = []
    for axis in range(n):
        others = tuple(a for a in range(n) if a != axis)
        idx = torch.nonzero(hit.any(dim=others) if others else hit).flatten()
        spans.append((int(idx.min()), int(idx.max())))
    return tuple(spans)


def _compare(spec, n, seed, start=40):
    cmodel = _body(cnnlab, spec, n, probe=False)
    torch.manual_seed(seed)
    tmodel = _positive(_body(torch, spec, n, probe=True))
    for size in (start, 2 * start, 4 * start):
        shape = (1, C) + (size,) * n
        try:
            rf = receptive_field(cmodel, shape)
        except cnnlab.ShapeError as e:
            if "output size would be 0" in str(e) or "does not depend" in str(e):  # e.g. kernel 1 at stride 2
                return False
            raise
        if all(0 <= lo and hi < size for lo, hi in rf.region):
            break
    else:
        return False
    assert _probe(tmodel, (size,) * n, n, rf.position) == rf.region, (spec, size, rf)
    return True


@pytest.mark.parametrize("seed", range(40))
def test_random_2d_graphs_match_the_gradient_probe(seed):
    rng = np.random.default_rng(seed)
    compared = 0
    for _ in range(5):
        compared += _compare(_random_spec(rng), 2, seed)
        if compared:
            break
    assert compared, "no valid random network for this seed"


@pytest.mark.parametrize("seed", range(10))
def test_random_1d_chains_match_the_gradient_probe(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(10):
        if _compare(_random_spec(rng), 1, seed, start=60):
            return
    pytest.fail("no valid random network for this seed")


def test_3d_and_asymmetric_geometry():
    spec = [("conv", 3, 2, 1, 1), ("pool", "max", 2, 2, 0, 1, False), ("res", [("conv", 3, 1, 2, 2)]),
            ("tconv", 3, 2, 1, 1, 1)]
    assert _compare(spec, 3, 0, start=24)
    rf = receptive_field(cnn.Sequential(cnn.Conv2d(1, 1, (3, 5), stride=(1, 2)), cnn.Conv2d(1, 1, (1, 3))),
                         (1, 1, 20, 40))
    assert rf == (3, 9) and rf.jump == (1, 2)


def _vgg16_features():  # VGG-16's geometry with one channel per layer
    layers = []
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        layers += [cnn.MaxPool2d(2, 2)] if v == "M" else [cnn.Conv2d(1, 1, 3, padding=1), cnn.ReLU(inplace=True)]
    return cnn.Sequential(*layers)


def _alexnet_features():
    return cnn.Sequential(cnn.Conv2d(1, 1, 11, 4, 2), cnn.ReLU(inplace=True), cnn.MaxPool2d(3, 2),
                          cnn.Conv2d(1, 1, 5, padding=2), cnn.ReLU(inplace=True), cnn.MaxPool2d(3, 2),
                          cnn.Conv2d(1, 1, 3, padding=1), cnn.ReLU(inplace=True), cnn.Conv2d(1, 1, 3, padding=1),
                          cnn.ReLU(inplace=True), cnn.Conv2d(1, 1, 3, padding=1), cnn.ReLU(inplace=True),
                          cnn.MaxPool2d(3, 2))


def test_published_receptive_fields():
    # Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019
    rf = receptive_field(_vgg16_features(), (1, 1, 224, 224))
    assert rf == (212, 212) and rf.jump == (32, 32)
    rf = receptive_field(_alexnet_features(), (1, 1, 224, 224))
    assert rf == (195, 195) and rf.jump == (32, 32)


def test_global_pooling_and_classifier_see_everything():
    net = cnn.Sequential(cnn.Conv2d(1, 2, 3), cnn.AdaptiveAvgPool2d(1), cnn.Flatten(), cnn.Linear(2, 3))
    rf = receptive_field(net, (1, 1, 9, 11))
    assert rf == (9, 11) and rf.region == ((0, 8), (0, 10))
    rf = receptive_field(net[:2], (1, 1, 9, 11))
    assert rf == (9, 11) and rf.jump == (None, None)


class _Functional(cnn.Module):
    """Spatial ops called as functions inside forward, a permute to channels-last and back, a channel split."""

    def __init__(self):
        super().__init__()
        self.conv = cnn.Conv2d(2, 2, 3)
        self.w = cnn.Parameter(cnnlab.rand(2, 2, 3, 3))

    def forward(self, lib_F, x):
        x = lib_F.max_pool2d(self.conv(x), 3, stride=2, padding=1)  # max pool: the probe's twin averages
        x = lib_F.conv2d(lib_F.pad(x, (2, 0, 1, 1)), self.w, dilation=(1, 2))
        y = x.permute(0, 2, 3, 1)  # (N, H, W, C), as ConvNeXt's layer norm
        x = (y * 2).permute(0, 3, 1, 2)
        a, b = x.split(1, dim=1)
        x = lib_F.interpolate(lib_F.avg_pool2d(a + b, 2), scale_factor=2, mode="nearest").expand(-1, 2, -1, -1)
        return lib_F.adaptive_avg_pool2d(x, (5, 5))


def test_functional_calls_inside_forward_match_the_probe():
    net = _Functional()
    cnet = type("Net", (cnn.Module,), {"forward": lambda self, x: net.forward(cnnlab.nn.functional, x)})()
    cnet.net = net
    rf = receptive_field(cnet, (1, 2, 64, 64))
    tconv = torch.nn.Conv2d(2, 2, 3).double()
    tw = torch.rand(2, 2, 3, 3, dtype=torch.float64) + 0.1
    with torch.no_grad():
        tconv.weight.copy_(torch.rand_like(tconv.weight) + 0.1)
    tF = torch.nn.functional

    class TNet(torch.nn.Module):
        def forward(self, x):
            x = tF.avg_pool2d(tconv(x), 3, stride=2, padding=1)
            x = tF.conv2d(tF.pad(x, (2, 0, 1, 1)), tw, dilation=(1, 2))
            x = (x.permute(0, 2, 3, 1) * 2).permute(0, 3, 1, 2)
            a, b = x.split(1, dim=1)
            x = tF.interpolate(tF.avg_pool2d(a + b, 2), scale_factor=2, mode="nearest").expand(-1, 2, -1, -1)
            return tF.adaptive_avg_pool2d(x, (5, 5))
    assert _probe(TNet(), (64, 64), 2, rf.position) == rf.region
    assert rf.region[0] != rf.region[1]  # the asymmetric pad and dilation show, each in its own axis


def test_unseeable_geometry_is_refused_with_advice():
    class Unfolding(cnn.Module):
        def forward(self, x):
            return cnnlab.nn.functional.fold(cnnlab.nn.functional.unfold(x, 3), (8, 8), 3)
    with pytest.raises(ValueError, match=r"receptive_field: a spatial op whose geometry .* cannot be seen"):
        receptive_field(Unfolding(), (1, 1, 8, 8))
    with pytest.raises(TypeError, match="give input_size"):
        receptive_field(_vgg16_features())


def test_training_mode_and_batch_norm_are_left_as_they_were():
    net = cnn.Sequential(cnn.Conv2d(1, 2, 3), cnn.BatchNorm2d(2), cnn.ReLU())
    before = net[1].running_mean.clone()
    assert receptive_field(net, (4, 1, 10, 10)) == (3, 3)
    assert net.training and net[1].training
    assert cnnlab.equal(net[1].running_mean, before)


class _ChannelsLastBlock(cnn.Module):
    """ConvNeXt's block: a 7x7 depthwise conv, then layer norm and an MLP on channels-last pixels, and the skip."""

    def __init__(self, dim=4):
        super().__init__()
        self.block = cnn.Sequential(cnn.Conv2d(dim, dim, 7, padding=3, groups=dim), cnn.Permute([0, 2, 3, 1]),
                                    cnn.LayerNorm(dim), cnn.Linear(dim, 4 * dim), cnn.GELU(), cnn.Linear(4 * dim, dim),
                                    cnn.Permute([0, 3, 1, 2]))
        self.scale = cnn.Parameter(cnnlab.ones(dim, 1, 1))

    def forward(self, x):
        return x + self.scale * self.block(x)


def test_channels_last_layers_keep_positions():
    # the MLP acts on each pixel alone: two blocks see 7 + 6 = 13 pixels, not the whole (permuted) map
    net = cnn.Sequential(cnn.Conv2d(3, 4, 4, stride=4), _ChannelsLastBlock(), _ChannelsLastBlock())
    rf = receptive_field(net, (1, 3, 64, 48))
    assert rf == (4 + 6 * 4 * 2,) * 2 and rf.jump == (4, 4)
    from cnnlab.inspect import summary
    rows = {r.path: r for r in summary(net, (1, 3, 64, 48), depth=5).summary_list}
    assert rows["1.block.0"].receptive_field == (28, 28) and rows["2"].receptive_field == (52, 52)
    assert rows["1.block.3"].receptive_field is None  # a channels-last tensor: no (H, W) to speak of
