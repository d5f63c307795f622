"""conv_transpose1d/2d/3d: values and gradients against PyTorch (output_padding, dilation, groups, unbatched),
the adjoint identity with conv, a plain scatter-loop reference, finite differences, float32, errors."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.kernels import gemm
from oracle import check, check_float32, gradcheck, rand
from reference_loops import conv_transpose_loop

CONV_T = {1: "conv_transpose1d", 2: "conv_transpose2d", 3: "conv_transpose3d"}


def _convt(n, **kw):
    return lambda lib, x, w, b=None: getattr(lib.F, CONV_T[n])(x, w, b, **kw)


# (input shape, weight shape (C_in, C_out/groups, *K), keyword arguments)
CASES = [
    ((2, 3, 6), (3, 4, 3), {}),
    ((1, 4, 7), (4, 3, 4), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ((2, 2, 5), (2, 2, 3), dict(stride=3, dilation=2, output_padding=2)),
    ((2, 3, 4, 5), (3, 2, 3, 3), {}),
    ((2, 3, 4, 5), (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 5, 3), (4, 3, 2, 4), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2), groups=2)),
    ((2, 2, 4, 4), (2, 3, 3, 2), dict(stride=1, dilation=3, output_padding=(2, 1))),  # output_padding < dilation
    ((2, 4, 3, 4), (4, 1, 3, 3), dict(stride=2, groups=4, padding=1)),                  # depthwise
    ((2, 3, 5, 4), (3, 5, 1, 1), dict(stride=2)),
    ((1, 2, 3, 4), (2, 2, 4, 4), dict(stride=2, padding=1, dilation=(1, 2))),
    ((2, 2, 3, 4, 3), (2, 3, 3, 2, 3), {}),
    ((1, 4, 3, 2, 3), (4, 1, 2, 3, 2), dict(stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2),
                                            groups=2, dilation=(1, 2, 1))),
]


@pytest.mark.parametrize("x_shape,w_shape,kw", CASES, ids=[f"{len(x)-2}d-{i}" for i, (x, _, _) in enumerate(CASES)])
def test_matches_torch(x_shape, w_shape, kw):
    groups = kw.get("groups", 1)
    check(_convt(len(x_shape) - 2, **kw), rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[1] * groups, seed=2))


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("padding", [0, 1, (2, 0)])
def test_stride_dilation_padding_grid(stride, dilation, padding):
    out_pad = min(stride, dilation + 1) - 1 if stride > 1 else 0
    check(_convt(2, stride=stride, dilation=dilation, padding=padding, output_padding=out_pad),
          rand(2, 3, 4, 5), rand(3, 2, 3, 2, seed=1), rand(2, seed=2))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_bias_and_unbatched(n):
    sp = (4, 3, 5)[:n]
    check(_convt(n, stride=2, padding=1), rand(2, 3, *sp), rand(3, 2, *(3,) * n, seed=1))
    out, _ = check(_convt(n, stride=2, output_padding=1), rand(3, *sp), rand(3, 4, *(2,) * n, seed=1),
                   rand(4, seed=2))
    assert out[0].shape[0] == 4 and out[0].ndim == n + 1


@pytest.mark.parametrize("x_shape,w_shape,kw", [CASES[1], CASES[5], CASES[11]])
def test_matches_scatter_loop(x_shape, w_shape, kw):
    x, w = rand(*x_shape), rand(*w_shape, seed=1)
    b = rand(w_shape[1] * kw.get("groups", 1), seed=2)
    out = getattr(F, CONV_T[len(x_shape) - 2])(cnnlab.tensor(x), cnnlab.tensor(w), cnnlab.tensor(b), **kw)
    np.testing.assert_allclose(out.numpy(), conv_transpose_loop(x, w, b, **kw), rtol=1e-10, atol=1e-12)


def test_asymmetric_padding_pairs_vs_scatter_loop_and_torch():
    """An extension: ((before, after), ...) crops the full transposed output unevenly."""
    x, w, b = rand(2, 2, 4, 3), rand(2, 3, 3, 2, seed=1), rand(3, seed=2)
    pads = ((2, 0), (0, 1))
    kw = dict(stride=2, output_padding=1)
    out = F.conv_transpose2d(cnnlab.tensor(x), cnnlab.tensor(w), cnnlab.tensor(b), padding=pads, **kw)
    np.testing.assert_allclose(out.numpy(), conv_transpose_loop(x, w, b, padding=pads, **kw), rtol=1e-10)
    check(lambda lib, x, w, b: lib.F.conv_transpose2d(x, w, b, padding=pads, **kw), x, w, b,
          torch_fn=lambda lib, x, w, b: lib.F.conv_transpose2d(x, w, b, **kw)[:, :, 2:, :-1])


@pytest.mark.parametrize("n,x_shape,w_shape,kw", [
    (1, (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    (2, (2, 3, 7, 8), (4, 3, 3, 2), dict(stride=(2, 3), padding=((1, 0), (2, 1)))),
    (3, (1, 2, 5, 6, 5), (4, 2, 2, 3, 2), dict(stride=2, padding=1)),
])
def test_adjoint_of_conv(n, x_shape, w_shape, kw):
    """<conv(x, w), y> == <x, conv_transpose(y, w)> for the same stride, padding, dilation, groups, with
    output_padding chosen so that conv_transpose gives x's shape back."""
    conv = getattr(F, ("conv1d", "conv2d", "conv3d")[n - 1])
    x, w = cnnlab.tensor(rand(*x_shape)), cnnlab.tensor(rand(*w_shape, seed=1))
    y_shape = tuple(conv(x, w, **kw).shape)
    y = cnnlab.tensor(rand(*y_shape, seed=2))
    plain = dict(kw)
    plain_out = getattr(F, CONV_T[n])(y, w, **plain).shape
    out_pad = tuple(a - b for a, b in zip(x_shape[2:], plain_out[2:]))
    xt = getattr(F, CONV_T[n])(y, w, output_padding=out_pad, **kw)
    assert tuple(xt.shape) == x_shape
    lhs = float((conv(x, w, **kw) * y).sum())
    rhs = float((x * xt).sum())
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


@pytest.mark.parametrize("n,x_shape,w_shape,kw", [
    (1, (2, 2, 4), (2, 2, 3), dict(stride=2, output_padding=1, dilation=2)),
    (2, (1, 4, 3, 2), (4, 1, 3, 2), dict(groups=2, stride=(2, 1), padding=((1, 0), (0, 1)), output_padding=(1, 0))),
    (3, (1, 2, 2, 3, 2), (2, 2, 2, 2, 2), dict(stride=(1, 2, 1), padding=1)),
])
def test_gradcheck(n, x_shape, w_shape, kw):
    gradcheck(lambda x, w, b: getattr(F, CONV_T[n])(x, w, b, **kw), rand(*x_shape), rand(*w_shape, seed=1),
              rand(w_shape[1] * kw.get("groups", 1), seed=2))


@pytest.mark.parametrize("n,x_shape,w_shape,kw", [
    (1, (2, 3, 7), (3, 4, 3), dict(stride=2, padding=1, output_padding=1)),
    (2, (2, 4, 5, 6), (4, 3, 4, 4), dict(stride=2, padding=1, groups=2)),
    (3, (1, 2, 3, 4, 3), (2, 3, 3, 2, 2), dict(dilation=(2, 1, 1))),
])
def test_float32(n, x_shape, w_shape, kw):
    out = check_float32(_convt(n, **kw), rand(*x_shape), rand(*w_shape, seed=1),
                        rand(w_shape[1] * kw.get("groups", 1), seed=2))
    assert out[0].dtype == np.float32


@pytest.mark.parametrize("limit", [1, 2000])
def test_batch_chunks_give_the_same_result(monkeypatch, limit):
    monkeypatch.setattr(gemm, "COLUMN_BYTES", limit)
    check(_convt(2, stride=2, padding=1, output_padding=1, groups=2), rand(5, 4, 4, 3), rand(4, 3, 3, 3, seed=1),
          rand(6, seed=2))


@pytest.mark.parametrize("waste", [0.0, 100.0])  # never / always the flat lowering
@pytest.mark.parametrize("x_shape,w_shape,kw", [CASES[3], CASES[6], CASES[10]])
def test_both_lowerings(monkeypatch, waste, x_shape, w_shape, kw):
    monkeypatch.setattr(gemm, "FLAT_WASTE", waste)
    check(_convt(len(x_shape) - 2, **kw), rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[1], seed=2))


# ---- errors -------------------------------------------------------------------------------------------------
def _t(*shape):
    return cnnlab.zeros(*shape)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3, 3), stride=2, output_padding=2), cnnlab.ShapeError,
     r"conv_transpose2d: output_padding must be smaller than either stride or dilation. "
     r"Got output_padding=\(2, 2\), stride=\(2, 2\), dilation=\(1, 1\)"),
    (lambda: F.conv_transpose1d(_t(1, 3, 4), _t(3, 2, 3), output_padding=1), RuntimeError,
     r"output_padding must be smaller than either stride or dilation. Got output_padding=\(1,\), stride=\(1,\)"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3, 3), output_padding=-1), cnnlab.ShapeError,
     r"output_padding must be non-negative"),
    (lambda: F.conv_transpose2d(_t(1, 4, 4, 4), _t(3, 2, 3, 3)), cnnlab.ShapeError,
     r"conv_transpose2d: input channels must equal weight.shape\[0\]. Got input.shape=\(1, 4, 4, 4\), "
     r"weight.shape=\(3, 2, 3, 3\), groups=1"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3, 3), groups=2), cnnlab.ShapeError,
     r"conv_transpose2d: in_channels \(weight.shape\[0\]\) must be divisible by groups. "
     r"Got weight.shape=\(3, 2, 3, 3\), groups=2"),
    (lambda: F.conv_transpose2d(_t(1, 4, 4, 4), _t(4, 2, 3, 3), _t(2), groups=2), cnnlab.ShapeError,
     r"bias must be a 1-d tensor of out_channels=4 values. Got bias.shape=\(2,\)"),
    (lambda: F.conv_transpose2d(_t(1, 3, 2, 2), _t(3, 2, 3, 3), padding=3), cnnlab.ShapeError,
     r"conv_transpose2d: output size would be 0 or less. Got H=2 with kernel_size=3, stride=1, padding=3, "
     r"output_padding=0, dilation=1 \(H_out = \(2-1\)\*1 - 6 \+ 1\*\(3-1\) \+ 0 \+ 1 = -2\)"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3, 3), padding="same"), ValueError,
     r"conv_transpose2d: padding must be an int or a tuple \(string paddings are for conv only\)"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3, 3), stride=0), cnnlab.ShapeError,
     r"stride must be positive"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3, 3), dilation=-1), cnnlab.ShapeError,
     r"dilation must be positive"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3, 3), padding=-1), cnnlab.ShapeError,
     r"padding must be non-negative"),
    (lambda: F.conv_transpose3d(_t(3, 4, 4), _t(3, 2, 3, 3, 3)), cnnlab.ShapeError,
     r"conv_transpose3d: expects a 4-d \(unbatched\) or 5-d \(batched\) input"),
    (lambda: F.conv_transpose2d(_t(1, 3, 4, 4), _t(3, 2, 3)), cnnlab.ShapeError,
     r"conv_transpose2d: weight must be 4-d \(in_channels, out_channels/groups, kH, kW\)"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
