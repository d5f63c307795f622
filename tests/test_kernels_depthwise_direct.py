"""Depthwise forward written in place into the output (kernels/depthwise.py's direct path: W-blocks that tile the
output columns, images stacked a window apart): against PyTorch, with the path checked to be the one taken,
blocks of one channel and several threads, and inf/NaN inputs (whose products PyTorch keeps)."""
import numpy as np
import pytest
import torch as pt

import cnnlab
from cnnlab.kernels import depthwise, depthwise_rows, parallel, select
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand

# (x shape, kernel, stride, padding, dilation): at least DIRECT_MIN_ROWS output rows per class, or one image
CASES = [
    ((2, 3, 48, 48), 3, 1, 1, 1),        # MobileNet's 3x3: 16-column W-blocks
    ((1, 4, 67, 40), 3, 2, 1, 1),        # stride 2, 20 output columns: 10-column W-blocks
    ((2, 2, 115, 28), 7, 1, 3, 1),       # ConvNeXt's 7x7, 14-column W-blocks
    ((1, 3, 70, 33), 3, 1, (2, 0), 2),   # dilation 2, 29 output columns (prime)
    ((1, 5, 14, 14), 7, 1, 3, 1),        # one image: in place at any height (ConvNeXt's third stage at batch 1)
]


@pytest.fixture(autouse=True)
def _w_blocks(monkeypatch):
    """These tests are about the W-block paths, which narrow maps leave for kernels/depthwise_rows.py."""
    monkeypatch.setattr(depthwise_rows, "MAX_WIDTH", 0)


def _geometry(x_shape, k, stride, padding, dilation):
    pads = tuple((p, p) for p in ((padding,) * 2 if isinstance(padding, int) else padding))
    c = x_shape[1]
    return ConvGeometry.of(x_shape, (c, 1, k, k), (stride,) * 2, pads, (dilation,) * 2, c)


def _fn(stride, padding, dilation, groups):
    def fn(lib, x, w, b):
        return lib.F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return fn


@pytest.mark.parametrize("case", CASES[:3] + CASES[4:], ids=["3x3", "3x3-s2", "7x7", "7x7-batch-1"])
def test_direct_forward_against_torch(case):
    x_shape, k, stride, padding, dilation = case
    geom = _geometry(*case)
    assert depthwise._Bands(geom, direct=True).direct
    c = x_shape[1]
    fn = _fn(stride, padding, dilation, c)
    x, w, b = rand(*x_shape), rand(c, 1, k, k, seed=1), rand(c, seed=2)
    with select.forced("depthwise"):      # the compiled algorithm takes these shapes by default where numba is
        check(fn, x, w, b)
        check_float32(fn, x, w, b)


def test_a_width_without_a_large_divisor_or_few_rows_keep_the_copying_path():
    assert not depthwise._Bands(_geometry(*CASES[3]), direct=True).direct      # 29 columns: prime
    assert not depthwise._Bands(_geometry((2, 5, 14, 14), 7, 1, 3, 1), direct=True).direct   # 2 rows per class


@pytest.mark.parametrize("threads", [1, 3])
def test_direct_forward_one_channel_per_block_and_threads(monkeypatch, threads):
    monkeypatch.setattr(depthwise, "BLOCK_BYTES", 1)
    monkeypatch.setattr(depthwise, "DIRECT_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "_threads", threads)
    rng = np.random.default_rng(0)
    for x_shape, k, stride, padding, dilation in [((3, 5, 9, 12), 3, 1, 1, 1), ((2, 3, 11, 8), 3, 2, 1, 1),
                                                    ((2, 2, 10, 14), 5, 1, 4, 2)]:
        x, w = rng.standard_normal(x_shape), rng.standard_normal((x_shape[1], 1, k, k))
        geom = _geometry(x_shape, k, stride, padding, dilation)
        assert depthwise._Bands(geom, direct=True).direct
        want = pt.nn.functional.conv2d(pt.from_numpy(x), pt.from_numpy(w), None, stride, padding, dilation,
                                       x_shape[1]).numpy()
        np.testing.assert_allclose(depthwise.forward(x, w, geom), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_direct_forward_with_inf_or_nan_matches_torch(value):
    x_shape, k, stride, padding, dilation = CASES[0]
    x, w = rand(*x_shape), rand(x_shape[1], 1, k, k, seed=1)
    x[1, 2, 20, 7] = value
    want = pt.nn.functional.conv2d(pt.from_numpy(x), pt.from_numpy(w), None, stride, padding, dilation,
                                   x_shape[1]).numpy()
    got = cnnlab.nn.functional.conv2d(cnnlab.tensor(x), cnnlab.tensor(w), None, stride, padding, dilation,
                                      x_shape[1]).numpy()
    assert not np.isfinite(want).all()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)
