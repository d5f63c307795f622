"""F.interpolate and the upsample aliases against PyTorch (values and gradients), finite differences,
float32, and the error messages."""
import math

import numpy as np
import pytest
from oracle import check, check_float32, gradcheck, rand

import cnnlab
import cnnlab.nn.functional as F

RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
SIZES = [(5, 7), (6, 3), (4, 8), (7, 7), (1, 4), (5, 1), (5, 13)]  # (in, out): up, down, same, to/from 1
SCALES = [2, 2.3, 0.6, 1.7, 3, 0.5, 1 / 3]


def _shape(n, size, batch=2):
    return (batch, 3) + tuple(size + i % 2 for i in range(n))  # unequal spatial sizes


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("size_in,size_out", SIZES)
def test_nearest_sizes_match_torch(mode, n, size_in, size_out):
    shape = _shape(n, size_in)
    out = tuple(size_out + i for i in range(n))
    check(lambda lib, x: lib.F.interpolate(x, size=out, mode=mode), rand(*shape, seed=n))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("scale,size", [(s, 7) for s in SCALES] + [(2.3, 3), (1.2, 3), (2.0, 3), (1.0, 3)])
@pytest.mark.parametrize("recompute", [None, True])
def test_nearest_scale_factors_match_torch(mode, n, scale, size, recompute):
    # 3 * 2.3 -> 6 = 2 * in and 3 * 1.2 -> 3 = in: PyTorch's 2-d kernel halves (copies) the index, its 1-d and
    # 3-d kernels use floor(o / scale); both forwards are matched.
    x = rand(*_shape(n, size), seed=4)

    def fn(lib, x):
        return lib.F.interpolate(x, scale_factor=scale, mode=mode, recompute_scale_factor=recompute)
    outs = [math.floor(i * scale) for i in x.shape[2:]]
    if mode == "nearest" and not recompute and n != 2 and scale not in (1, 2) and \
            any(o in (i, 2 * i) for o, i in zip(outs, x.shape[2:])):
        # There PyTorch's backward still halves (copies) the index, so it is not the adjoint of its own forward:
        # compare the values with PyTorch and the gradient with finite differences.
        check(fn, x, grad=[False])
        gradcheck(lambda t: F.interpolate(t, scale_factor=scale, mode=mode), x[:1, :1])
    else:
        check(fn, x)


@pytest.mark.parametrize("mode", ["linear", "bilinear", "bicubic", "trilinear"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size_in,size_out", SIZES)
def test_interpolating_sizes_match_torch(mode, align_corners, size_in, size_out):
    n = RANK[mode]
    out = tuple(size_out + i for i in range(n))
    check(lambda lib, x: lib.F.interpolate(x, size=out, mode=mode, align_corners=align_corners),
          rand(*_shape(n, size_in, batch=1 if n == 3 else 2), seed=5))


@pytest.mark.parametrize("mode", ["linear", "bilinear", "bicubic", "trilinear"])
@pytest.mark.parametrize("align_corners", [None, False, True])
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("recompute", [None, True])
def test_interpolating_scale_factors_match_torch(mode, align_corners, scale, recompute):
    n = RANK[mode]
    check(lambda lib, x: lib.F.interpolate(x, scale_factor=scale, mode=mode, align_corners=align_corners,
                                           recompute_scale_factor=recompute),
          rand(*_shape(n, 6 if n < 3 else 4, batch=1), seed=6))


def test_per_dim_scale_factors_and_sizes_match_torch():
    x = rand(2, 3, 5, 6, seed=7)
    check(lambda lib, x: lib.F.interpolate(x, scale_factor=(2.5, 0.7), mode="bilinear"), x)
    check(lambda lib, x: lib.F.interpolate(x, scale_factor=[1.5, 3], mode="nearest"), x)
    check(lambda lib, x: lib.F.interpolate(x, size=[4, 9], mode="bicubic", align_corners=True), x)
    check(lambda lib, x: lib.F.interpolate(x, size=(8, 6), mode="nearest-exact"), x[:1])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size_in,size_out", [((15, 17), (4, 5)), ((8, 8), (3, 7)), ((5, 6), (11, 4)),
                                              ((16, 9), (5, 9))])
def test_antialias_matches_torch(mode, align_corners, size_in, size_out):
    check(lambda lib, x: lib.F.interpolate(x, size=size_out, mode=mode, align_corners=align_corners,
                                           antialias=True), rand(2, 2, *size_in, seed=8))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_area_is_adaptive_avg_pool_and_matches_torch(n):
    x = rand(*_shape(n, 7), seed=9)
    check(lambda lib, x: lib.F.interpolate(x, size=(3,) * n, mode="area"), x)
    check(lambda lib, x: lib.F.interpolate(x, scale_factor=0.6, mode="area"), x)
    got = F.interpolate(cnnlab.tensor(x), size=(3,) * n, mode="area").numpy()
    want = getattr(F, f"adaptive_avg_pool{n}d")(cnnlab.tensor(x), 3).numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample:UserWarning")  # torch deprecates the aliases
def test_upsample_aliases_match_torch():
    x = rand(2, 3, 4, 5, seed=10)
    check(lambda lib, x: lib.F.upsample(x, scale_factor=2, mode="bilinear"), x)
    check(lambda lib, x: lib.F.upsample_nearest(x, size=(7, 3)), x)
    check(lambda lib, x: lib.F.upsample_bilinear(x, scale_factor=1.5), x)  # align_corners=True


def test_nan_and_inf_propagate_like_torch():
    x = rand(1, 2, 5, 6, seed=11)
    x[0, 0, 2, 3] = np.inf
    x[0, 1, 1, 1] = np.nan
    for mode in ("nearest", "bilinear", "bicubic"):
        check(lambda lib, x: lib.F.interpolate(x, size=(7, 9), mode=mode), x, grad=[False])


def test_float32_stays_float32():
    x = rand(2, 3, 7, 6, seed=12)
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic", "area"):
        check_float32(lambda lib, x: lib.F.interpolate(x, size=(11, 4), mode=mode), x)
    check_float32(lambda lib, x: lib.F.interpolate(x, scale_factor=0.45, mode="bilinear", antialias=True), x)
    check_float32(lambda lib, x: lib.F.interpolate(x, scale_factor=1.7, mode="bilinear", align_corners=True), x)
    check_float32(lambda lib, x: lib.F.interpolate(x[:1], scale_factor=(1.5, 0.5, 2), mode="trilinear"),
                  rand(1, 2, 4, 5, 3, seed=13))


@pytest.mark.parametrize("mode,kw", [("nearest", {}), ("nearest-exact", {}), ("bilinear", {}),
                                     ("bilinear", {"align_corners": True}), ("bicubic", {}),
                                     ("bilinear", {"antialias": True}), ("area", {})])
def test_gradcheck(mode, kw):
    gradcheck(lambda x: F.interpolate(x, size=(5, 3), mode=mode, **kw), rand(1, 2, 4, 6, seed=14))


# ---- errors -------------------------------------------------------------------------------------------------------

def _x(*shape):
    return cnnlab.tensor(rand(*shape))


def test_error_size_and_scale_factor():
    with pytest.raises(ValueError, match=r"interpolate: only one of size or scale_factor should be defined. "
                                         r"Got size=4, scale_factor=2"):
        F.interpolate(_x(1, 1, 3), size=4, scale_factor=2)
    with pytest.raises(ValueError, match=r"interpolate: either size or scale_factor should be defined"):
        F.interpolate(_x(1, 1, 3))
    with pytest.raises(ValueError, match=r"recompute_scale_factor is not meaningful with an explicit size"):
        F.interpolate(_x(1, 1, 3), size=4, recompute_scale_factor=True)
    with pytest.raises(ValueError, match=r"interpolate: size must have one entry per spatial dimension. "
                                         r"Got size=\(4, 4, 4\) for input spatial dimensions \[3, 3\]"):
        F.interpolate(_x(1, 1, 3, 3), size=(4, 4, 4))
    with pytest.raises(TypeError, match=r"interpolate: size must be an int or a tuple of ints. Got size=2.5"):
        F.interpolate(_x(1, 1, 3), size=2.5)
    with pytest.raises(RuntimeError, match=r"interpolate: input and output sizes should be greater than 0. Got "
                                           r"input spatial size \(3, 3\), output size \(0, 0\)"):
        F.interpolate(_x(1, 1, 3, 3), scale_factor=0.2, mode="bilinear")


def test_error_mode_and_rank():
    with pytest.raises(NotImplementedError, match=r"interpolate: mode='bilinear' needs a 4-d input \(2 spatial "
                                                  r"dims\). Got 3-d input of shape \(1, 1, 3\)"):
        F.interpolate(_x(1, 1, 3), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match=r"mode='trilinear' needs a 5-d input"):
        F.interpolate(_x(1, 1, 3, 3), scale_factor=2, mode="trilinear")
    with pytest.raises(NotImplementedError, match=r"only 3-d, 4-d and 5-d inputs .* Got a 2-d input"):
        F.interpolate(_x(3, 3), scale_factor=2)
    with pytest.raises(ValueError, match=r"interpolate: mode must be one of nearest, .*Got mode='cubic'"):
        F.interpolate(_x(1, 1, 3, 3), scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match=r"align_corners option can only be set with the interpolating modes: "
                                         r"linear \| bilinear \| bicubic \| trilinear. Got mode='nearest', "
                                         r"align_corners=False"):
        F.interpolate(_x(1, 1, 3), scale_factor=2, align_corners=False)
    with pytest.raises(ValueError, match=r"anti-alias option is restricted to bilinear and bicubic"):
        F.interpolate(_x(1, 1, 3), scale_factor=0.5, mode="linear", antialias=True)
    with pytest.raises(TypeError, match=r"interpolate: the input must be floating point"):
        F.interpolate(cnnlab.tensor(np.ones((1, 1, 3), np.int64)), scale_factor=2)


@pytest.mark.parametrize("mode, n, antialias", [("linear", 1, False), ("bilinear", 2, False), ("trilinear", 3, False),
                                                ("bilinear", 2, True), ("bicubic", 2, True), ("bicubic", 2, False)])
@pytest.mark.parametrize("scale", [1.1, 1.19, 0.99 + 1e-9, 1.0001])
def test_unchanged_size_with_scale_factor(mode, n, antialias, scale):
    """floor(5 * 1.19) = 5: PyTorch's linear and antialiased kernels copy an axis whose size is unchanged (the
    scale_factor does not move the samples there); its plain bicubic kernel interpolates at 1/scale.

    PyTorch's antialiased backward does not skip the axis (its gradient is not the adjoint of its forward there),
    so with antialias the gradient is checked by finite differences instead."""
    x = rand(1, 2, *(5 + i for i in range(n)), seed=9)
    scales = (scale,) + (1.5,) * (n - 1)  # the other axes do change
    check(lambda lib, x: lib.F.interpolate(x, scale_factor=scales, mode=mode, antialias=antialias), x,
          grad=[not antialias])
    if antialias:
        gradcheck(lambda x: F.interpolate(x, scale_factor=scales, mode=mode, antialias=True), x[:, :1])


@pytest.mark.parametrize("kwargs", [dict(size=0), dict(scale_factor=0.2), dict(size=(2, 0))])
def test_area_to_an_empty_size(kwargs):
    """'area' is adaptive_avg_pool, which PyTorch lets produce an empty size (the sampling modes refuse)."""
    x = rand(1, 2, 3, 4, seed=30)
    check(lambda lib, x: lib.F.interpolate(x, mode="area", **kwargs), x, grad=[False])
    t = cnnlab.tensor(x, requires_grad=True)
    F.interpolate(t, mode="area", **kwargs).sum().backward()
    assert not np.any(t.grad.numpy())
    with pytest.raises(ValueError, match=r"interpolate: input and output sizes should be greater than 0"):
        F.interpolate(cnnlab.tensor(x), mode="nearest", **kwargs)
