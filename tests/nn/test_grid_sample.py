"""F.affine_grid and F.grid_sample against PyTorch (values and gradients wrt input, grid and theta), finite
differences, float32, the align_corners=None warning, and the error messages."""
import warnings

import numpy as np
import pytest
from oracle import check, check_float32, gradcheck, rand

import cnnlab
import cnnlab.nn.functional as F

PADDING = ["zeros", "border", "reflection"]


def _grid(shape, seed, spread=1.4):
    """Random grid positions in [-spread, spread]: many fall outside [-1, 1]."""
    return rand(*shape, seed=seed, low=-spread, high=spread)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d_matches_torch(mode, padding_mode, align_corners):
    x = rand(3, 2, 5, 7, seed=1)
    grid = _grid((3, 4, 6, 2), seed=2)
    check(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                              align_corners=align_corners), x, grid)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_3d_matches_torch(mode, padding_mode, align_corners):
    x = rand(2, 2, 3, 4, 5, seed=3)
    grid = _grid((2, 2, 3, 4, 3), seed=4)
    check(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                              align_corners=align_corners), x, grid)


@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_far_outside_and_size_one_axes(padding_mode, align_corners):
    # positions several input widths away (many reflections), and an input axis of size 1
    x = rand(2, 3, 1, 6, seed=5)
    grid = _grid((2, 5, 3, 2), seed=6, spread=7.0)
    for mode in ("bilinear", "nearest", "bicubic"):
        check(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                                  align_corners=align_corners), x, grid)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_only_one_input_requires_grad(mode):
    x, grid = rand(2, 1, 4, 3, seed=7), _grid((2, 3, 3, 2), seed=8)
    fn = lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, align_corners=False)  # noqa: E731
    check(fn, x, grid, grad=[True, False])
    check(fn, x, grid, grad=[False, True])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_sample_gradients_match_finite_differences(mode):
    x, grid = rand(1, 2, 3, 4, seed=9), _grid((1, 2, 3, 2), seed=10, spread=1.2)
    for pad in PADDING:
        gradcheck(lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=pad, align_corners=False), x, grid)


def test_grid_sample_trilinear_gradients_match_finite_differences():
    x, grid = rand(1, 1, 2, 3, 3, seed=11), _grid((1, 2, 2, 1, 3), seed=12, spread=1.2)
    gradcheck(lambda x, g: F.grid_sample(x, g, padding_mode="reflection", align_corners=True), x, grid)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_float32_matches_torch(mode):
    out = check_float32(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode="reflection",
                                                            align_corners=False),
                        rand(2, 3, 6, 5, seed=13), _grid((2, 4, 4, 2), seed=14))
    assert out[0].dtype == np.float32


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d_float32_matches_torch(mode):
    check_float32(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode="border", align_corners=True),
                  rand(1, 2, 4, 3, 5, seed=23), _grid((1, 3, 2, 4, 3), seed=24))


def test_theta_gradient_matches_finite_differences():
    theta = np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.05]]])

    def fn(x, th):
        grid = F.affine_grid(th, (1, 2, 4, 3), align_corners=False)
        return F.grid_sample(x, grid, mode="bicubic", padding_mode="reflection", align_corners=False)
    gradcheck(fn, rand(1, 2, 5, 4, seed=25), theta)


def test_grid_sample_identity_grid_reproduces_the_input():
    x = rand(2, 3, 5, 4, seed=15)
    theta = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (2, 1, 1))
    for align in (False, True):
        grid = F.affine_grid(cnnlab.tensor(theta), x.shape, align_corners=align)
        for mode in ("bilinear", "nearest", "bicubic"):
            out = F.grid_sample(cnnlab.tensor(x), grid, mode=mode, align_corners=align)
            np.testing.assert_allclose(out.numpy(), x, atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(3, 2, 4, 5), (2, 1, 1, 6), (2, 3, 5, 1)])
def test_affine_grid_2d_matches_torch(align_corners, size):
    theta = rand(size[0], 2, 3, seed=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners=True warn in both
        check(lambda lib, th: lib.F.affine_grid(th, size, align_corners=align_corners), theta)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_3d_matches_torch(align_corners):
    size = (2, 1, 3, 4, 5)
    check(lambda lib, th: lib.F.affine_grid(th, size, align_corners=align_corners), rand(2, 3, 4, seed=17))


@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", [False, True])
def test_spatial_transformer_chain_matches_torch(padding_mode, align_corners):
    # gradients flow to theta through the grid, and to the input
    def fn(lib, x, th):
        grid = lib.F.affine_grid(th, (2, 3, 6, 5), align_corners=align_corners)
        return lib.F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners)
    theta = np.array([[[1.1, -0.3, 0.2], [0.4, 0.9, -0.1]], [[0.7, 0.2, -0.3], [-0.25, 1.3, 0.15]]])
    check(fn, rand(2, 3, 5, 4, seed=18), theta)
    check_float32(fn, rand(2, 3, 5, 4, seed=18), theta)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_affine_grid_identity_positions_are_bit_exact(align_corners, dtype):
    # torch's linspace rounds each position once; positions on integer pixel coordinates must agree bit for bit,
    # since there the bilinear grid gradient switches to the next pair of pixels
    torch = pytest.importorskip("torch")
    for size in [(1, 1, 7, 12), (1, 1, 13, 16), (2, 1, 19, 100), (1, 1, 3, 4, 11)]:
        n = len(size) - 2
        theta = np.tile(np.eye(n, n + 1, dtype=dtype), (size[0], 1, 1))
        ours = F.affine_grid(cnnlab.tensor(theta), size, align_corners=align_corners).numpy()
        theirs = torch.nn.functional.affine_grid(torch.tensor(theta), size, align_corners=align_corners).numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", [False, True])
def test_positions_on_pixel_centers_and_edges_match_torch(n, padding_mode, align_corners):
    # scaled identity transforms put positions exactly on pixel centers, on the input's edges and beyond
    # them: the kinks of the sampling weights and of the padding rules, where torch takes one-sided gradients
    size = (2, 2, 5, 4) if n == 2 else (2, 2, 3, 4, 5)
    for diag in ([1.0, 1.0, 1.0], [2.0, 3.0, 1.5]):
        theta = np.tile(np.diag(diag[:n] + [0.0])[:n], (2, 1, 1))
        for mode in ["bilinear", "nearest"] + (["bicubic"] if n == 2 else []):
            def fn(lib, x, th):
                grid = lib.F.affine_grid(th, size, align_corners=align_corners)
                return lib.F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
            check(fn, rand(*size, seed=21), theta)


def _grid_grad_alone(x, grid, mode, padding_mode):
    gt = cnnlab.tensor(grid, requires_grad=True)
    F.grid_sample(cnnlab.tensor(x), gt, mode=mode, padding_mode=padding_mode, align_corners=False).sum().backward()
    return gt.grad.numpy()


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADDING)
def test_non_finite_and_huge_positions_match_torch(mode, padding_mode):
    # NaN clamps to 0 under 'border' and 'reflection'; NaN, inf and 1e30 never index outside the input
    grid = np.array([np.nan, 0.2, 1e30, -0.3, np.inf, 0.1, -np.inf, 0.5, 0.3, np.nan, -7.3, 0.45]).reshape(1, 2, 3, 2)
    x = rand(1, 2, 3, 4, seed=22)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no NumPy RuntimeWarning from the casts
        # values only: torch's backward reads out of bounds on these positions (it segfaults for some modes)
        check(lambda lib, x, g: lib.F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=False),
              x, grid, grad=[False, False])
        xt, gt = cnnlab.tensor(x, requires_grad=True), cnnlab.tensor(grid, requires_grad=True)
        F.grid_sample(xt, gt, mode=mode, padding_mode=padding_mode, align_corners=False).sum().backward()
    # the gradients of the finite positions are unaffected by their non-finite neighbours
    xa = cnnlab.tensor(x, requires_grad=True)
    F.grid_sample(xa, cnnlab.tensor(grid[:, 1:, 2:]), mode=mode, padding_mode=padding_mode,
                  align_corners=False).sum().backward()
    assert np.isfinite(xa.grad.numpy()).all() and gt.grad.shape == grid.shape
    np.testing.assert_allclose(gt.grad.numpy()[:, 1:, 2:], _grid_grad_alone(x, grid[:, 1:, 2:], mode, padding_mode))


def test_align_corners_none_warns_and_means_false():
    x, theta = rand(1, 1, 4, 4, seed=19), rand(1, 2, 3, seed=20)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = F.affine_grid(cnnlab.tensor(theta), (1, 1, 3, 5))
    np.testing.assert_array_equal(grid.numpy(),
                                  F.affine_grid(cnnlab.tensor(theta), (1, 1, 3, 5), align_corners=False).numpy())
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        out = F.grid_sample(cnnlab.tensor(x), grid)
    np.testing.assert_array_equal(out.numpy(),
                                  F.grid_sample(cnnlab.tensor(x), grid, align_corners=False).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(cnnlab.tensor(x), grid, align_corners=True)  # explicit: no warning


def _t(*shape, dtype=np.float64):
    return cnnlab.tensor(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.affine_grid(_t(1, 3, 3), (1, 1, 3, 3), align_corners=False), ValueError,
     r"affine_grid: theta must be a batch of 2-d affine matrices of shape \(N, 2, 3\).*theta.shape=\(1, 3, 3\)"),
    (lambda: F.affine_grid(_t(1, 2, 3), (1, 1, 3, 3, 3), align_corners=False), ValueError, r"\(N, 3, 4\)"),
    (lambda: F.affine_grid(_t(1, 2, 3), (2, 1, 3, 3), align_corners=False), RuntimeError,
     r"affine_grid: theta's batch must equal size\[0\]. Got theta.shape=\(1, 2, 3\), size=\(2, 1, 3, 3\)"),
    (lambda: F.affine_grid(_t(1, 2, 3), (1, 1, 3), align_corners=False), NotImplementedError,
     r"affine_grid: only 4-d and 5-d sizes.*size=\(1, 1, 3\)"),
    (lambda: F.affine_grid(_t(1, 2, 3, dtype=np.int64), (1, 1, 3, 3), align_corners=False), ValueError,
     r"theta must be floating point. Got theta.dtype=cnnlab.int64"),
    (lambda: F.grid_sample(_t(1, 1, 3, 3), _t(1, 3, 3, 3), align_corners=False), RuntimeError,
     r"grid_sample: grid's last dimension must be 2.*grid.shape=\(1, 3, 3, 3\)"),
    (lambda: F.grid_sample(_t(2, 1, 3, 3), _t(1, 3, 3, 2), align_corners=False), RuntimeError,
     r"same batch size. Got input.shape=\(2, 1, 3, 3\), grid.shape=\(1, 3, 3, 2\)"),
    (lambda: F.grid_sample(_t(1, 1, 3, 3), _t(1, 3, 3, 2), mode="foo", align_corners=False), ValueError,
     r"grid_sample: mode must be one of bilinear, nearest, bicubic. Got mode='foo'"),
    (lambda: F.grid_sample(_t(1, 1, 3, 3), _t(1, 3, 3, 2), padding_mode="foo", align_corners=False), ValueError,
     r"padding_mode must be one of zeros, border, reflection. Got padding_mode='foo'"),
    (lambda: F.grid_sample(_t(1, 1, 3, 3), _t(1, 3, 3, 2, 1), align_corners=False), RuntimeError,
     r"must both be 4-d .* or both 5-d .*grid.shape=\(1, 3, 3, 2, 1\)"),
    (lambda: F.grid_sample(_t(1, 1, 3, 3, 3), _t(1, 3, 3, 3, 3), mode="bicubic", align_corners=False),
     RuntimeError, r"mode='bicubic' needs a 4-d input"),
    (lambda: F.grid_sample(_t(1, 1, 0, 3), _t(1, 3, 3, 2), align_corners=False), RuntimeError,
     r"non-empty spatial dimensions. Got input.shape=\(1, 1, 0, 3\)"),
    (lambda: F.grid_sample(_t(1, 1, 3, 3, dtype=np.float32), _t(1, 3, 3, 2), align_corners=False), RuntimeError,
     r"same dtype. Got input.dtype=cnnlab.float32, grid.dtype=cnnlab.float64"),
])
def test_errors_name_the_rule_and_values(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("cn_call,pt_call", [
    (lambda: F.affine_grid(_t(1, 3, 3), (1, 1, 3, 3)), "affine_grid(torch.zeros(1, 3, 3), (1, 1, 3, 3))"),
    (lambda: F.affine_grid(_t(1, 2, 3), (1, 1, 3)), "affine_grid(torch.zeros(1, 2, 3), (1, 1, 3))"),
    (lambda: F.grid_sample(_t(2, 1, 3, 3), _t(1, 3, 3, 2)),
     "grid_sample(torch.zeros(2, 1, 3, 3), torch.zeros(1, 3, 3, 2))"),
    (lambda: F.grid_sample(_t(1, 1, 3, 3), _t(1, 3, 3, 2), mode="foo"),
     "grid_sample(torch.zeros(1, 1, 3, 3), torch.zeros(1, 3, 3, 2), mode='foo')"),
])
def test_errors_have_torchs_exception_type(cn_call, pt_call):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as pt_err:
            eval("torch.nn.functional." + pt_call, {"torch": torch})
        with pytest.raises(type(pt_err.value)):
            cn_call()
