"""Double backward of the convolutions (cnnlab/derivatives/conv.py) against PyTorch in float64: the derivative of
(grad . v) with respect to input, weight, bias and the upstream gradient (tests/double_check.py), over every padding
form, padding mode, stride, dilation and groups, and a third order on some. cnnlab's extensions (per-side pads,
strided 'same', padding_mode in the functional op) are compared with the PyTorch composite they equal (F.pad, then
the convolution); where PyTorch itself fails (its third derivative of a transposed convolution with
output_padding), finite differences are the reference."""
import math

import pytest

import cnnlab
from double_check import check2
from oracle import rand

torch = pytest.importorskip("torch")


def _operands(n, c_in=4, c_out=6, groups=2, k=(3, 2, 2), size=(7, 6, 5), bias=True, transposed=False):
    x = rand(2, c_in, *size[:n])
    w = rand(*((c_in, c_out // groups) if transposed else (c_out, c_in // groups)), *k[:n], seed=1)
    return (x, w, rand(c_out, seed=2)) if bias else (x, w)


def _conv(n, **kw):
    return lambda lib, x, w, b=None: getattr(lib.F, f"conv{n}d")(x, w, b, **kw)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's note on its own copy
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(padding=2, dilation=2),
                                dict(stride=(2, 1, 3), padding="valid"), dict(padding="same")])
def test_conv(n, kw):
    kw = {k: (v[:n] if isinstance(v, tuple) else v) for k, v in kw.items()}
    check2(_conv(n, groups=2, **kw), *_operands(n))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kw", [dict(stride=(2, 3), padding=(1, 0)), dict(stride=3),
                                dict(dilation=(2, 1), padding=(0, 2)), dict(padding="same", dilation=(1, 2))])
def test_conv2d_geometries(kw):
    """Strides that leave input rows past the last window (the input gradient's output_padding), even kernels
    with 'same' (the odd pixel after), per-dim values."""
    check2(_conv(2, **kw), *_operands(2, groups=1))


@pytest.mark.parametrize("groups", [1, 3, 6])
def test_conv2d_groups_and_depthwise(groups):
    check2(_conv(2, stride=2, padding=1, groups=groups), *_operands(2, c_in=6, c_out=6, groups=groups, bias=False))


def test_conv2d_without_bias_third_order():
    check2(_conv(2, stride=2, padding=1, dilation=(1, 2), groups=2), *_operands(2, bias=False, size=(6, 7)),
           order=3)


def test_conv_with_bias_third_order_and_unbatched():
    check2(_conv(1, stride=2, padding=1), *_operands(1, groups=1, size=(8,)), order=3)
    x, w, b = _operands(2, groups=1, size=(5, 6))
    check2(_conv(2, padding=1), x[0], w, b)


def _same_pads(size, k, s, d):
    total = max((math.ceil(size / s) - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def test_conv_per_side_padding_and_strided_same():
    """Extensions: (before, after) pairs, and 'same' with a stride (output ceil(size / stride))."""
    x, w, b = _operands(2, groups=1)
    check2(_conv(2, padding=((2, 0), (1, 3)), stride=2), x, w, b,
           torch_fn=lambda lib, x, w, b: lib.F.conv2d(lib.F.pad(x, (1, 3, 2, 0)), w, b, stride=2))
    (t, bo), (l, r) = _same_pads(7, 3, 2, 1), _same_pads(6, 2, 2, 1)
    check2(_conv(2, padding="same", stride=2), x, w, b,
           torch_fn=lambda lib, x, w, b: lib.F.conv2d(lib.F.pad(x, (l, r, t, bo)), w, b, stride=2))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_padding_modes(mode, n):
    """padding_mode pads with F.pad first (nn.Conv's rule; the functional op's argument is an extension)."""
    pads = (1, 2, 1)[:n]
    flat = tuple(v for p in reversed(pads) for v in (p, p))
    check2(_conv(n, padding=pads, padding_mode=mode, stride=2, groups=2), *_operands(n, groups=2),
           torch_fn=lambda lib, x, w, b: getattr(lib.F, f"conv{n}d")(lib.F.pad(x, flat, mode=mode), w, b, stride=2,
                                                                    groups=2))


def _conv_t(n, **kw):
    return lambda lib, x, w, b=None: getattr(lib.F, f"conv_transpose{n}d")(x, w, b, **kw)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=2, dilation=2, padding=1), dict(stride=2, output_padding=2, dilation=3)])
def test_conv_transpose(n, kw):
    check2(_conv_t(n, groups=2, **kw), *_operands(n, transposed=True, size=(4, 3, 3)))


@pytest.mark.parametrize("groups", [1, 4])
def test_conv_transpose2d_groups_third_order(groups):
    check2(_conv_t(2, stride=(2, 1), padding=(1, 0), groups=groups, dilation=(1, 2)),
           *_operands(2, c_in=4, c_out=4, groups=groups, transposed=True, size=(3, 4)), order=3)


def test_conv_transpose_output_padding_third_order_by_finite_differences():
    """PyTorch fails here ('output_padding is not supported for non-transposed convolutions' from its double
    backward's own backward); cnnlab's third derivative is checked against finite differences of its second."""
    x = cnnlab.tensor(rand(1, 2, 2, 2), requires_grad=True)
    w = cnnlab.tensor(rand(2, 1, 3, 2, seed=1), requires_grad=True)
    g = cnnlab.tensor(rand(1, 2, 4, 3, seed=5))

    def second(x, w):  # a function of the first-order gradients: its gradients are third derivatives
        y = cnnlab.nn.functional.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2)
        gx, gw = cnnlab.autograd.grad(y, (x, w), g, create_graph=True)
        return (gx * gx).sum() + (gw * gw.sum()).sum()

    assert cnnlab.autograd.gradgradcheck(second, (x, w), seed=0)


def test_empty_batch_gives_zero_gradients():
    x = cnnlab.zeros(0, 4, 5, 5, dtype=cnnlab.float64, requires_grad=True)
    w = cnnlab.tensor(rand(6, 4, 3, 3), requires_grad=True)
    y = cnnlab.nn.functional.conv2d(x, w)
    (gw,) = cnnlab.autograd.grad((y * y).sum() + (w * w * w).sum(), w, create_graph=True)
    (gww,) = cnnlab.autograd.grad(gw.sum(), w)
    assert gww.allclose(6 * w.detach())


def test_conv_same_lower_and_causal():
    """'same_lower' (the odd pixel before) and 1-d 'causal' (d * (k - 1) before): F.pad + conv in PyTorch."""
    x, w, b = _operands(2, groups=1)
    check2(_conv(2, padding="same_lower"), x, w, b,
           torch_fn=lambda lib, x, w, b: lib.F.conv2d(lib.F.pad(x, (1, 0, 1, 1)), w, b))
    x, w, b = _operands(1, groups=2)
    check2(_conv(1, padding="causal", dilation=2, groups=2), x, w, b, order=3,
           torch_fn=lambda lib, x, w, b: lib.F.conv1d(lib.F.pad(x, (4, 0)), w, b, dilation=2, groups=2))
