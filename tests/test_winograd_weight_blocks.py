"""Winograd weight gradients summed per block of images (kernels/winograd.py): blocks of a share of BLOCK_TILES
(WEIGHT_BLOCK_SHARE), and from WEIGHT_IN_PLACE_BYTES a dU that takes each block's sums in place, point by point.
Both ways of adding a block's sums, on one and two threads, against the GEMM lowering in float64 and float32."""
import numpy as np
import pytest

from cnnlab.kernels import parallel, registry, winograd
from cnnlab.kernels.geometry import ConvGeometry
from oracle import rand

CASES = [
    ((6, 5, 8, 8), (7, 5, 3, 3), ((1, 1), (1, 1))),      # whole images, several per block
    ((3, 4, 11, 9), (6, 4, 3, 3), ((1, 1), (0, 2))),     # partial tiles, asymmetric padding
    ((2, 3, 16, 16), (4, 3, 3, 3), ((1, 1), (1, 1))),    # bands of tile rows (BLOCK_TILES 6 below)
]


@pytest.mark.parametrize("in_place", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_block_sums_against_the_gemm_path(monkeypatch, case, m, threads, in_place, dtype, tol):
    x_shape, w_shape, pads = case
    geom = ConvGeometry.of(x_shape, w_shape, (1, 1), pads, (1, 1), 1)
    monkeypatch.setattr(parallel, "_threads", threads)
    monkeypatch.setattr(winograd, "BLOCK_TILES", 6)                 # several blocks a thread, or bands
    monkeypatch.setattr(winograd, "WEIGHT_POINTS_RATIO", 0.0)       # never by points: the blocks' path
    monkeypatch.setattr(winograd, "WEIGHT_IN_PLACE_BYTES", 0 if in_place else float("inf"))
    x, g = rand(*x_shape, dtype=dtype), rand(*geom.y_shape, seed=2, dtype=dtype)
    want = registry.get("gemm").backward_weight(x.astype(np.float64), g.astype(np.float64), geom)
    with parallel.own_threads():
        got = winograd.backward_weight(x, g, geom, m)
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("m", [2, 4])
def test_in_place_sums_agree_with_the_product_array(monkeypatch, m):
    """Adding each block's products point by point into dU (BLAS, beta = 1) agrees with adding the product array
    afterwards within float32 rounding (the same products; a BLAS that splits the inner dimension may add its
    pieces to dU one by one)."""
    x_shape, w_shape, pads = CASES[0]
    geom = ConvGeometry.of(x_shape, w_shape, (1, 1), pads, (1, 1), 1)
    monkeypatch.setattr(parallel, "_threads", 1)
    monkeypatch.setattr(winograd, "BLOCK_TILES", 6)
    monkeypatch.setattr(winograd, "WEIGHT_POINTS_RATIO", 0.0)
    x, g = rand(*x_shape, dtype=np.float32), rand(*geom.y_shape, seed=2, dtype=np.float32)
    results = []
    for limit in (0, float("inf")):
        monkeypatch.setattr(winograd, "WEIGHT_IN_PLACE_BYTES", limit)
        with parallel.own_threads():
            results.append(winograd.backward_weight(x, g, geom, m))
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-6 * np.abs(results[1]).max())
