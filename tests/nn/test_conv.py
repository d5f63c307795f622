"""conv1d/2d/3d: values and gradients against PyTorch, the extensions (strided 'same', 'same_lower', asymmetric
padding, 'causal') against a plain-loop reference and the published 'same' rule, finite differences, float32,
the batch-chunked path, and every error message."""
import re

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.kernels import gemm
from oracle import CN, PT, check, check_float32, gradcheck, rand
from reference_loops import conv_loop, zero_pad

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

CONV = {1: "conv1d", 2: "conv2d", 3: "conv3d"}


def _conv(n, **kw):
    return lambda lib, x, w, b=None: getattr(lib.F, CONV[n])(x, w, b, **kw)


# (input shape, weight shape, keyword arguments): odd and even kernels, non-square inputs and kernels,
# groups (incl. depthwise and depthwise with a channel multiplier), 1x1, batch 1, kernel == input.
CASES = [
    ((2, 3, 10), (4, 3, 3), {}),
    ((1, 4, 11), (6, 2, 4), dict(stride=2, padding=1, dilation=2, groups=2)),
    ((3, 2, 9), (2, 2, 5), dict(padding="same")),
    ((2, 3, 8), (3, 3, 2), dict(padding="same", dilation=3)),
    ((2, 4, 12), (4, 1, 3), dict(groups=4, stride=3, padding="valid")),
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((2, 3, 8, 9), (4, 3, 3, 3), dict(stride=2, padding=1)),
    ((1, 4, 9, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ((2, 3, 10, 9), (5, 3, 4, 4), dict(stride=3, padding=2)),
    ((2, 4, 7, 8), (4, 1, 3, 3), dict(groups=4, padding=1)),
    ((2, 4, 7, 8), (8, 1, 3, 3), dict(groups=4, stride=2)),
    ((2, 6, 5, 5), (6, 6, 1, 1), {}),
    ((2, 6, 5, 7), (4, 3, 1, 1), dict(groups=2, stride=2)),
    ((2, 3, 9, 8), (4, 3, 3, 3), dict(dilation=3, padding="same")),
    ((2, 3, 9, 8), (4, 3, 2, 4), dict(padding="same")),
    ((2, 3, 11, 10), (4, 3, 5, 3), dict(stride=(3, 2), dilation=(2, 1), padding=(2, 1))),
    ((1, 1, 5, 4), (1, 1, 5, 4), {}),
    ((2, 2, 6, 6), (3, 2, 3, 3), dict(dilation=2, stride=2, padding="valid")),
    ((2, 3, 5, 6, 4), (4, 3, 3, 3, 2), {}),
    ((1, 4, 6, 5, 7), (4, 2, 3, 2, 3), dict(stride=(1, 2, 2), padding=(1, 0, 1), dilation=(2, 1, 1), groups=2)),
    ((2, 2, 5, 5, 5), (2, 1, 3, 3, 3), dict(groups=2, padding="same")),
    ((1, 2, 6, 7, 5), (3, 2, 2, 3, 2), dict(stride=3, padding=1)),
]


@pytest.mark.parametrize("x_shape,w_shape,kw", CASES, ids=[f"{len(x)-2}d-{i}" for i, (x, _, _) in enumerate(CASES)])
def test_matches_torch(x_shape, w_shape, kw):
    check(_conv(len(x_shape) - 2, **kw), rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2))


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 2, (1, 0)])
def test_stride_dilation_padding_grid(stride, dilation, padding):
    check(_conv(2, stride=stride, dilation=dilation, padding=padding),
          rand(2, 3, 10, 9), rand(4, 3, 3, 2, seed=1), rand(4, seed=2))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_bias_and_unbatched(n):
    sp = (7, 6, 5)[:n]
    check(_conv(n, padding=1), rand(2, 3, *sp), rand(4, 3, *(3,) * n, seed=1))
    out, _ = check(_conv(n, stride=2), rand(3, *sp), rand(4, 3, *(2,) * n, seed=1), rand(4, seed=2))
    assert out[0].shape[0] == 4 and out[0].ndim == n + 1


def test_only_some_inputs_require_grad():
    check(_conv(2, padding=1), rand(2, 3, 6, 5), rand(4, 3, 3, 3, seed=1), rand(4, seed=2),
          grad=[False, True, False])
    check(_conv(2, padding=1), rand(2, 3, 6, 5), rand(4, 3, 3, 3, seed=1), rand(4, seed=2),
          grad=[True, False, True])


# ---- padding modes: against torch.nn.ConvNd(padding_mode=...) (its _conv_forward takes our weight and bias) --
def _torch_module_conv(n, mode, w_shape, **kw):
    def fn(lib, x, w, b):
        mod = getattr(torch.nn, f"Conv{n}d")(w_shape[1] * kw.get("groups", 1), w_shape[0], w_shape[2:],
                                             padding_mode=mode, **kw).double()
        return mod._conv_forward(x, w, b)
    return fn


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("n,x_shape,w_shape,kw", [
    (1, (2, 3, 9), (4, 3, 3), dict(padding=2, stride=2)),
    (2, (2, 2, 6, 7), (4, 2, 3, 2), dict(padding=(1, 2), dilation=(2, 1))),
    (2, (1, 4, 5, 6), (4, 2, 3, 3), dict(padding="same", groups=2)),
    (3, (1, 2, 4, 5, 4), (3, 2, 3, 2, 3), dict(padding=1, stride=(1, 2, 1))),
])
def test_padding_modes_match_torch_modules(mode, n, x_shape, w_shape, kw):
    check(_conv(n, padding_mode=mode, **kw), rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2),
          torch_fn=_torch_module_conv(n, mode, w_shape, **kw))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_mode_asymmetric_pairs_vs_torch_pad(mode):
    pads = ((2, 0), (1, 3))
    check(_conv(2, padding=pads, padding_mode=mode, stride=2), rand(2, 3, 6, 7), rand(4, 3, 3, 2, seed=1),
          rand(4, seed=2),
          torch_fn=lambda lib, x, w, b: lib.F.conv2d(lib.F.pad(x, (1, 3, 2, 0), mode=mode), w, b, stride=2))


# ---- beyond PyTorch: the published 'same' rule, a plain-loop reference, torch on a pre-padded input -----------
def _same_pads(size, k, s, d, lower=False):
    """TensorFlow/Keras/JAX 'SAME': out = ceil(size/s); total = max((out-1)*s + d*(k-1) + 1 - size, 0)."""
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return (total - total // 2, total // 2) if lower else (total // 2, total - total // 2)


def _torch_prepadded(n, pads, **kw):
    flat = tuple(v for pair in reversed(pads) for v in pair)
    return lambda lib, x, w, b: getattr(lib.F, CONV[n])(lib.F.pad(x, flat), w, b, **kw)


def _check_extension(n, x, w, b, padding, pads, stride, dilation, groups=1):
    """The cnnlab result equals the loop reference on the zero-padded input, and values and gradients equal
    torch on the pre-padded input."""
    out = getattr(F, CONV[n])(cnnlab.tensor(x), cnnlab.tensor(w), cnnlab.tensor(b), stride=stride,
                              padding=padding, dilation=dilation, groups=groups)
    ref = conv_loop(zero_pad(x, pads), w, b, stride, dilation, groups)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    check(_conv(n, stride=stride, padding=padding, dilation=dilation, groups=groups), x, w, b,
          torch_fn=_torch_prepadded(n, pads, stride=stride, dilation=dilation, groups=groups))
    return out


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("n,x_shape,k,stride,dilation", [
    (1, (2, 2, 11), (4,), (2,), (1,)),
    (1, (1, 3, 10), (3,), (3,), (2,)),
    (2, (2, 2, 7, 8), (3, 2), (2, 3), (1, 1)),
    (2, (1, 3, 9, 6), (4, 5), (2, 2), (2, 1)),
    (2, (2, 2, 5, 5), (3, 3), (1, 1), (1, 1)),
    (3, (1, 2, 5, 6, 7), (3, 2, 3), (2, 3, 2), (1, 1, 2)),
])
def test_strided_same_and_same_lower(lower, n, x_shape, k, stride, dilation):
    x, w, b = rand(*x_shape), rand(3, x_shape[1], *k, seed=1), rand(3, seed=2)
    pads = tuple(_same_pads(s, kk, st, d, lower) for s, kk, st, d in zip(x_shape[2:], k, stride, dilation))
    out = _check_extension(n, x, w, b, "same_lower" if lower else "same", pads, stride, dilation)
    assert out.shape[2:] == tuple(-(-s // st) for s, st in zip(x_shape[2:], stride))  # ceil(in / stride)


def test_same_lower_puts_the_odd_pixel_before():
    x, w = cnnlab.tensor(rand(1, 1, 6)), cnnlab.tensor(rand(1, 1, 2, seed=1))
    hi, lo = F.conv1d(x, w, padding="same"), F.conv1d(x, w, padding="same_lower")
    np.testing.assert_allclose(lo.numpy()[..., 1:], hi.numpy()[..., :-1])  # shifted by the odd pixel
    np.testing.assert_allclose(hi.numpy(), F.conv1d(x, w, padding=((0, 1),)).numpy())


@pytest.mark.parametrize("n,x_shape,w_shape,pads,stride,dilation,groups", [
    (1, (2, 2, 7), (3, 2, 3), ((2, 0),), 1, 2, 1),
    (2, (2, 4, 6, 5), (4, 2, 3, 2), ((0, 2), (3, 1)), (2, 1), 1, 2),
    (2, (1, 3, 5, 5), (2, 3, 3, 3), ((1, 0), (0, 1)), 1, (1, 2), 1),
    (3, (1, 2, 4, 5, 3), (2, 2, 2, 3, 2), ((1, 0), (0, 2), (1, 1)), (1, 2, 1), 1, 1),
])
def test_asymmetric_padding_pairs(n, x_shape, w_shape, pads, stride, dilation, groups):
    _check_extension(n, rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2), pads, pads, stride,
                     dilation, groups)


@pytest.mark.parametrize("k,dilation", [(3, 1), (2, 3), (4, 2)])
def test_causal(k, dilation):
    x, w, b = rand(2, 3, 9), rand(4, 3, k, seed=1), rand(4, seed=2)
    out = _check_extension(1, x, w, b, "causal", ((dilation * (k - 1), 0),), 1, dilation)
    assert out.shape == (2, 4, 9)
    changed = x.copy()
    changed[..., 6:] += 1.0  # inputs at t >= 6 must not reach outputs at t < 6
    out2 = F.conv1d(cnnlab.tensor(changed), cnnlab.tensor(w), cnnlab.tensor(b), padding="causal",
                    dilation=dilation)
    np.testing.assert_array_equal(out2.numpy()[..., :6], out.numpy()[..., :6])
    assert not np.allclose(out2.numpy()[..., 6:], out.numpy()[..., 6:])


@pytest.mark.parametrize("x_shape,w_shape,kw", [CASES[1], CASES[7], CASES[10], CASES[19]])
def test_matches_loop_reference(x_shape, w_shape, kw):
    x, w, b = rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2)
    n = len(x_shape) - 2
    p = kw.get("padding", 0)
    pads = tuple((v, v) for v in ((p,) * n if isinstance(p, int) else p))
    out = getattr(F, CONV[n])(cnnlab.tensor(x), cnnlab.tensor(w), cnnlab.tensor(b), **kw)
    ref = conv_loop(zero_pad(x, pads), w, b, kw.get("stride", 1), kw.get("dilation", 1), kw.get("groups", 1))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)


# ---- finite differences, float32, the chunked path -----------------------------------------------------------
@pytest.mark.parametrize("n,x_shape,w_shape,kw", [
    (1, (2, 2, 7), (2, 2, 3), dict(padding="causal", dilation=2)),
    (2, (1, 2, 5, 4), (4, 1, 3, 2), dict(groups=2, stride=2, padding=((1, 0), (0, 1)), dilation=(1, 2))),
    (2, (2, 2, 4, 5), (2, 2, 2, 2), dict(padding="same", stride=2, padding_mode="zeros")),
    (3, (1, 2, 3, 4, 3), (2, 2, 2, 2, 2), dict(padding=1, stride=(1, 2, 1))),
])
def test_gradcheck(n, x_shape, w_shape, kw):
    gradcheck(lambda x, w, b: getattr(F, CONV[n])(x, w, b, **kw), rand(*x_shape), rand(*w_shape, seed=1),
              rand(w_shape[0], seed=2))


@pytest.mark.parametrize("n,x_shape,w_shape,kw", [
    (1, (2, 3, 10), (4, 3, 3), dict(padding=1)),
    (2, (2, 4, 9, 8), (6, 2, 3, 3), dict(padding="same", groups=2)),
    (2, (2, 4, 9, 8), (6, 2, 3, 2), dict(stride=2, padding=1, groups=2)),
    (3, (1, 2, 5, 4, 6), (3, 2, 2, 3, 3), dict(dilation=(1, 1, 2))),
])
def test_float32(n, x_shape, w_shape, kw):
    out = check_float32(_conv(n, **kw), rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2))
    assert out[0].dtype == np.float32
    x, w, b = (cnnlab.tensor(rand(*s, seed=i, dtype=np.float32), requires_grad=True)
               for i, s in enumerate((x_shape, w_shape, w_shape[:1])))
    getattr(F, CONV[n])(x, w, b, **kw).sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == cnnlab.float32


@pytest.mark.parametrize("limit", [1, 2000])
def test_batch_chunks_give_the_same_result(monkeypatch, limit):
    monkeypatch.setattr(gemm, "COLUMN_BYTES", limit)  # one sample, then a few, per column matrix
    check(_conv(2, stride=2, padding=1, groups=2), rand(5, 4, 6, 7), rand(6, 2, 3, 3, seed=1), rand(6, seed=2))


@pytest.mark.parametrize("waste", [0.0, 100.0])  # never / always the flat lowering (stride 1, 2-d and up)
@pytest.mark.parametrize("x_shape,w_shape,kw", [c for c in CASES if c[2].get("stride", 1) == 1 and len(c[0]) > 3])
def test_both_lowerings(monkeypatch, waste, x_shape, w_shape, kw):
    monkeypatch.setattr(gemm, "FLAT_WASTE", waste)
    check(_conv(len(x_shape) - 2, **kw), rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2))


def test_empty_batch():
    out = F.conv2d(cnnlab.zeros(0, 3, 5, 5), cnnlab.zeros(4, 3, 3, 3))
    assert out.shape == (0, 4, 3, 3)


# ---- errors -------------------------------------------------------------------------------------------------
def _t(*shape, dtype=None):
    return cnnlab.zeros(*shape, dtype=dtype)


def test_channel_mismatch_message():
    msg = ("conv2d: input channels must equal weight.shape[1] * groups. Got input.shape=(8, 3, 32, 32), "
           "weight.shape=(16, 6, 5, 5), groups=1.")
    with pytest.raises(cnnlab.ShapeError, match=r"^" + re.escape(msg) + r"$"):
        F.conv2d(_t(8, 3, 32, 32), _t(16, 6, 5, 5))
    with pytest.raises(RuntimeError):  # the exception type PyTorch raises
        F.conv2d(_t(8, 3, 32, 32), _t(16, 6, 5, 5))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.conv2d(_t(1, 3, 4, 4), _t(2, 3, 5, 5)), cnnlab.ShapeError,
     r"conv2d: output size would be 0 or less.*Got H=4 with kernel_size=5, padding=0, stride=1, dilation=1 "
     r"\(H_out = floor\(\(4 \+ 0 - 1\*\(5-1\) - 1\)/1\) \+ 1 = 0\)"),
    (lambda: F.conv1d(_t(1, 3, 7), _t(2, 3, 3), dilation=4), cnnlab.ShapeError,
     r"conv1d: output size would be 0 or less.*L=7 with kernel_size=3, padding=0, stride=1, dilation=4"),
    (lambda: F.conv2d(_t(3, 4, 4, 4, 4), _t(2, 4, 3, 3)), cnnlab.ShapeError,
     r"conv2d: expects a 3-d \(unbatched\) or 4-d \(batched\) input.*Got input.shape=\(3, 4, 4, 4, 4\)"),
    (lambda: F.conv2d(_t(4, 4), _t(2, 4, 3, 3)), cnnlab.ShapeError, r"conv2d: expects a 3-d.*Got input.shape=\(4, 4\)"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(2, 4, 3)), cnnlab.ShapeError,
     r"conv2d: weight must be 4-d \(out_channels, in_channels/groups, kH, kW\). Got weight.shape=\(2, 4, 3\)"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(3, 2, 3, 3), groups=2), cnnlab.ShapeError,
     r"conv2d: out_channels \(weight.shape\[0\]\) must be divisible by groups. Got weight.shape=\(3, 2, 3, 3\), "
     r"groups=2"),
    (lambda: F.conv2d(_t(1, 5, 5, 5), _t(4, 2, 3, 3), groups=2), cnnlab.ShapeError,
     r"input channels must equal weight.shape\[1\] \* groups. Got input.shape=\(1, 5, 5, 5\), "
     r"weight.shape=\(4, 2, 3, 3\), groups=2"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), groups=0), cnnlab.ShapeError, r"groups must be positive"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), groups=1.0), TypeError, r"groups must be an int"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), stride=0), cnnlab.ShapeError,
     r"conv2d: stride must be positive. Got stride=\(0, 0\)"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), stride=(1, -2)), RuntimeError, r"stride must be positive"),
    (lambda: F.conv3d(_t(1, 4, 5, 5, 5), _t(4, 4, 3, 3, 3), dilation=(1, 0, 1)), cnnlab.ShapeError,
     r"conv3d: dilation must be positive. Got dilation=\(1, 0, 1\)"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), padding=-1), cnnlab.ShapeError,
     r"conv2d: padding must be non-negative. Got padding=-1"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), padding=((1, -1), (0, 0))), ValueError,
     r"padding must be non-negative"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), _t(3)), cnnlab.ShapeError,
     r"conv2d: bias must be a 1-d tensor of out_channels=4 values. Got bias.shape=\(3,\)"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), _t(4, 1)), cnnlab.ShapeError, r"Got bias.shape=\(4, 1\)"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), padding="full"), ValueError,
     r"conv2d: padding must be an int, a tuple, or one of .*Got padding='full'"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), padding="causal"), ValueError,
     r"conv2d: padding='causal' is for 1-d convolutions only. Got 2 spatial dims"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), padding_mode="mirror"), ValueError,
     r"conv2d: padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\). "
     r"Got padding_mode='mirror'"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3), padding=1.5), TypeError, r"padding must be an int or a tuple"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 3, 3, dtype=cnnlab.float64)), cnnlab.DTypeError,
     r"conv2d: input and weight must have the same dtype. Got input.dtype=.*float32, weight.dtype=.*float64"),
    (lambda: F.conv2d(cnnlab.zeros(1, 4, 5, 5, dtype=cnnlab.int64), _t(4, 4, 3, 3)), cnnlab.DTypeError,
     r"conv2d: input must be a floating-point tensor"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), _t(4, 4, 3, 3)), TypeError, r"conv2d: input must be a tensor"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(4, 4, 0, 3)), cnnlab.ShapeError, r"kernel sizes .* must be positive"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_error_types_agree_with_torch():
    """Where PyTorch raises RuntimeError, cnnlab's exception is a RuntimeError too."""
    for fn in (lambda lib, x, w: lib.F.conv2d(x, w),                       # channel mismatch
               lambda lib, x, w: lib.F.conv2d(x[:, :, :2, :2], w[:, :3]),  # input smaller than the kernel
               lambda lib, x, w: lib.F.conv2d(x, w[:, :3], stride=0)):
        with pytest.raises(RuntimeError):
            fn(PT, torch.zeros(1, 3, 5, 5), torch.zeros(2, 4, 3, 3))
        with pytest.raises(RuntimeError):
            fn(CN, _t(1, 3, 5, 5), _t(2, 4, 3, 3))
