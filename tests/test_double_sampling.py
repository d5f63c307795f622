"""Double backward of interpolate/upsample, affine_grid and grid_sample (cnnlab/derivatives/sampling.py) against
PyTorch in float64: the derivative of (grad . v) with respect to every input and the upstream gradient, through a
cube around the op (tests/double_check.py), and a third order on some. grid_sample's second derivatives in the
grid are PyTorch's (its double backward covers both arguments; its gradgradcheck passes)."""
import pytest

from double_check import check2
from oracle import rand

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("mode, n", [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 2),
                                     ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3),
                                     ("area", 1), ("area", 2), ("area", 3)])
@pytest.mark.parametrize("how", [dict(scale_factor=1.7), dict(size=(3, 7, 2)), dict(scale_factor=2)])
def test_interpolate(mode, n, how):
    kw = dict(how, size=how["size"][:n]) if "size" in how else how
    check2(lambda lib, x: lib.F.interpolate(x, mode=mode, **kw), rand(*(2, 3, 5, 4, 3)[:n + 2]))


@pytest.mark.parametrize("mode, n", [("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3)])
def test_interpolate_align_corners(mode, n):
    check2(lambda lib, x: lib.F.interpolate(x, scale_factor=2.3, mode=mode, align_corners=True),
           rand(*(2, 3, 4, 3, 3)[:n + 2]))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_third_order(mode):
    check2(lambda lib, x: lib.F.interpolate(x, size=(3, 2), mode=mode, antialias=True), rand(2, 2, 7, 5), order=3)
    check2(lambda lib, x: lib.F.interpolate(x, scale_factor=1.5, mode=mode), rand(2, 2, 4, 3), order=3)


@pytest.mark.filterwarnings("ignore:.*is deprecated")  # the aliases' deprecation warnings, as PyTorch's
def test_upsample_aliases():
    check2(lambda lib, x: lib.F.upsample(x, scale_factor=2, mode="bilinear", align_corners=False), rand(1, 2, 3, 4))
    check2(lambda lib, x: lib.F.upsample_nearest(x, size=(5, 7)), rand(1, 2, 3, 4))
    check2(lambda lib, x: lib.F.upsample_bilinear(x, scale_factor=2), rand(1, 2, 3, 4))


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(n, align):
    size = (2, 3, 4, 5) if n == 2 else (2, 3, 3, 4, 2)
    check2(lambda lib, t: lib.F.affine_grid(t, size, align_corners=align), rand(2, n, n + 1), order=3)


def _grid(*shape, seed=1):
    return rand(*shape, seed=seed, low=-1.3, high=1.3)  # some positions outside the input: every padding rule


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_2d(mode, padding_mode, align):
    check2(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=align),
           rand(2, 3, 4, 5), _grid(2, 3, 4, 2))


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_3d(mode, padding_mode):
    check2(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=False),
           rand(2, 2, 3, 4, 5), _grid(2, 2, 3, 2, 3))


@pytest.mark.parametrize("mode, n", [("bilinear", 2), ("bicubic", 2), ("bilinear", 3)])
def test_grid_sample_third_order(mode, n):
    x, g = (rand(1, 2, 4, 5), _grid(1, 3, 2, 2)) if n == 2 else (rand(1, 2, 3, 4, 3), _grid(1, 2, 2, 2, 3))
    check2(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode="reflection", align_corners=False),
           x, g, order=3)


def test_grid_sample_one_input_differentiable():
    """Only the input, or only the grid, requiring grad (a fixed sampling grid; a fixed image)."""
    x, g = rand(2, 3, 4, 5), _grid(2, 3, 4, 2)
    check2(lambda lib, x: lib.F.grid_sample(x, lib.tensor(g, False), align_corners=False), x)
    check2(lambda lib, gr: lib.F.grid_sample(lib.tensor(x, False), gr, mode="bicubic", align_corners=True), g)


def test_spatial_transformer_chain():
    """affine_grid into grid_sample: theta and the image both differentiated, third order."""
    size = (2, 3, 4, 5)
    check2(lambda lib, x, t: lib.F.grid_sample(x, lib.F.affine_grid(t, size, align_corners=False),
                                               align_corners=False),
           rand(*size), rand(2, 2, 3, seed=4) * 0.8, order=3)
