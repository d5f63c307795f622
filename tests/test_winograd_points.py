"""Winograd weight gradients summed by transform points (kernels/winograd.py `by_points`): the whole batch's
transformed tiles once, each thread the sums of its own points of one dU, instead of a dU per thread added up.
Checked against the GEMM lowering and PyTorch in float64 and float32, bit-for-bit the same on 1, 2 and 3 threads
(each point's sum is one matmul whichever thread runs it), and where the rule takes it; bands of tile rows; and the
weight gradients summed per block of images (both ways of adding a block's sums into dU)."""
import numpy as np
import pytest

from cnnlab.kernels import parallel, registry, select, winograd, winograd_tiles
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand

CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), ((1, 1), (1, 1))),      # odd output: partial tiles
    ((1, 4, 8, 9), (6, 4, 3, 3), ((0, 2), (1, 0))),      # asymmetric padding, batch 1
    ((3, 2, 5, 5), (2, 2, 3, 3), ((2, 2), (2, 2))),      # 'full' padding
    ((2, 6, 14, 13), (5, 6, 3, 3), ((1, 1), (1, 1))),
    ((3, 9, 4, 4), (7, 9, 3, 3), ((1, 1), (1, 1))),      # CIFAR's layer-4 shape, small
]


def _geom(case):
    x_shape, w_shape, pads = case
    return ConvGeometry.of(x_shape, w_shape, (1, 1), pads, (1, 1), 1)


@pytest.fixture
def by_points(monkeypatch):
    monkeypatch.setattr(winograd, "WEIGHT_POINTS_RATIO", float("inf"))


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_against_the_gemm_path(by_points, case, m, dtype, tol):
    geom = _geom(case)
    assert winograd.by_points(geom, m)
    _check_against_the_gemm_path(geom, m, dtype, tol)


def _check_against_the_gemm_path(geom, m, dtype, tol):
    """winograd.backward_weight in dtype against the GEMM lowering in float64, within tol of the largest value."""
    x, g = rand(*geom.x_shape, dtype=dtype), rand(*geom.y_shape, seed=2, dtype=dtype)
    want = registry.get("gemm").backward_weight(x.astype(np.float64), g.astype(np.float64), geom)
    with parallel.own_threads():
        got = winograd.backward_weight(x, g, geom, m)
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", [CASES[0], CASES[3]])
def test_same_bits_on_any_number_of_threads(monkeypatch, by_points, case, m):
    geom = _geom(case)
    x, g = rand(*case[0], dtype=np.float32), rand(*geom.y_shape, seed=2, dtype=np.float32)
    monkeypatch.setattr(parallel, "MATMUL_SPLIT_FLOPS", 1)      # the transforms split into pieces too
    results = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(parallel, "_threads", threads)
        with parallel.own_threads():
            results.append(winograd.backward_weight(x, g, geom, m))
    # The same products summed in the same order; only BLAS's rounding of a split transform may differ: bit-for-bit
    # on OpenBLAS's SkylakeX kernel, within float32 rounding on its Haswell kernel (which rounds pieces apart).
    for got in results[1:]:
        np.testing.assert_allclose(got, results[0], rtol=0, atol=1e-5 * np.abs(results[0]).max())


@pytest.mark.parametrize("name", ["winograd", "winograd4"])
@pytest.mark.parametrize("case", [CASES[0], CASES[2]])
def test_against_torch(by_points, name, case):
    x_shape, w_shape, pads = case
    flat = tuple(v for pair in reversed(pads) for v in pair)     # F.pad order

    def fn(lib, x, w):
        return lib.F.conv2d(lib.F.pad(x, flat), w)
    x, w = rand(*x_shape), rand(*w_shape, seed=1)
    tol = {"atol": 1e-4} if name == "winograd4" else {}          # F(4x4)'s float32 rounding (test_kernels_conv.py)
    with select.forced(name):
        check(fn, x, w)
        check_float32(fn, x, w, **tol)


@pytest.mark.parametrize("x_shape,threads,expected", [
    ((32, 512, 4, 4), 2, True),      # 128 tiles of 1024 channels against 2 x 512 x 512: CIFAR's layer 4
    ((32, 256, 8, 8), 2, True),      # F(4x4): 128 tiles, layer 3
    ((32, 128, 16, 16), 2, False),   # 512 tiles of 256 channels against 2 x 128 x 128: per-block dU
    ((32, 64, 32, 32), 2, False),
    ((32, 256, 8, 8), 1, True),      # one thread: the same sums either way (one block of the batch)
])
def test_the_rule(monkeypatch, x_shape, threads, expected):
    monkeypatch.setattr(parallel, "_threads", threads)
    c = x_shape[1]
    geom = ConvGeometry.of(x_shape, (c, c, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert winograd.by_points(geom, 4 if c < 512 else 2) is expected


# weight gradients on images larger than a block: bands of tile rows (kernels/winograd.py BANDS)
BAND_CASES = [
    ((2, 3, 16, 16), (4, 3, 3, 3), ((1, 1), (1, 1)), 2),
    ((2, 3, 16, 16), (4, 3, 3, 3), ((1, 1), (1, 1)), 4),
    ((3, 5, 14, 10), (2, 5, 3, 3), ((2, 0), (0, 2)), 2),      # asymmetric padding: pad rows in the first band only
    ((1, 2, 18, 6), (3, 2, 3, 3), ((0, 0), (2, 2)), 4),       # no row padding, batch 1
    ((2, 2, 14, 14), (9, 2, 3, 3), ((2, 2), (2, 2)), 2),      # 'full' padding, more outputs than inputs
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("x_shape,w_shape,pads,m", BAND_CASES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_bands_against_the_gemm_path(monkeypatch, blocks, threads, x_shape, w_shape, pads, m, dtype, tol):
    monkeypatch.setattr(parallel, "_threads", threads)              # blocks: 2-3 tile rows a band
    bands = []
    monkeypatch.setattr(winograd_tiles.Tiles, "gather_band", _spy(winograd_tiles.Tiles.gather_band, bands))
    _check_against_the_gemm_path(_geom((x_shape, w_shape, pads)), m, dtype, tol)
    assert len(bands) > x_shape[0]                                 # every image in more than one band


def _spy(fn, calls):
    def spied(*args):
        calls.append(args[2:5])
        return fn(*args)
    return spied


def test_no_bands_for_partial_tiles(monkeypatch, blocks):
    """An output that is not whole tiles keeps whole-image blocks (their zero edges are kept between calls)."""
    bands = []
    monkeypatch.setattr(winograd_tiles.Tiles, "gather_band", _spy(winograd_tiles.Tiles.gather_band, bands))
    geom = _geom(((2, 3, 13, 12), (4, 3, 3, 3), ((1, 1), (1, 1))))
    x, g = rand(2, 3, 13, 12), rand(*geom.y_shape, seed=2)
    want = registry.get("gemm").backward_weight(x, g, geom)
    np.testing.assert_allclose(winograd.backward_weight(x, g, geom, 4), want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert not bands


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("x_shape,w_shape,pads,m", BAND_CASES)
def test_forward_and_input_gradient_in_bands(monkeypatch, threads, x_shape, w_shape, pads, m):
    """The forward's bands: as the GEMM lowering, float64 and float32, on any number of threads."""
    monkeypatch.setattr(winograd, "BLOCK_TILES", 6)
    monkeypatch.setattr(parallel, "_threads", threads)
    bands = []
    monkeypatch.setattr(winograd_tiles.Tiles, "gather_band", _spy(winograd_tiles.Tiles.gather_band, bands))
    geom = _geom((x_shape, w_shape, pads))
    gemm = registry.get("gemm")
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        x, w, g = rand(*x_shape, dtype=dtype), rand(*w_shape, seed=1, dtype=dtype), rand(*geom.y_shape, seed=2,
                                                                                        dtype=dtype)
        with parallel.own_threads():
            y, dx = winograd.forward(x, w, geom, m), winograd.backward_input(g, w, geom, m)
        x, w, g = (a.astype(np.float64) for a in (x, w, g))
        for got, want in ((y, gemm.forward(x, w, geom)), (dx, gemm.backward_input(g, w, geom))):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max())
    assert bands


def test_non_finite_inputs_in_bands(monkeypatch):
    """A band's non-finite output tiles send the call to kernels/nonfinite.py, as a block's do: inf and NaN
    come out as PyTorch's."""
    torch = pytest.importorskip("torch")
    from cnnlab.kernels import conv as kconv
    monkeypatch.setattr(winograd, "BLOCK_TILES", 6)
    geom = _geom(BAND_CASES[0][:3])
    x, w = rand(*BAND_CASES[0][0]), rand(*BAND_CASES[0][1], seed=1)
    x[1, 2, 9, 4], x[0, 0, 3, 3] = np.inf, np.nan
    with select.forced("winograd4"):
        got = kconv.conv_forward(x, w, geom)
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape,whole", [((32, 512, 4, 4), True), ((32, 256, 8, 8), False)])
def test_a_wide_kernel_makes_one_block(monkeypatch, shape, whole):
    """F(2x2) at 512 channels (U of 16.8 MB) runs one block with its matmuls split over the threads: per-thread
    blocks each read all of U (WHOLE_MIN_KERNEL_BYTES)."""
    seen = []
    init = winograd_tiles.Tiles.__init__

    def spied(self, *args, whole=False):
        seen.append(whole)
        init(self, *args, whole=whole)
    monkeypatch.setattr(winograd_tiles.Tiles, "__init__", spied)
    c = shape[1]
    geom = ConvGeometry.of(shape, (c, c, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    x, w = np.zeros(shape, np.float32), np.zeros((c, c, 3, 3), np.float32)
    winograd.forward(x, w, geom, 2)
    assert seen == [whole]


# weight gradients summed per block of images: blocks of a share of BLOCK_TILES (WEIGHT_BLOCK_SHARE), and from
# WEIGHT_IN_PLACE_BYTES a dU that takes each block's sums in place, point by point (BLAS, beta = 1)
BLOCK_CASES = [
    ((6, 5, 4, 4), (7, 5, 3, 3), ((0, 0), (0, 0))),      # whole images, three per block
    ((3, 4, 11, 9), (6, 4, 3, 3), ((1, 1), (0, 2))),     # partial tiles, asymmetric padding
    ((2, 3, 16, 16), (4, 3, 3, 3), ((1, 1), (1, 1))),    # bands of tile rows (3-tile weight blocks below)
]


@pytest.fixture
def blocks(monkeypatch):
    monkeypatch.setattr(winograd, "BLOCK_TILES", 6)                 # several blocks a thread, or bands
    monkeypatch.setattr(winograd, "WEIGHT_POINTS_RATIO", 0.0)       # never by points: the blocks' path


@pytest.mark.parametrize("in_place", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", BLOCK_CASES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_block_sums_against_the_gemm_path(monkeypatch, blocks, case, m, threads, in_place, dtype, tol):
    monkeypatch.setattr(parallel, "_threads", threads)
    monkeypatch.setattr(winograd, "WEIGHT_IN_PLACE_BYTES", 0 if in_place else float("inf"))
    _check_against_the_gemm_path(_geom(case), m, dtype, tol)


@pytest.mark.parametrize("m", [2, 4])
def test_in_place_sums_agree_with_the_product_array(monkeypatch, blocks, m):
    """Adding each block's products point by point into dU agrees with adding the product array afterwards within
    float32 rounding (the same products; a BLAS that splits the inner dimension may add its pieces one by one)."""
    geom = _geom(BLOCK_CASES[0])
    monkeypatch.setattr(parallel, "_threads", 1)
    x, g = rand(*geom.x_shape, dtype=np.float32), rand(*geom.y_shape, seed=2, dtype=np.float32)
    results = []
    for limit in (0, float("inf")):
        monkeypatch.setattr(winograd, "WEIGHT_IN_PLACE_BYTES", limit)
        with parallel.own_threads():
            results.append(winograd.backward_weight(x, g, geom, m))
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-6 * np.abs(results[1]).max())
