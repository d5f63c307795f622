"""cnnlab.inspect.explain_cell: the worked value equals the layer's output, and the window equals an independent
window cut from the input padded by PyTorch's F.pad, on random convolutions and pooling layers."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
from cnnlab.inspect import explain_cell

torch = pytest.importorskip("torch")
MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _reference_window(x, layer_pads, mode, region):
    """The window cut from x padded by torch (zeros: constant 0): an independent reference."""
    pad = []
    for before, after in reversed(layer_pads):
        pad += [before, after]
    xt = torch.tensor(x[None])
    padded = torch.nn.functional.pad(xt, pad, mode=MODES[mode])[0].numpy() if any(pad) else x
    sl = [region[0]] + [slice(r.start + b, r.stop + b, r.step) for r, (b, _) in zip(region[1:], layer_pads)]
    return padded[tuple(sl)]


def _random_conv(rng, n):
    groups = int(rng.choice([1, 2]))
    cin, cout = 2 * int(rng.integers(1, 3)), 2 * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, n))
    s = tuple(int(v) for v in rng.integers(1, 3, n))
    d = tuple(int(v) for v in rng.integers(1, 3, n))
    mode = str(rng.choice(list(MODES)))
    padding = rng.choice(["int", "tuple", "same"]) if mode == "zeros" else "int"
    padding = int(rng.integers(0, 3)) if padding == "int" else (
        "same" if padding == "same" else tuple(int(v) for v in rng.integers(0, 3, n)))
    layer = getattr(nn, f"Conv{n}d")(cin, cout, k, stride=s, padding=padding, dilation=d, groups=groups,
                                     bias=bool(rng.random() < 0.7), padding_mode=mode, dtype=cnnlab.float64)
    return layer, cin


@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_cells_equal_the_layer_output(n):
    rng = np.random.default_rng(n)
    checked = 0
    while checked < 60:
        layer, cin = _random_conv(rng, n)
        size = tuple(int(v) for v in rng.integers(4, 9, n))
        x = rng.standard_normal((2, cin) + size)
        try:
            out = layer(cnnlab.tensor(x)).detach().numpy()
        except ValueError:
            continue  # a size the layer refuses (reflect padding wider than the input, ...)
        idx = tuple(int(rng.integers(0, s)) for s in out.shape)
        cell = explain_cell(layer, cnnlab.tensor(x), idx)
        assert cell.value == pytest.approx(out[idx], rel=1e-12, abs=1e-12)
        assert cell.products.sum() + (cell.bias or 0.0) == pytest.approx(cell.value, rel=1e-12, abs=1e-12)
        np.testing.assert_array_equal(cell.weight, layer.weight.detach().numpy()[idx[1]])
        pads = cnnlab.nn.functional._args.resolve_padding(layer.padding, n, "t", layer.kernel_size, layer.stride,
                                                          layer.dilation, x.shape[2:])
        np.testing.assert_allclose(cell.window, _reference_window(x[idx[0]], pads, layer.padding_mode,
                                                                  cell.input_region), rtol=0, atol=0)
        checked += 1


def _random_pool(rng):
    kind = str(rng.choice(["max", "min", "avg", "lp"]))
    k = int(rng.integers(1, 4))
    s = int(rng.integers(1, 3))
    p = int(rng.integers(0, k // 2 + 1))
    ceil = bool(rng.random() < 0.5)
    if kind in ("max", "min"):
        d = int(rng.integers(1, 3))
        return getattr(nn, f"{kind.capitalize()}Pool2d")(k, s, min(p, (d * (k - 1) + 1) // 2), d, ceil_mode=ceil)
    if kind == "avg":
        return nn.AvgPool2d(k, s, p, ceil_mode=ceil, count_include_pad=bool(rng.random() < 0.5),
                            divisor_override=int(rng.integers(1, 5)) if rng.random() < 0.2 else None)
    return nn.LPPool2d(float(rng.choice([1.0, 2.0, 3.0])), k, s, ceil_mode=ceil)


def test_pool_cells_equal_the_layer_output():
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 200:
        layer = _random_pool(rng)
        x = rng.uniform(0.1, 2.0, (2, 3, int(rng.integers(3, 9)), int(rng.integers(3, 9))))
        try:
            out = layer(cnnlab.tensor(x)).detach().numpy()
        except ValueError:
            continue
        idx = tuple(int(rng.integers(0, s)) for s in out.shape)
        cell = explain_cell(layer, cnnlab.tensor(x), idx)
        assert cell.value == pytest.approx(out[idx], rel=1e-12), (layer, idx, str(cell))
        assert cell.weight is None and cell.bias is None
        checked += 1


def test_the_worked_sum_reads_like_the_lecture_notes():
    conv = nn.Conv2d(1, 1, 3, bias=False)
    with cnnlab.no_grad():
        conv.weight.copy_(cnnlab.tensor([[[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]]]))
    x = cnnlab.tensor([[[1.0, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]])
    cell = explain_cell(conv, x, (0, 0, 0))  # unbatched input, index (channel, row, column)
    assert cell.formula == "1*1 + 1*0 + 1*1 + 0*0 + 1*1 + 1*0 + 0*1 + 0*0 + 1*1 = 4"
    assert cell.value == 4 and cell.input_region == (slice(0, 1), slice(0, 3, 1), slice(0, 3, 1))
    text = str(explain_cell(nn.Conv2d(1, 1, 3, padding=1, bias=True), x, (0, 0, 0)))
    assert "[0]*" in text and "bias" in text and "negative or past (5, 5) = padding" in text
    text = str(explain_cell(nn.AvgPool2d(2, ceil_mode=True), x, (0, 2, 2)))
    assert text.endswith("(0) / 1 = 0")


def test_errors():
    conv = nn.Conv2d(1, 2, 3)
    with pytest.raises(ValueError, match=r"index must address one value of the output. Got index=\(0, 2, 0, 0\) "
                                         r"for an output of shape \(1, 2, 3, 3\)"):
        explain_cell(conv, cnnlab.ones(1, 1, 5, 5), (0, 2, 0, 0))
    with pytest.raises(TypeError, match="must be a convolution"):
        explain_cell(nn.ReLU(), cnnlab.ones(1, 1, 5, 5), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="expects a 3-d \\(unbatched\\) or 4-d"):
        explain_cell(conv, cnnlab.ones(5, 5), (0, 0))


def test_a_float64_array_for_a_float32_layer():
    conv = nn.Conv2d(1, 1, 2)
    x = np.arange(9.0).reshape(1, 1, 3, 3)  # float64, as NumPy makes it
    cell = explain_cell(conv, x, (0, 0, 1, 1))
    assert cell.value == pytest.approx(conv(cnnlab.tensor(x, dtype=cnnlab.float32))[0, 0, 1, 1].item(), rel=1e-6)
