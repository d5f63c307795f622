"""inf/NaN through padding modes and interpolation: PyTorch's values, and no NumPy RuntimeWarning leaking."""
import warnings

import numpy as np
import pytest

from oracle import CN, PT, rand

torch = pytest.importorskip("torch")


def _both(fn, x, g):
    out = []
    for lib in (CN, PT):
        t = lib.tensor(x.copy(), True)
        y = fn(lib, t)
        (y * lib.tensor(g, False)).sum().backward()
        out.append((y.detach().numpy(), t.grad.numpy()))
    return out


def _shape(fn, x):
    return tuple(fn(PT, PT.tensor(x, False)).shape)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes_with_a_non_finite_gradient(mode):
    x = rand(2, 3, 5, 6)
    fn = lambda lib, t: lib.F.pad(t, (2, 1, 1, 2), mode=mode)  # noqa: E731
    g = rand(*_shape(fn, x), seed=1)
    g[0, 1, 0, 0], g[1, 2, 3, 4] = np.inf, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        (cy, cg), (ty, tg) = _both(fn, x, g)
    np.testing.assert_allclose(cy, ty)
    np.testing.assert_allclose(cg, tg, equal_nan=True)


@pytest.mark.parametrize("mode, kw", [("bilinear", {"align_corners": False}), ("bilinear", {"align_corners": True}),
                                      ("bicubic", {"align_corners": False}), ("nearest", {})])
def test_interpolate_of_a_non_finite_input(mode, kw):
    x = rand(1, 2, 5, 4)
    x[0, 0, 2, 1], x[0, 1, 4, 3] = np.inf, np.nan
    fn = lambda lib, t: lib.F.interpolate(t, scale_factor=2, mode=mode, **kw)  # noqa: E731
    g = rand(*_shape(fn, x), seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        (cy, cg), (ty, tg) = _both(fn, x, g)
    np.testing.assert_allclose(cy, ty, equal_nan=True)
    np.testing.assert_allclose(cg, tg, equal_nan=True)
