"""The convolution algorithms of cnnlab/kernels, each checked against the plain GEMM lowering and against PyTorch:
forward and both gradients, float64 and float32, odd sizes, batch 1, and the stride / dilation / padding /
multiplier options each algorithm supports; the blocking and threading paths with tiny block sizes; Winograd's
float32 error on realistic data against a float64 reference; the selector and the thread helper."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
import cnnlab._settings
from cnnlab.kernels import conv as kconv
from cnnlab.kernels import blas, compiled, conv1x1, depthwise, fft, gemm, nhwc, parallel, registry, select, shift, \
    winograd
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand

# (x shape, w shape, stride, padding pairs, dilation, groups) per algorithm, all 2-d
WINOGRAD = [
    ((2, 3, 7, 6), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),      # odd output: partial tiles
    ((1, 4, 8, 9), (6, 4, 3, 3), (1, 1), ((0, 2), (1, 0)), (1, 1), 1),      # asymmetric padding, batch 1
    ((3, 2, 5, 5), (2, 2, 3, 3), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),      # 'full' padding
    ((2, 5, 3, 4), (3, 5, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),      # 1x2 output
    ((2, 6, 14, 13), (5, 6, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
]
DEPTHWISE = [
    ((2, 3, 7, 6), (3, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 3),
    ((1, 4, 8, 9), (8, 1, 3, 2), (2, 1), ((0, 2), (1, 0)), (1, 2), 4),      # multiplier 2, stride, dilation
    ((2, 2, 11, 10), (2, 1, 7, 7), (1, 1), ((3, 3), (3, 3)), (1, 1), 2),    # ConvNeXt-style 7x7
    ((2, 5, 13, 12), (15, 1, 5, 3), (2, 3), ((2, 2), (1, 1)), (1, 1), 5),   # multiplier 3, stride (2, 3)
    ((2, 3, 9, 11), (3, 1, 3, 3), (3, 2), ((0, 0), (2, 1)), (2, 1), 3),
    ((1, 2, 6, 5), (2, 1, 3, 3), (1, 1), ((4, 3), (0, 5)), (1, 1), 2),      # padding wider than the kernel
    ((2, 3, 4, 4), (3, 1, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 3),      # 1x1
]
GEMM = [
    ((2, 3, 7, 6), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((1, 4, 9, 7), (6, 2, 3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2), 2),
    ((2, 3, 11, 10), (4, 3, 5, 3), (3, 2), ((2, 2), (1, 1)), (2, 1), 1),
    ((2, 6, 5, 7), (4, 3, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1), 2),
    ((1, 1, 12, 11), (3, 1, 5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),    # LeNet-style, batch 1
    ((2, 3, 9, 8), (4, 3, 7, 7), (2, 2), ((3, 3), (3, 3)), (1, 1), 1),      # stem-style 7x7 stride 2
]
SHIFT = [
    ((2, 3, 7, 6), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((1, 4, 9, 7), (6, 2, 3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2), 2),      # stride phases, dilation, groups
    ((2, 3, 11, 10), (4, 3, 5, 3), (3, 2), ((2, 2), (1, 1)), (2, 1), 1),
    ((2, 6, 5, 7), (4, 3, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1), 2),      # 1x1 stride 2: one phase used
    ((2, 4, 8, 8), (4, 1, 3, 3), (1, 1), ((4, 3), (0, 5)), (1, 1), 4),      # padding wider than the kernel
    ((1, 3, 9, 8), (5, 3, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 1),      # ResNet-style stride 2, batch 1
]
NHWC = [GEMM[0], GEMM[2], GEMM[4], GEMM[5], SHIFT[5],
    ((2, 6, 5, 7), (4, 6, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),      # 1x1 stride 2: odd sizes
    ((3, 6, 8, 6), (5, 6, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),      # 1x1 stride 2 (ResNet downsample)
    ((2, 7, 5, 4), (3, 7, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),      # 1x1 stride 1
    ((2, 5, 6, 7), (3, 5, 3, 2), (2, 3), ((4, 3), (1, 5)), (2, 1), 1),      # padding wider than the kernel
    ((3, 4, 4, 4), (5, 4, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),      # 4x4 map (CIFAR layer 4)
    ((1, 3, 8, 9), (2, 3, 2, 3), (1, 1), ((0, 1), (2, 0)), (3, 2), 1),      # dilation, asymmetric padding
]
TOEPLITZ = NHWC[:5] + NHWC[8:] + [
    ((2, 6, 14, 14), (16, 6, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),   # LeNet conv2
    ((2, 2, 7, 9), (3, 2, 2, 4), (2, 3), ((0, 2), (3, 1)), (1, 2), 1),      # stride and dilation in both dims
]
FFT = WINOGRAD[:2] + [GEMM[4],
    ((2, 3, 9, 8), (4, 3, 5, 3), (1, 1), ((2, 1), (0, 3)), (2, 1), 1),      # dilation, asymmetric padding
    ((1, 2, 6, 5), (3, 2, 6, 4), (1, 1), ((3, 2), (0, 0)), (1, 1), 1),      # even kernel wider than the map
]
MATMUL = [NHWC[7], NHWC[5], NHWC[6], GEMM[3],
    ((1, 5, 9, 8), (7, 5, 1, 1), (2, 3), ((0, 0), (0, 0)), (1, 1), 1),      # batch 1, stride (2, 3)
    ((3, 4, 6, 6), (5, 4, 1, 1), (1, 1), ((0, 0), (0, 0)), (2, 3), 1),      # batch 3, dilation (no effect)
    ((3, 6, 7, 5), (6, 2, 1, 1), (3, 1), ((0, 0), (0, 0)), (1, 1), 3),      # batch 3, groups, stride
]
CASES = {"winograd": WINOGRAD, "winograd4": WINOGRAD, "depthwise": DEPTHWISE, "depthwise_taps": DEPTHWISE,
         "gemm": GEMM, "shift": SHIFT,
         "stack": SHIFT + GEMM[4:], "nhwc": NHWC, "toeplitz": TOEPLITZ, "fft": FFT,
         "matmul": MATMUL}
PARAMS = [(name, case) for name, cases in CASES.items() for case in cases]
IDS = [f"{name}-{i}" for name, cases in CASES.items() for i in range(len(cases))]


def _run_all(name, x, w, g, stride, padding, dilation, groups):
    algorithm, geom = registry.get(name), ConvGeometry.of(x.shape, w.shape, stride, padding, dilation, groups)
    return (algorithm.forward(x, w, geom), algorithm.backward_input(g, w, geom), algorithm.backward_weight(x, g, geom))


def _data(case, dtype=np.float64):
    x_shape, w_shape, stride, padding, dilation, groups = case
    x, w = rand(*x_shape, dtype=dtype), rand(*w_shape, seed=1, dtype=dtype)
    y_shape = ConvGeometry.of(*case).y_shape
    return x, w, rand(*y_shape, seed=2, dtype=dtype)


@pytest.mark.parametrize("name,case", PARAMS, ids=IDS)
def test_the_case_is_one_the_algorithm_supports(name, case):
    """Else the forced-algorithm tests below would silently test the GEMM fallback."""
    with select.forced(name):
        assert select.explain("forward", ConvGeometry.of(*case)) == (name, "forced")


@pytest.mark.parametrize("name,case", PARAMS, ids=IDS)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_against_the_gemm_path(name, case, dtype, tol):
    """Forward, input gradient and weight gradient equal the GEMM lowering's, in the input's dtype."""
    x, w, g = _data(case, dtype)
    ref = _run_all("gemm", x.astype(np.float64), w.astype(np.float64), g.astype(np.float64), *case[2:])
    for got, want, what in zip(_run_all(name, x, w, g, *case[2:]), ref, ("forward", "input grad", "weight grad")):
        assert got.dtype == dtype and got.shape == want.shape, what
        np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max(), err_msg=what)


def _functional(case):
    _, _, stride, padding, dilation, groups = case
    flat = tuple(v for pair in reversed(padding) for v in pair)  # F.pad order

    def fn(lib, x, w, b):
        return lib.F.conv2d(lib.F.pad(x, flat), w, b, stride=stride, dilation=dilation, groups=groups)
    return fn


@pytest.mark.parametrize("name,case", PARAMS, ids=IDS)
def test_against_torch(name, case):
    """Through the public API with the algorithm forced (and torch on the same pre-padded input), values and the
    gradients of input, weight and bias; float64, then float32 at float32 tolerance."""
    x_shape, w_shape = case[:2]
    x, w, b = rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2)
    # F(4x4, 3x3) rounds to a few 1e-6 of the largest value (the weight gradients here reach ~20): absolute
    # tolerance 1e-4 instead of 1e-5 in float32; float64 is exact to 1e-10 all the same
    tol = {"atol": 1e-4} if name == "winograd4" else {}
    with select.forced(name):
        check(_functional(case), x, w, b)
        check_float32(_functional(case), x, w, b, **tol)


@pytest.mark.parametrize("name,case", [("winograd", WINOGRAD[0]), ("winograd", WINOGRAD[4]),
                                       ("winograd4", WINOGRAD[0]), ("winograd4", WINOGRAD[4]),
                                       ("depthwise", DEPTHWISE[0]), ("depthwise", DEPTHWISE[3]),
                                       ("depthwise_taps", DEPTHWISE[0]), ("depthwise_taps", DEPTHWISE[3])])
def test_transposed_conv_uses_the_same_kernels(name, case):
    """conv_transpose2d's forward is the input gradient and its backward the forward and weight gradient."""
    x_shape, w_shape, stride, padding, dilation, groups = case
    y_shape = ConvGeometry.of(*case).y_shape
    pads = tuple(p for p, _ in padding)
    out_pad = tuple(s - ((o - 1) * st - 2 * p + d * (k - 1) + 1) for s, o, st, p, d, k in
                    zip(x_shape[2:], y_shape[2:], stride, pads, dilation, w_shape[2:]))
    assert all(b == a for b, a in padding) and all(0 <= p < max(s, d) for p, s, d in zip(out_pad, stride, dilation))
    with select.forced(name):
        check(lambda lib, y, w: lib.F.conv_transpose2d(y, w, stride=stride, padding=pads, output_padding=out_pad,
                                                       dilation=dilation, groups=groups),
              rand(*y_shape), rand(*w_shape, seed=1))


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("name,case,settings", [
    ("winograd", WINOGRAD[4], {"BLOCK_TILES": 1}),                        # one image per block
    ("winograd", WINOGRAD[0], {"BLOCK_TILES": 24}),                       # several images per block
    ("winograd", WINOGRAD[2], {"MATMUL_SPLIT_FLOPS": 1, "WHOLE_MIN_KERNEL_BYTES": 0}),  # one block, split
    ("winograd4", WINOGRAD[4], {"BLOCK_TILES": 1}),
    ("winograd4", WINOGRAD[0], {"BLOCK_TILES": 8}),
    ("winograd4", WINOGRAD[2], {"MATMUL_SPLIT_FLOPS": 1, "WHOLE_MIN_KERNEL_BYTES": 0}),
    ("fft", FFT[3], {"CHUNK_BYTES": 1}),                                  # one image per chunk
    ("fft", FFT[0], {"CHUNK_BYTES": 10**9}),
    ("depthwise", DEPTHWISE[3], {"BLOCK_BYTES": 1, "BLOCK_W": 2}),        # one channel per block, W blocks
    ("depthwise", DEPTHWISE[1], {"BLOCK_BYTES": 1, "BLOCK_W": 1}),
    ("gemm", GEMM[2], {"COLUMN_BYTES": 1, "WEIGHT_COLUMN_BYTES": 1, "SMALL_BYTES": 0}),  # a row per block
    ("gemm", GEMM[0], {"COLUMN_BYTES": 300, "WEIGHT_COLUMN_BYTES": 300, "SMALL_BYTES": 0}),
    ("gemm", GEMM[1], {"COLUMN_BYTES": 1, "WEIGHT_COLUMN_BYTES": 1, "SMALL_BYTES": 0}),  # strided
    ("gemm", GEMM[4], {"PIECE": 100}),                                    # matmuls in pieces
    ("gemm", NHWC[6], {"SMALL_BYTES": 10**9, "MATMUL_SPLIT_FLOPS": 1}),   # one thread, matmuls split
    ("nhwc", NHWC[6], {"CHUNK_BYTES": 10**9, "MATMUL_SPLIT_FLOPS": 1}),   # one chunk, matmuls split
    ("shift", SHIFT[0], {"BLOCK_BYTES": 1}),                              # one output row per block
    ("shift", SHIFT[1], {"BLOCK_BYTES": 1}),
    ("shift", SHIFT[5], {"BLOCK_BYTES": 100}),
    ("stack", SHIFT[1], {"BLOCK_BYTES": 1}),
    ("stack", GEMM[5], {"BLOCK_BYTES": 3000}),
    ("nhwc", NHWC[1], {"CHUNK_BYTES": 1}),                                # one image per chunk
    ("nhwc", NHWC[6], {"CHUNK_BYTES": 1200}),                             # 1x1 stride 2, two images per chunk
    ("nhwc", NHWC[8], {"CHUNK_BYTES": 1}),                                # padding wider than the kernel
    ("nhwc", NHWC[9], {"CHUNK_BYTES": 10**6}),                            # the whole batch in one chunk
    ("matmul", MATMUL[0], {}),                                            # 2 images on 3 threads: in pieces
    ("matmul", MATMUL[3], {}),                                            # the same, strided and grouped
    ("matmul", MATMUL[6], {}),                                            # 3 images on 3 threads: whole
])
def test_blocks_and_threads_give_the_same_result(monkeypatch, threads, name, case, settings):
    module = {"winograd": winograd, "winograd4": winograd, "depthwise": depthwise, "gemm": gemm, "shift": shift,
              "stack": shift, "nhwc": nhwc, "fft": fft, "matmul": conv1x1}[name]
    x, w, g = _data(case)
    ref = _run_all("gemm", x, w, g, *case[2:])
    for key, value in settings.items():
        monkeypatch.setattr(parallel if key == "MATMUL_SPLIT_FLOPS" else module, key, value)
    monkeypatch.setattr(parallel, "_threads", threads)
    for got, want in zip(_run_all(name, x, w, g, *case[2:]), ref):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("name,bound,factor", [("winograd", 1e-4, 8), ("winograd4", 1e-5, 10)])
def test_winograd_float32_error_on_realistic_data(name, bound, factor):
    """Kaiming-scaled weights on unit-variance activations, 64 -> 64 channels: float32 Winograd stays within
    `bound` of a float64 reference, relative to the largest value, in all three results, and within `factor`
    of float32 direct convolution (GEMM). F(2x2) is about as close as direct convolution; F(4x4) about 5x
    further (measured 2.4e-6, 4.7x), as F(4x4, 3x3) is everywhere."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 64, 20, 20))
    w = rng.standard_normal((64, 64, 3, 3)) * np.sqrt(2.0 / (64 * 9))
    pads = ((1, 1), (1, 1))
    g = rng.standard_normal((2, 64, 20, 20))
    ref = _run_all("gemm", x, w, g, (1, 1), pads, (1, 1), 1)
    args = (x.astype(np.float32), w.astype(np.float32), g.astype(np.float32), (1, 1), pads, (1, 1), 1)
    for got, direct, want in zip(_run_all(name, *args), _run_all("gemm", *args), ref):
        err, err_direct = np.abs(got - want).max(), np.abs(direct - want).max()
        assert err <= bound * np.abs(want).max()
        assert err <= factor * err_direct


@pytest.mark.parametrize("x_shape,w_shape,kw,expected,dx,dw", [(*case, None)[:6] for case in [
    ((32, 64, 56, 56), (64, 64, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # large map, 64 channels
    ((8, 64, 28, 28), (64, 64, 3, 3), dict(padding=1), "shift", "shift", "winograd4"),  # 64 channels, few rows
    ((32, 128, 28, 28), (128, 128, 3, 3), dict(padding=1), "winograd4", "winograd4"),
    ((32, 256, 14, 14), (256, 256, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # medium
    ((32, 64, 14, 14), (64, 64, 3, 3), dict(padding=1), "nhwc", "nhwc", "winograd4"),  # small maps: batch matmul
    ((32, 512, 7, 7), (512, 512, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # dU 38 MB, by points
    ((32, 512, 14, 14), (512, 512, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # the same (2 threads)
    ((64, 512, 14, 14), (512, 512, 3, 3), dict(padding=1), "winograd4", "winograd4", "winograd"),  # a dU a block
    ((32, 128, 16, 16), (128, 128, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # CIFAR layer 2
    ((32, 256, 8, 8), (256, 256, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # CIFAR layer 3
    ((4, 256, 8, 8), (256, 256, 3, 3), dict(padding=1), "gemm", "gemm"),        # batch 4: too few for both
    ((32, 512, 4, 4), (512, 512, 3, 3), dict(padding=1), "winograd", "winograd"),  # CIFAR layer 4
    ((32, 64, 32, 32), (64, 64, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # CIFAR layer 1
    ((32, 64, 32, 32), (128, 64, 3, 3), dict(padding=1, stride=2), "nhwc", "stack"),
    ((32, 128, 16, 16), (256, 128, 3, 3), dict(padding=1, stride=2), "nhwc", "nhwc"),
    ((32, 64, 32, 32), (128, 64, 1, 1), dict(stride=2), "matmul", "nhwc", "nhwc"),  # CIFAR 1x1 downsample
    ((32, 256, 8, 8), (512, 256, 1, 1), dict(stride=2), "nhwc", "nhwc"),        # 4x4 output: batch matmul
    ((8, 512, 7, 7), (2048, 512, 1, 1), {}, "matmul", "matmul"),                # 7x7, too few rows for nhwc
    ((32, 3, 56, 56), (64, 3, 3, 3), dict(padding=1), "gemm", "gemm"),          # too few channels
    ((64, 6, 14, 14), (16, 6, 5, 5), {}, "toeplitz", "toeplitz"),               # LeNet conv2
    ((64, 1, 28, 28), (6, 1, 5, 5), dict(padding=2), "toeplitz", "toeplitz"),   # LeNet conv1
    ((64, 3, 64, 64), (16, 3, 5, 5), dict(padding=2), "gemm", "gemm"),          # wide map: T too large
    ((32, 64, 56, 56), (128, 64, 3, 3), dict(padding=1, stride=2), "gemm", "shift"),  # 28x28 out: per offset
    ((32, 64, 56, 56), (128, 64, 1, 1), dict(stride=2), "matmul", "stack", "stack"),  # 1x1 downsample
    ((32, 64, 56, 56), (128, 64, 1, 1), {}, "matmul", "matmul"),                # 1x1, stride 1
    ((8, 64, 56, 56), (128, 64, 1, 1), dict(padding=1), "shift", "shift"),      # 1x1 padded: not 'matmul'
    ((1, 64, 56, 56), (64, 64, 3, 3), dict(padding=1), "shift", "shift", "gemm"),  # batch 1: BLAS threads
    ((1, 64, 56, 56), (128, 64, 1, 1), dict(stride=2), "matmul", "matmul"),
    ((32, 96, 56, 56), (96, 1, 7, 7), dict(padding=3, groups=96), "depthwise", "depthwise"),
    ((8, 3, 224, 224), (64, 3, 7, 7), dict(padding=3, stride=2), "gemm", "stack"),
    ((2, 8, 9, 9, 9), (8, 1, 3, 3, 3), dict(groups=8), "gemm", "gemm"),         # 3-d depthwise: GEMM
    ((4, 32, 8, 8), (32, 16, 3, 3), dict(padding=1, groups=2), "gemm", "gemm"),  # grouped, small map
    ((8, 256, 14, 14), (256, 256, 3, 3), dict(padding=1), "winograd4", "winograd4"),  # 224, b8
    ((8, 512, 7, 7), (512, 512, 3, 3), dict(padding=1), "gemm", "gemm"),      # 224, b8: too few rows
    ((1, 64, 56, 56), (64, 64, 3, 3), dict(padding=1), "shift", "shift", "gemm"),  # one image: no Winograd
    ((1, 256, 14, 14), (256, 256, 3, 3), dict(padding=1), "gemm", "gemm"),     # batch 1: too few for Winograd
    ((1, 512, 7, 7), (512, 512, 3, 3), dict(padding=1), "gemm", "gemm"),       # batch 1: too few for nhwc
    ((1, 128, 16, 16), (256, 128, 3, 3), dict(padding=1, stride=2), "gemm", "stack"),
    ((4, 16, 64, 64), (16, 16, 15, 15), dict(padding=7), "fft", "fft"),       # large kernel, few channels
    ((8, 64, 56, 56), (64, 64, 7, 7), dict(padding=3), "shift", "shift", "gemm"),  # 64 channels: not FFT
    ((4, 16, 64, 64), (16, 16, 15, 15), dict(padding=7, stride=2), "gemm", "shift"),  # strided: not FFT
    # U-Net (batch 4, 256x256): an image's F(4x4) tiles overflow a block on the large maps
    ((4, 64, 256, 256), (32, 64, 3, 3), dict(padding=1), "shift", "shift", "winograd4"),  # dw: any map
    ((4, 64, 128, 128), (64, 64, 3, 3), dict(padding=1), "shift", "shift", "winograd4"),
    ((4, 256, 64, 64), (128, 256, 3, 3), dict(padding=1), "shift", "shift", "winograd4"),
    ((4, 64, 64, 64), (128, 64, 3, 3), dict(padding=1), "winograd4", "winograd4"),
    ((4, 256, 32, 32), (256, 256, 3, 3), dict(padding=1), "winograd4", "winograd4"),
    ((4, 512, 16, 16), (512, 512, 3, 3), dict(padding=1), "winograd", "winograd"),
]])
def test_selector(monkeypatch, x_shape, w_shape, kw, expected, dx, dw):
    monkeypatch.setattr(parallel, "_threads", 2)                   # the rules were measured with two threads
    monkeypatch.setattr(compiled, "available", lambda: False)      # NumPy's rules (with numba: its own test file)
    n = len(x_shape) - 2
    p = kw.get("padding", 0)
    geom = ConvGeometry.of(x_shape, w_shape, (kw.get("stride", 1),) * n, ((p, p),) * n, (1,) * n, kw.get("groups", 1))
    name, reason = select.explain("forward", geom)
    assert name == expected and select.algorithm("backward_weight", geom) == (dw or expected)
    assert select.algorithm("backward_input", geom) == dx
    assert isinstance(reason, str) and reason


@pytest.mark.parametrize("x_shape,precise_forward", [
    ((32, 128, 16, 16), "winograd"),    # F(2x2) instead of F(4x4)
    ((32, 64, 32, 32), "shift"),        # 64 channels: F(2x2) does not pay there
    ((32, 128, 28, 28), "shift"),       # 128 channels on 28x28: nor there
    ((4, 256, 32, 32), "winograd"),     # 256 channels: F(2x2) up to 32x32 (U-Net)
])
def test_selector_precise_forward_avoids_f4(monkeypatch, x_shape, precise_forward):
    """A forward that a gradient will flow back through (precise=True; for conv_transpose the input-gradient
    kernel is that forward) does not use F(4x4); the gradients themselves do."""
    monkeypatch.setattr(parallel, "_threads", 2)
    c = x_shape[1]
    geom = ConvGeometry.of(x_shape, (c, c, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    for op in ("forward", "backward_input"):
        assert select.algorithm(op, geom) == "winograd4"
        assert select.algorithm(op, geom, precise=True) == precise_forward
    assert select.algorithm("backward_weight", geom, precise=True) == "winograd4"


def test_winograd4_switched_off_by_the_environment(monkeypatch):
    """CNNLAB_WINOGRAD4=0: no shape of the selector table gets F(4x4) in any op; F(2x2) still serves."""
    monkeypatch.setattr(parallel, "_threads", 2)
    monkeypatch.setattr(cnnlab._settings, "WINOGRAD4", False)    # CNNLAB_WINOGRAD4=0, read at import
    names = set()
    for c, h in ((64, 56), (64, 32), (128, 28), (128, 16), (256, 14), (256, 8), (512, 7), (512, 4)):
        geom = ConvGeometry.of((32, c, h, h), (c, c, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
        names |= {select.algorithm(op, geom) for op in ("forward", "backward_input", "backward_weight")}
    assert "winograd4" not in names and "winograd" in names


def test_conv_layers_ask_for_a_precise_forward_when_training(monkeypatch):
    """conv2d and conv_transpose2d pass precise=True to the kernels exactly when a gradient is recorded."""
    seen = []
    real = select.algorithm
    monkeypatch.setattr(select, "algorithm", lambda *a, precise=False: seen.append((a[0], precise)) or real(*a))
    x, w = cnnlab.tensor(rand(2, 3, 6, 6)), cnnlab.tensor(rand(4, 3, 3, 3), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    with cnnlab.no_grad():
        F.conv2d(x, w, padding=1)
    F.conv2d(x, w.detach(), padding=1)
    F.conv_transpose2d(cnnlab.tensor(rand(2, 4, 6, 6)), w, padding=1)
    assert [p for op, p in seen if op == "forward"] == [True, False, False]
    assert seen[-1] == ("backward_input", True)


@pytest.mark.parametrize("n,x_shape,w_shape,kw", [
    (1, (2, 3, 40), (4, 3, 9), dict(padding=4, dilation=2)),
    (1, (1, 2, 17), (2, 2, 17), dict(padding=(3, 5))),                  # kernel as long as the input
    (3, (2, 2, 6, 5, 7), (3, 2, 3, 2, 3), dict(padding=1, dilation=(1, 2, 1))),
])
def test_fft_in_1d_and_3d(n, x_shape, w_shape, kw):
    """The FFT algorithm is N-d: conv1d and conv3d forced onto it against PyTorch (values and gradients), with
    dilation and asymmetric padding (F.pad first, as torch wants)."""
    pad = kw.get("padding", 0)
    flat = tuple(v for _ in range(n) for v in (pad if isinstance(pad, tuple) else (pad, pad)))
    dil = kw.get("dilation", 1)
    with select.forced("fft"):
        check(lambda lib, x, w: getattr(lib.F, f"conv{n}d")(lib.F.pad(x, flat), w, dilation=dil),
              rand(*x_shape), rand(*w_shape, seed=1))


def test_fft_float32_error_on_realistic_data():
    """Unit-variance activations and a 15x15 kernel scaled by its fan-in: float32 FFT results stay as close to a
    float64 reference as float32 direct convolution (GEMM) does, in all three results (measured 2-3x closer)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 40, 40))
    w = rng.standard_normal((8, 8, 15, 15)) / np.sqrt(8 * 225)
    g = rng.standard_normal((2, 8, 40, 40))
    pads = ((7, 7), (7, 7))
    ref = _run_all("gemm", x, w, g, (1, 1), pads, (1, 1), 1)
    args = (x.astype(np.float32), w.astype(np.float32), g.astype(np.float32), (1, 1), pads, (1, 1), 1)
    for got, direct, want in zip(_run_all("fft", *args), _run_all("gemm", *args), ref):
        assert got.dtype == np.float32
        assert np.abs(got - want).max() <= 1.5 * np.abs(direct - want).max()


def test_forced_falls_back_and_restores():
    geom = ConvGeometry.of((2, 3, 8, 8), (4, 3, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    with select.forced("winograd"):
        assert select.explain("forward", geom)[0] == "gemm"            # 5x5: not Winograd's
        with select.forced("shift"):
            assert select.explain("forward", geom) == ("shift", "forced")
        assert select.explain("forward", geom)[0] == "gemm"
    assert select.explain("forward", geom)[0] == "toeplitz"             # 3 channels on a narrow map
    with pytest.raises(ValueError, match=r"forced: name must be one of .*Got name='cuda'"):
        with select.forced("cuda"):
            pass


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blas_gemm_on_strided_and_transposed_views(dtype):
    """c = a @ b + beta * c in place, operands read as views (windows with a row stride, transposes), against
    NumPy; the same through the NumPy fallback."""
    rng = np.random.default_rng(0)
    big = rng.standard_normal((7, 40)).astype(dtype)
    a, b = rng.standard_normal((5, 7)).astype(dtype), big[:, 3:29]             # b: a window, row stride 40
    for fallback in (False, True):
        c_buf = rng.standard_normal((5, 60)).astype(dtype)
        c = c_buf[:, 10:36]                                                    # c: rows with a stride too
        want = a @ b + 0.5 * c
        with pytest.MonkeyPatch.context() as mp:
            if fallback:
                mp.setattr(cnnlab._settings, "BLAS", "numpy")           # CNNLAB_BLAS=numpy
            blas.gemm(a, b, c, beta=0.5)
            np.testing.assert_allclose(c, want, rtol=1e-5 if dtype == np.float32 else 1e-12)
            d = np.zeros((7, 26), dtype=dtype)
            blas.gemm(a.T, c, d)                                               # a transposed view: (7, 5)
            np.testing.assert_allclose(d, a.T @ c, rtol=1e-5 if dtype == np.float32 else 1e-12)
            e = np.zeros((5, 7), dtype=dtype)
            blas.gemm(c, big[:, 3:29].T, e, beta=1.0)                          # b transposed with stride 40
            np.testing.assert_allclose(e, c @ big[:, 3:29].T, rtol=1e-5 if dtype == np.float32 else 1e-12)
    with pytest.raises(ValueError, match=r"gemm: shapes or dtypes do not match"):
        blas.gemm(a, b.T, np.zeros((5, 7), dtype=dtype))


def test_shift_through_the_numpy_fallback(monkeypatch):
    """The shift algorithm gives the same results when BLAS cannot be called directly."""
    x, w, g = _data(SHIFT[1])
    want = _run_all("shift", x, w, g, *SHIFT[1][2:])
    monkeypatch.setattr(cnnlab._settings, "BLAS", "numpy")            # CNNLAB_BLAS=numpy, read at import
    assert not blas.available()
    for got, ref in zip(_run_all("shift", x, w, g, *SHIFT[1][2:]), want):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)


def test_winograd_is_skipped_for_a_smaller_out_size():
    """conv_transpose2d's input gradient asks conv_forward for less than the natural output (output_padding)."""
    x, w = rand(2, 32, 6, 6), rand(32, 32, 3, 3, seed=1)
    geom = ConvGeometry.of(x.shape, w.shape, (1, 1), ((1, 1), (1, 1)), (1, 1), 1, out_size=(5, 4))
    got = kconv.conv_forward(x, w, geom)
    want = gemm.forward(x, w, ConvGeometry.of(x.shape, w.shape, (1, 1), ((1, 1), (1, 1)), (1, 1), 1))[:, :, :5, :4]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_parallel_run_and_errors(monkeypatch):
    monkeypatch.setattr(parallel, "_threads", 3)
    out, slots = [0] * 7, set()

    def work(slot, i):
        out[i] = i + 1
        slots.add(slot)
    parallel.run(work, range(7))
    assert out == [1, 2, 3, 4, 5, 6, 7] and slots <= {0, 1, 2}

    def boom(slot, i):
        if i == 5:
            raise KeyError("five")
    with pytest.raises(KeyError, match="five"):
        parallel.run(boom, range(7))
    assert parallel._single[0] == 0                      # BLAS threads restored after the error
    with pytest.raises(ValueError, match=r"set_num_threads: n must be a positive int or None. Got n=0"):
        parallel.set_num_threads(0)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (2, 9, 11), (64, 3, 1), (1, 4, 130), (0, 3, 4)])
def test_parallel_matmul_splits_rows_or_columns(monkeypatch, threads, m, k, n):
    """matmul splits out's rows (or columns when M is small) over the threads, reading strided and transposed
    views in place and accumulating with beta; product() returns a @ b (any other operands: plain a @ b)."""
    monkeypatch.setattr(parallel, "_threads", threads)
    monkeypatch.setattr(parallel, "MATMUL_SPLIT_FLOPS", 1)
    rng = np.random.default_rng(m * 100 + n)
    a = rng.standard_normal((m, 2 * k))[:, ::2]                    # strided columns: gemm's np.matmul path
    b = rng.standard_normal((n, k)).T                              # a transposed view
    big = rng.standard_normal((m, n + 3))
    out, before = big[:, 1:n + 1], big[:, 1:n + 1].copy()          # rows with a stride longer than n
    calls, gemm = [], blas.gemm
    monkeypatch.setattr(blas, "gemm", lambda *args: calls.append(args[2].shape) or gemm(*args))
    with parallel.own_threads():
        parallel.matmul(a, b, out, beta=1.0)
    np.testing.assert_allclose(out, before + a @ b, rtol=1e-12, atol=1e-12)
    if parallel._find_blas():                                      # one piece per thread
        assert len(calls) == (1 if threads == 1 or m * n == 0 else threads)
    np.testing.assert_allclose(parallel.product(a.astype(np.float32), b.astype(np.float32)),
                               (a @ b).astype(np.float32), rtol=1e-5, atol=1e-5)
    ints = np.arange(6).reshape(2, 3)
    assert parallel.product(ints, ints.T).tolist() == (ints @ ints.T).tolist()


def test_matmul_leaves_the_columns_around_a_window_alone(monkeypatch):
    monkeypatch.setattr(parallel, "_threads", 2)
    monkeypatch.setattr(parallel, "MATMUL_SPLIT_FLOPS", 1)
    big = np.full((3, 8), 7.0)
    parallel.matmul(np.ones((3, 2)), np.ones((2, 4)), big[:, 2:6])
    assert big.tolist() == [[7.0, 7.0, 2.0, 2.0, 2.0, 2.0, 7.0, 7.0]] * 3


def test_own_threads_holds_blas_at_one_thread_and_restores_it():
    blas = parallel._find_blas()
    if not blas:
        pytest.skip("NumPy's BLAS is not an OpenBLAS whose threads can be set")
    before = blas[0]()
    with parallel.own_threads():
        with parallel.own_threads():                               # re-entrant
            assert blas[0]() == 1
        assert blas[0]() == 1
    assert blas[0]() == before and parallel._single[0] == 0


@pytest.mark.parametrize("name", ["gemm", "shift", "stack", "winograd", "depthwise", "depthwise_taps", "nhwc"])
def test_empty_batch(name):
    case = {"winograd": WINOGRAD[0], "depthwise": DEPTHWISE[1], "depthwise_taps": DEPTHWISE[1]}.get(name, SHIFT[1])
    x_shape, w_shape = case[:2]
    x, w = np.zeros((0,) + x_shape[1:]), rand(*w_shape)
    y = registry.get(name).forward(x, w, ConvGeometry.of(x.shape, w.shape, *case[2:]))
    assert y.shape[:2] == (0, w_shape[0])
    dx, dw = _run_all(name, x, w, np.zeros(y.shape), *case[2:])[1:]
    assert dx.shape == x.shape and dw.shape == w.shape and not dw.any()


def test_float32_stays_float32_through_the_public_api():
    for x_shape, w_shape, groups in (((2, 32, 6, 6), (32, 32, 3, 3), 1), ((2, 4, 6, 6), (4, 1, 3, 3), 4)):
        x = cnnlab.tensor(rand(*x_shape, dtype=np.float32), requires_grad=True)
        w = cnnlab.tensor(rand(*w_shape, seed=1, dtype=np.float32), requires_grad=True)
        y = F.conv2d(x, w, padding=1, groups=groups)
        y.sum().backward()
        assert y.dtype == x.grad.dtype == w.grad.dtype == cnnlab.float32


@pytest.mark.parametrize("case", [
    ((3, 5, 11), (4, 5, 3), (2,), ((2, 1),), (2,), 1),                                  # 1-d
    ((2, 3, 5, 4, 6), (4, 3, 3, 1, 2), (1, 2, 1), ((1, 1), (0, 2), (1, 0)), (1, 1, 2), 1),  # 3-d
])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_nhwc_in_one_and_three_dims(case, dtype, tol):
    """The channels-last lowering is written for any number of spatial dims: against the GEMM path."""
    x, w, g = _data(case, dtype)
    ref = _run_all("gemm", x.astype(np.float64), w.astype(np.float64), g.astype(np.float64), *case[2:])
    for got, want in zip(_run_all("nhwc", x, w, g, *case[2:]), ref):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max())
