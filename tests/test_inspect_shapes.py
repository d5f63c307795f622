"""cnnlab.inspect.shapes: output_size against PyTorch's layer shapes on thousands of random configurations,
padding_for against its definition (and the lecture notes' formula), explain_conv/explain_pool's wording."""
import numpy as np
import pytest

import cnnlab
from cnnlab.inspect import explain_conv, explain_pool, output_size, padding_for

torch = pytest.importorskip("torch")


def _meta(*shape):
    return torch.empty(*shape, device="meta")


def _configs(seed, count, n):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        size = tuple(int(v) for v in rng.integers(1, 40, n))
        k = tuple(int(v) for v in rng.integers(1, 8, n))
        s = tuple(int(v) for v in rng.integers(1, 5, n))
        d = tuple(int(v) for v in rng.integers(1, 4, n))
        p = tuple(int(v) for v in rng.integers(0, 6, n))
        yield size, k, s, p, d


def _torch_shape(fn):
    try:
        return tuple(fn().shape[2:])
    except RuntimeError:
        return None


def _ours(**kw):
    try:
        return output_size(**kw)
    except cnnlab.ShapeError:
        return None


@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_output_size_matches_pytorch(n):
    conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}[n]
    agreed = refused = 0
    for size, k, s, p, d in _configs(n, 1500 if n < 3 else 600, n):
        want = _torch_shape(lambda: conv(_meta(1, 1, *size), _meta(1, 1, *k), stride=s, padding=p, dilation=d))
        got = _ours(input=size, kernel_size=k, stride=s, padding=p, dilation=d)
        assert got == want, (size, k, s, p, d)
        agreed += want is not None
        refused += want is None
    assert agreed > 100 and refused > 50  # both outcomes exercised


def test_conv_same_padding_stride_1_matches_pytorch():
    for size, k, _, _, d in _configs(7, 800, 2):
        want = _torch_shape(lambda: torch.nn.functional.conv2d(_meta(1, 1, *size), _meta(1, 1, *k), padding="same",
                                                               dilation=d))
        assert _ours(input=size, kernel_size=k, padding="same", dilation=d) == want


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_matches_pytorch(ceil_mode):
    checked = 0
    for size, k, s, p, d in _configs(11 + ceil_mode, 1500, 2):
        p = tuple(min(pi, ki // 2) for pi, ki in zip(p, k))  # PyTorch's padding limit (cnnlab allows more)
        want = _torch_shape(lambda: torch.nn.functional.max_pool2d(_meta(1, 1, *size), k, s, p, d,
                                                                   ceil_mode=ceil_mode))
        got = _ours(input=size, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        assert got == want, (size, k, s, p, d)
        checked += want is not None
    assert checked > 300


def _positive(shape):  # PyTorch's meta kernels let a transposed conv's size reach 0; the layer refuses it
    return shape if shape is not None and min(shape) > 0 else None


def test_transposed_output_size_matches_pytorch():
    checked = 0
    rng = np.random.default_rng(5)
    for size, k, s, p, d in _configs(3, 1500, 2):
        op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
        want = _positive(_torch_shape(lambda: torch.nn.functional.conv_transpose2d(
            _meta(1, 1, *size), _meta(1, 1, *k), stride=s, padding=p, output_padding=op, dilation=d)))
        got = _ours(input=size, kernel_size=k, stride=s, padding=p, dilation=d, transposed=True, output_padding=op)
        assert got == want, (size, k, s, p, d, op)
        checked += want is not None
    assert checked > 300


def test_output_size_errors_are_the_layers():
    with pytest.raises(RuntimeError, match=r"output size would be 0 or less.*H=5 with kernel_size=7"):
        output_size((5, 5), 7)
    with pytest.raises(ValueError, match="stride must be positive"):
        output_size(5, 3, stride=0)
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 2 ints"):
        output_size((5, 5), (3, 3, 3))
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        output_size(5, 3, stride=2, transposed=True, output_padding=2)
    with pytest.raises(TypeError, match="input must be a spatial size"):
        output_size("7", 3)
    with pytest.raises(ValueError, match="string paddings are for conv only"):
        output_size(5, 3, padding="same", transposed=True)


def test_padding_for_gives_the_wanted_output():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        n, k, s, d = (int(v) for v in (rng.integers(1, 50), rng.integers(1, 8), rng.integers(1, 5), rng.integers(1, 4)))
        before, after = padding_for(n, k, stride=s, dilation=d)  # 'same': ceil(n / s), TensorFlow's rule
        assert output_size(n, k, s, ((before, after),), d) == -(-n // s)
        assert 0 <= after - before <= 1
        want = int(rng.integers(1, 60))
        try:
            pads = padding_for(n, k, stride=s, dilation=d, output=want)
        except cnnlab.ShapeError:
            assert output_size(n, k, s, 0, d) > want if n >= d * (k - 1) + 1 else False
            continue
        assert output_size(n, k, s, (pads,), d) == want
        total = sum(pads)
        if total:  # the least padding: one less gives a smaller output
            assert (n + total - 1 - d * (k - 1) - 1) // s + 1 < want


def test_padding_for_matches_the_lecture_formula():
    # seed 001: p = (ns - n + f - s) / 2 keeps the size n at stride s
    for n, f, s in [(32, 5, 1), (28, 3, 1), (9, 3, 2), (13, 5, 3)]:
        total = n * s - n + f - s
        assert sum(padding_for(n, f, stride=s, output=n)) == total
    assert padding_for((224, 224), 7, stride=2) == ((2, 3), (2, 3))  # TF 'same' at stride 2: odd pixel after
    assert padding_for(32, 5, output="valid") == (0, 0)
    with pytest.raises(ValueError, match="no padding gives this output; even unpadded the output is larger"):
        padding_for(32, 3, output=10)


def test_explain_conv_names_the_numbers():
    text = explain_conv(7, 3, stride=2, padding=1)
    assert "L_out = floor((7 + 1 + 1 - 3) / 2) + 1 = floor(6/2) + 1 = 4" in text
    assert "PyTorch's floor rule" in text
    text = explain_conv((6, 6), 3, stride=2)  # 0 2 | 2 4: input row 5 never reached
    assert "H_out = floor((6 + 0 + 0 - 3) / 2) + 1 = floor(3/2) + 1 = 2" in text
    assert "dropped: input row 5 (1) never reached" in text
    assert "dropped: input column 5 (1) never reached" in text
    assert "share 1 row; a row lies in up to 2 windows" in text
    text = explain_conv(9, 3, stride=1, dilation=2, padding="same")
    assert "effective kernel 2*(3-1)+1 = 5" in text and "padding 2 before, 2 after" in text
    assert "TensorFlow's rule" in text
    text = explain_conv(8, 2, stride=3)
    assert "1 position between neighbouring windows skipped" in text


def test_explain_pool_ceil_mode_and_errors():
    text = explain_pool(5, 2, ceil_mode=True)
    assert "ceil((5 + 0 + 0 - 2) / 2) + 1 = ceil(3/2) + 1 = 3" in text
    assert "the last window covers 4..5 (1 of them padding)" in text
    assert "windows tile the input edge to edge" in text
    assert output_size(5, 2, 2, ceil_mode=True) == 3
    with pytest.raises(ValueError, match="pad should be at most half of effective kernel size"):
        explain_pool(8, 2, padding=2)
