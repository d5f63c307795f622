"""Depthwise forward on narrow maps as one matmul per channel over whole rows (kernels/depthwise_rows.py, the
'depthwise' algorithm's path for ConvNeXt's and MobileNet's 14x14 and 7x7 maps): against PyTorch through the
public API (forward and both gradients; the input gradient at stride 1 is a forward too), with the path checked to
be the one taken, blocks of one channel on 1 and 3 threads, and inf/NaN (whose products PyTorch keeps)."""
import numpy as np
import pytest
import torch as pt

import cnnlab
from cnnlab.kernels import depthwise, depthwise_rows, parallel, select
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand
from test_kernels_depthwise import CASES as WIDE_PADDING

# (x shape, kernel, stride, padding, dilation)
CASES = [
    ((1, 6, 7, 7), 7, 1, 3, 1),            # ConvNeXt's last stage at batch 1
    ((2, 4, 14, 14), 7, 1, 3, 1),          # its third stage, two images
    ((3, 5, 7, 7), 3, 1, 1, 1),            # MobileNet's 7x7 maps
    ((1, 4, 14, 14), 3, 2, 1, 1),          # stride 2
    ((1, 3, 11, 16), (3, 5), (2, 3), (0, 4), (2, 1)),   # uneven stride, dilation in H, padding in W only
    ((2, 2, 9, 8), 5, 1, (6, 7), 1),       # padding wider than the kernel
    ((1, 3, 6, 5), 3, 1, 0, 2),            # no padding, dilation 2
]
IDS = ["convnext-7", "convnext-14", "mobilenet-7", "stride-2", "uneven", "wide-padding", "dilated"]


def _pair(a):
    return (a, a) if isinstance(a, int) else a


def _geometry(x_shape, k, stride, padding, dilation):
    c, k = x_shape[1], _pair(k)
    pads = tuple((p, p) for p in _pair(padding))
    return ConvGeometry.of(x_shape, (c, 1) + k, _pair(stride), pads, _pair(dilation), c)


def _torch(x, w, case):
    _, _, stride, padding, dilation = case
    return pt.nn.functional.conv2d(pt.from_numpy(x), pt.from_numpy(w), None, stride, padding, dilation,
                                   x.shape[1]).numpy()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_rows_against_torch(case):
    x_shape, k, stride, padding, dilation = case
    geom = _geometry(*case)
    assert depthwise_rows.applies(geom)
    c = x_shape[1]

    def fn(lib, x, w, b):
        return lib.F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=c)
    x, w, b = rand(*x_shape), rand(c, 1, *_pair(k), seed=1), rand(c, seed=2)
    with select.forced("depthwise"):     # small maps like these are 'depthwise_taps' by default
        check(fn, x, w, b)
        check_float32(fn, x, w, b)


def test_wide_maps_and_multipliers_keep_the_w_blocks():
    assert not depthwise_rows.applies(_geometry((1, 4, 14, 28), 3, 1, 1, 1))       # wider than MAX_WIDTH
    assert not depthwise_rows.applies(_geometry((8, 4, 14, 14), 3, 1, 1, 1))       # 14 > SPANS * 3 at batch 8
    assert depthwise_rows.applies(_geometry((1, 4, 14, 14), 3, 1, 1, 1))           # one image: any narrow map
    multiplier = ConvGeometry.of((1, 2, 7, 7), (4, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 2)
    assert not depthwise_rows.applies(multiplier)
    tall = ConvGeometry.of((4, 2, 20000, 1), (2, 1, 31, 1), (1, 1), ((15, 15), (0, 0)), (1, 1), 2)
    assert not depthwise_rows.applies(tall)                      # 31 copies of 80,000 rows per channel


@pytest.mark.parametrize("threads", [1, 3])
def test_rows_one_channel_per_block_and_threads(monkeypatch, threads):
    monkeypatch.setattr(depthwise_rows, "BLOCK_BYTES", 1)
    monkeypatch.setattr(parallel, "_threads", threads)
    rng = np.random.default_rng(0)
    for case in CASES:
        x, w = rng.standard_normal(case[0]), rng.standard_normal((case[0][1], 1) + _pair(case[1]))
        geom = _geometry(*case)
        assert len(depthwise_rows._Rows(geom).blocks) == case[0][1]
        np.testing.assert_allclose(depthwise.forward(x, w, geom), _torch(x, w, case), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["x", "w"])
def test_rows_with_inf_or_nan_matches_torch(value, where):
    case = CASES[1]
    x, w = rand(*case[0]), rand(case[0][1], 1, 7, 7, seed=1)
    if where == "x":
        x[1, 2, 5, 0] = value          # column 0: the band's zeros for columns 4.. meet it
    else:
        w[3, 0, 0, 6] = value
    want = _torch(x, w, case)
    got = cnnlab.nn.functional.conv2d(cnnlab.tensor(x), cnnlab.tensor(w), None, 1, 3, 1, case[0][1]).numpy()
    assert not np.isfinite(want).all() and np.isfinite(want).any()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("case", range(len(WIDE_PADDING)))
def test_w_blocks_keep_their_coverage_on_narrow_maps(monkeypatch, case):
    """tests/test_kernels_depthwise.py's cases (padding wider than the kernel, strides 2 and 3, multipliers) are
    narrow: here they run on the W-blocks (kernels/depthwise.py), whose windows at stride > 1 are read in part."""
    monkeypatch.setattr(depthwise_rows, "MAX_WIDTH", 0)
    x_shape, w_shape, stride, padding, dilation, groups = WIDE_PADDING[case]

    def fn(lib, x, w, b):
        return lib.F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    check(fn, rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2))


def test_strided_windows_are_read_in_part():
    # MobileNet's stride-2 3x3: a window spans 4 input rows (2 residue classes of stride 2), a filter reads 3
    geom = _geometry((1, 96, 112, 112), 3, 2, 1, 1)
    bands = depthwise._Bands(geom, direct=True)
    assert bands.direct and (bands.k, bands.kr) == (4 * bands.bw, 3 * bands.bw)
