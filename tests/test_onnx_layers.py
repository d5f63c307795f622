"""ONNX export of the lecture-notes layers and ops: each file passes onnx.checker (export runs it), runs in ONNX
Runtime at the traced batch and at another batch (the batch axis is dynamic), and matches cnnlab's output."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
import cnnlab.nn.functional as F
from tests.onnx_helpers import roundtrip


def rn(*shape, seed=0):
    return cnnlab.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


X = rn(2, 3, 10, 9)


def seeded(make):
    cnnlab.manual_seed(0)
    return make()


CONV = [
    lambda: nn.Conv2d(3, 4, 3),
    lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"),                 # strided 'same': asymmetric pads
    lambda: nn.Conv2d(3, 4, 4, padding="same", dilation=2),
    lambda: nn.Conv2d(3, 6, (3, 2), stride=(2, 1), padding=(1, 2), groups=3, bias=False),
    lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="reflect"),
    lambda: nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="replicate"),
    lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular", dilation=2),
    lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
    lambda: nn.ConvTranspose2d(3, 6, 2, stride=3, dilation=2, groups=3, output_padding=2),
]


@pytest.mark.parametrize("make", CONV, ids=range(len(CONV)))
def test_conv2d(make):
    roundtrip(seeded(make), X)


@pytest.mark.parametrize("make,x", [
    (lambda: nn.Conv1d(3, 2, 3, padding="same", dilation=2), rn(2, 3, 8)),
    (lambda: nn.ConvTranspose1d(3, 2, 3, stride=3, output_padding=2, dilation=2), rn(2, 3, 8)),
    (lambda: nn.Conv3d(3, 2, 3, padding=1, stride=2), rn(2, 3, 5, 6, 5)),
    (lambda: nn.ConvTranspose3d(3, 2, 2, stride=2), rn(2, 3, 3, 2, 3)),
    (lambda: nn.Conv1d(3, 2, 3, padding=2, padding_mode="reflect"), rn(2, 3, 8)),
], ids=range(5))
def test_conv_1d_3d(make, x):
    roundtrip(seeded(make), x)


POOL = [
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.max_pool2d(x, 3, 2, 1, dilation=2, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, 2, 1),
    lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    lambda x: F.min_pool2d(x, 3, 2, 1),
    lambda x: F.max_pool1d(x.flatten(2), 3, 2),
    lambda x: F.avg_pool3d(x.unsqueeze(1), 2),
    lambda x: F.adaptive_avg_pool2d(x, 1),
    lambda x: F.adaptive_avg_pool2d(x, (5, 3)),          # divides: a plain pool
    lambda x: F.adaptive_avg_pool2d(x, (3, 4)),          # does not divide: the bins written out
    lambda x: F.adaptive_max_pool2d(x, (3, 4)),
    lambda x: F.adaptive_max_pool2d(x, 1),
    lambda x: F.adaptive_avg_pool1d(x.flatten(2), 7),
]


@pytest.mark.parametrize("fn", POOL, ids=range(len(POOL)))
def test_pooling(fn):
    roundtrip(fn, X)


def test_avg_pool_dilation_needs_opset_19():
    roundtrip(lambda x: F.avg_pool2d(x, 3, 1, 1, dilation=2), X, opset_version=19)
    with pytest.raises(cnnlab.onnx.ExportError, match="opset 19"):
        roundtrip(lambda x: F.avg_pool2d(x, 3, 1, 1, dilation=2), X)


RESIZE = [
    lambda x: F.interpolate(x, size=(5, 7), mode="nearest"),
    lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
    lambda x: F.interpolate(x, size=(13, 4), mode="bilinear"),
    lambda x: F.interpolate(x, scale_factor=(2, 3), mode="bilinear"),
    lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
    lambda x: F.interpolate(x, size=(4, 11), mode="bilinear", align_corners=True),
    lambda x: F.interpolate(x, size=(12, 11), mode="bicubic"),
    lambda x: nn.Upsample(scale_factor=2)(x),
]


@pytest.mark.parametrize("fn", RESIZE, ids=range(len(RESIZE)))
def test_interpolate(fn):
    roundtrip(fn, X)


ACTIVATIONS = [nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.SELU(), nn.CELU(0.5), nn.GELU(),
               nn.GELU(approximate="tanh"), nn.SiLU(), nn.Mish(), nn.Hardswish(), nn.Hardsigmoid(), nn.Sigmoid(),
               nn.Tanh(), nn.Softplus(), nn.Softplus(2, 1), nn.Softsign(), nn.LogSigmoid(), nn.Hardtanh(-0.5, 2),
               nn.Threshold(0.1, -3.0), nn.Softmax(1), nn.LogSoftmax(1), nn.Softmax(-1), nn.PReLU(), nn.PReLU(3)]


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=lambda m: repr(m))
def test_activations(layer):
    roundtrip(layer, X * 3)


def test_norms_and_linear():
    cnnlab.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    bn.running_mean.copy_(rn(3, seed=5))
    bn.running_var.copy_(rn(3, seed=6).abs() + 0.5)
    roundtrip(bn, X)
    roundtrip(nn.BatchNorm2d(3, affine=False), X)
    roundtrip(nn.BatchNorm1d(3), rn(2, 3, 5))
    roundtrip(nn.LayerNorm(9), X)
    roundtrip(nn.LayerNorm((10, 9), elementwise_affine=False, eps=1e-3), X)
    roundtrip(nn.Linear(9, 4), X)                      # N-d input: MatMul
    roundtrip(nn.Linear(9, 4, bias=False), X)
    roundtrip(nn.Sequential(nn.Flatten(), nn.Linear(270, 5)), X)  # 2-d input: Gemm
    roundtrip(nn.Dropout(0.5), X)                      # eval: identity
    roundtrip(nn.Dropout2d(0.5), X)


SHAPES = [
    lambda x: x.flatten(1),
    lambda x: x.reshape(x.shape[0], 3, -1),
    lambda x: x[:, :1].expand(-1, 4, 10, 9) * 1,
    lambda x: x.permute(0, 2, 3, 1),
    lambda x: x.transpose(1, 3),
    lambda x: x.unsqueeze(2).squeeze(2),
    lambda x: cnnlab.cat([x, x * 2, -x], 1),
    lambda x: cnnlab.stack([x, x + 1], 2),
    lambda x: x[:, 1:, ::2, -3:],
    lambda x: x[:, 0, None, 1:-1, 2],
    lambda x: x[..., 1],
    lambda x: x.flip(2),
    lambda x: cnnlab.chunk(x, 3, 1)[1],
    lambda x: x.split([4, 6], 2)[1],
    lambda x: x.clone(),
    lambda x: x.clamp(-0.5, 0.5) + x.clamp(min=0.1),
    lambda x: F.pad(x, (1, 2, 0, 3)),
    lambda x: F.pad(x, (1, 2, 3, 0), value=2.5),
    lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
    lambda x: F.pad(x, (2, 1, 1, 2), mode="replicate"),
    lambda x: F.pad(x, (2, 1, 1, 2), mode="circular"),
    lambda x: nn.ZeroPad2d((1, 0, 2, 1))(x),
]


@pytest.mark.parametrize("fn", SHAPES, ids=range(len(SHAPES)))
def test_shape_ops(fn):
    roundtrip(fn, X)


ARITH = [
    lambda x, y: x + y, lambda x, y: x - y[:, :1], lambda x, y: x * y[0], lambda x, y: x / (y.abs() + 1),
    lambda x, y: 2 - x * 3 + 1 / (y * y + 1), lambda x, y: (x.abs() + 1) ** 1.5, lambda x, y: x.exp().log(),
    lambda x, y: (x * x).sqrt() - x.abs(), lambda x, y: -x,
    lambda x, y: x.mean((2, 3)), lambda x, y: x.sum(), lambda x, y: x.mean(-1, keepdim=True) + y,
    lambda x, y: x.sum(1) @ y.sum(1).transpose(1, 2), lambda x, y: cnnlab.maximum(x, y) - cnnlab.minimum(x, y),
    lambda x, y: (x * x + 1).rsqrt(), lambda x, y: cnnlab.erf(x),
]


@pytest.mark.parametrize("fn", ARITH, ids=range(len(ARITH)))
def test_arithmetic_with_broadcasting(fn):
    if fn is ARITH[10]:
        return roundtrip(fn, X, X + 1, batches=())  # a full sum: the batch cannot change the output's shape
    roundtrip(fn, X, rn(2, 3, 10, 9, seed=3))
