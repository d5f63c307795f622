"""The 'depthwise_taps' algorithm (cnnlab/kernels/depthwise_taps.py) beyond the forced-algorithm suites of
test_kernels_conv.py, test_nonfinite.py and test_fuzz_conv_pool.py: where the selector takes it (MobileNet's and
ConvNeXt's small maps) and where the band keeps the work, PyTorch parity through the public API on those shapes
(forward and both gradients, float64 and float32), blocks of one row on 1 and 3 threads, its float32 error bound,
and inf/NaN computed exactly without the recomputation kernels/nonfinite.py does for the other algorithms."""
import numpy as np
import pytest
import torch as pt

from cnnlab.kernels import conv as kconv
from cnnlab.kernels import depthwise_taps, nonfinite, parallel, registry, select
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand
from test_fuzz_helpers import with_special


def _geometry(x_shape, k, stride=1, dilation=1, multiplier=1):
    c, pad = x_shape[1], dilation * (k - 1) // 2
    return ConvGeometry.of(x_shape, (c * multiplier, 1, k, k), (stride,) * 2, ((pad, pad),) * 2, (dilation,) * 2, c)


def _numpy_choice(op, geom):
    """The selector's choice among the NumPy algorithms (the optional compiled ones, kernels/compiled.py, rank
    first where numba is installed)."""
    for _, name, test in registry.rules():
        if "compiled" not in name and test(op, geom, False):
            return name


@pytest.mark.parametrize("x_shape,k,stride", [
    ((1, 960, 7, 7), 3, 1), ((1, 576, 14, 14), 3, 1), ((1, 384, 14, 14), 3, 1),      # MobileNetV2 b1
    ((1, 192, 28, 28), 3, 2), ((1, 576, 14, 14), 3, 2),                             # its strided ones
    ((8, 960, 7, 7), 3, 1), ((8, 576, 14, 14), 3, 2),                               # b8 on 7x7 outputs
    ((1, 768, 7, 7), 7, 1),                                                         # ConvNeXt-T's last stage
])
def test_small_maps_take_the_taps(x_shape, k, stride):
    geom = _geometry(x_shape, k, stride)
    assert _numpy_choice("forward", geom) == "depthwise_taps"
    assert _numpy_choice("backward_input", geom) == ("depthwise_taps" if stride == 1 else "depthwise")
    assert _numpy_choice("backward_weight", geom) == "depthwise_taps"


@pytest.mark.parametrize("x_shape,k,stride,weight", [
    ((1, 32, 112, 112), 3, 1, "depthwise"), ((8, 144, 56, 56), 3, 2, "depthwise"),
    ((32, 96, 56, 56), 7, 1, "depthwise"),                                       # ConvNeXt-T's training
    ((1, 144, 56, 56), 3, 2, "depthwise_taps"), ((1, 192, 28, 28), 3, 1, "depthwise_taps"),
    ((8, 384, 14, 14), 3, 1, "depthwise_taps"), ((1, 384, 14, 14), 7, 1, "depthwise_taps"),
    ((8, 768, 7, 7), 7, 1, "depthwise_taps"),
])
def test_larger_maps_keep_the_band(x_shape, k, stride, weight):
    """Forward and input gradient from more than 4096 positions x taps; the weight gradient (whose band makes a
    BLAS call per channel and residue class) from more than 4096 output positions."""
    geom = _geometry(x_shape, k, stride)
    assert _numpy_choice("forward", geom) == _numpy_choice("backward_input", geom) == "depthwise"
    assert _numpy_choice("backward_weight", geom) == weight


CASES = [   # (x shape, kernel, stride, dilation, multiplier)
    ((1, 6, 7, 7), 3, 1, 1, 1),             # MobileNet's 7x7 maps
    ((3, 5, 14, 14), 3, 2, 1, 1),           # stride 2, odd batch
    ((2, 4, 7, 7), 7, 1, 1, 1),             # ConvNeXt's 7x7 on 7x7
    ((1, 3, 9, 11), 3, 1, 2, 2),            # dilation, multiplier 2, a wide map
    ((2, 2, 8, 6), 5, 2, 1, 3),             # multiplier 3, stride 2
]


@pytest.mark.parametrize("case", CASES, ids=["mobilenet-7", "stride-2", "convnext-7", "dilated-m2", "m3-s2"])
def test_against_torch(case):
    x_shape, k, stride, dilation, m = case
    geom = _geometry(*case)
    c = x_shape[1]

    def fn(lib, x, w, b):
        return lib.F.conv2d(x, w, b, stride=stride, padding=geom.pads[0][0], dilation=dilation, groups=c)
    x, w, b = rand(*x_shape), rand(c * m, 1, k, k, seed=1), rand(c * m, seed=2)
    with select.forced("depthwise_taps"):
        assert select.explain("forward", geom) == ("depthwise_taps", "forced")
        check(fn, x, w, b)
        check_float32(fn, x, w, b)


def _all_three(name, x, w, g, geom):
    a = registry.get(name)
    return a.forward(x, w, geom), a.backward_input(g, w, geom), a.backward_weight(x, g, geom)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("case", CASES, ids=["mobilenet-7", "stride-2", "convnext-7", "dilated-m2", "m3-s2"])
def test_one_row_per_block_on_threads(monkeypatch, threads, case):
    """Blocks of one output row (whose windows reach into the top and bottom padding or lie inside the image,
    sharing a thread's buffer in turn), handed to the threads, twice in a row: the GEMM lowering's results."""
    geom = _geometry(*case)
    x, w, g = rand(*geom.x_shape), rand(*geom.w_shape, seed=1), rand(*geom.y_shape, seed=2)
    want = _all_three("gemm", x, w, g, geom)
    monkeypatch.setattr(depthwise_taps, "BLOCK_BYTES", 1)
    monkeypatch.setattr(depthwise_taps, "THREADED_MACS", 0)
    monkeypatch.setattr(parallel, "_threads", threads)
    for _ in range(2):
        for got, ref in zip(_all_three("depthwise_taps", x, w, g, geom), want):
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("x_shape,k,stride", [((2, 64, 14, 14), 3, 1), ((2, 64, 14, 14), 3, 2),
                                             ((2, 64, 14, 14), 7, 1), ((16, 64, 16, 16), 3, 1)])
def test_float32_error_bound(x_shape, k, stride):
    """Each output is one float32 sum of its k*k products, as in direct convolution, and each weight gradient one
    float32 sum over the images and output positions (at most 4096 where it is chosen): within 1e-6 (outputs) and
    2e-6 (weight gradients) of the largest value of a float64 reference on realistic data (measured 0.8-2.9e-7 and
    1.8-4.3e-7) and within 4x the GEMM lowering's float32 error (measured 0.8-2.6x)."""
    rng = np.random.default_rng(0)
    geom = _geometry(x_shape, k, stride)
    x, g = rng.standard_normal(geom.x_shape), rng.standard_normal(geom.y_shape)
    w = rng.standard_normal(geom.w_shape) * np.sqrt(2.0 / (k * k))
    x32, w32, g32 = (a.astype(np.float32) for a in (x, w, g))
    for op, a, a32, bound in [("forward", (x, w), (x32, w32), 1e-6), ("backward_input", (g, w), (g32, w32), 1e-6),
                              ("backward_weight", (x, g), (x32, g32), 2e-6)]:
        taps, gemm = getattr(registry.get("depthwise_taps"), op), getattr(registry.get("gemm"), op)
        want = gemm(*a, geom)
        got, direct = taps(*a32, geom), gemm(*a32, geom)
        assert got.dtype == np.float32
        err = np.abs(got - want).max()
        assert err <= bound * np.abs(want).max() and err <= 4 * np.abs(direct - want).max(), op


@pytest.mark.parametrize("which,kind", [("x", "inf"), ("x", "nan"), ("w", "inf"), ("w", "-inf"), ("w", "nan")])
def test_nonfinite_values_are_exact_without_recomputation(monkeypatch, which, kind):
    """An inf or NaN in the input or in a filter (whose products with the padding zeros PyTorch keeps): the taps'
    forward is PyTorch's float64 result itself, so kernels/conv.py never calls kernels/nonfinite.py for it."""
    geom = _geometry((2, 3, 6, 6), 3, 1)
    x, w = rand(*geom.x_shape), rand(*geom.w_shape, seed=1)
    x, w = (with_special(x, kind, 3, count=2), w) if which == "x" else (x, with_special(w, kind, 4))
    want = pt.nn.functional.conv2d(pt.from_numpy(x), pt.from_numpy(w), None, 1, 1, 1, 3).numpy()
    assert not np.isfinite(want).all()

    def never(*args):
        raise AssertionError("recomputed by kernels/nonfinite.py")
    monkeypatch.setattr(nonfinite, "forward", never)
    with select.forced("depthwise_taps"):
        got = kconv.conv_forward(x, w, geom)
    np.testing.assert_allclose(got, want, rtol=1e-12)
