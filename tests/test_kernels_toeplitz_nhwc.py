"""The 'toeplitz' convolution's channel-last blocks (forward and weight gradient, several input channels): where
they are taken, and that they give PyTorch's values and gradients (float64 and float32) and the GEMM lowering's
under padding, stride and dilation inside the geometry."""
import numpy as np
import pytest

from cnnlab.kernels import gemm, select, toeplitz
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand

# (x shape, w shape, stride, padding pairs, dilation, groups), 2-d
NHWC = [
    ((2, 6, 14, 14), (16, 6, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),  # LeNet-5's conv2: 2 blocks of 5 columns
    ((2, 3, 16, 20), (32, 3, 3, 5), (1, 2), ((1, 0), (2, 1)), (1, 1), 1),  # stride 2, asymmetric padding
    ((1, 4, 9, 14), (32, 4, 3, 3), (1, 1), ((0, 0), (1, 1)), (1, 2), 1),   # dilation, batch 1
]
NOT_NHWC = [
    ((2, 1, 28, 28), (6, 1, 5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),   # LeNet-5's conv1: one channel
    ((2, 3, 12, 13), (16, 3, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),  # OW = 11: no narrower width divides it
    ((2, 3, 16, 20), (8, 3, 3, 5), (1, 2), ((1, 0), (2, 1)), (1, 1), 1),   # 8 filters: 2 blocks, no narrower
]


@pytest.mark.parametrize("case", NHWC)
def test_taken_where_it_cuts_the_work(case):
    geom = ConvGeometry.of(*case)
    blocks, width, window = toeplitz._nhwc_blocks(geom)
    assert blocks * width == geom.out_size[1] and geom.out_channels * width >= toeplitz.MIN_COLUMNS
    assert window <= toeplitz.NHWC_MAX_SHARE * toeplitz._blocks(geom)[2]
    assert toeplitz._wins("forward", geom, False)


@pytest.mark.parametrize("case", NOT_NHWC)
def test_not_taken_elsewhere(case):
    assert toeplitz._nhwc_blocks(ConvGeometry.of(*case)) is None


@pytest.mark.parametrize("case", NHWC)
def test_against_torch(case):
    """Through the public API with the algorithm forced, on the input padded beforehand (torch pads symmetrically
    only); values and the gradients of input, weight and bias."""
    x_shape, w_shape, stride, padding, dilation, _ = case
    x = np.pad(rand(*x_shape), ((0, 0), (0, 0)) + padding)
    w, b = rand(*w_shape, seed=1), rand(w_shape[0], seed=2)
    assert toeplitz._nhwc_blocks(ConvGeometry.of(x.shape, w_shape, stride, ((0, 0), (0, 0)), dilation, 1))

    def fn(lib, x, w, b):
        return lib.F.conv2d(x, w, b, stride=stride, dilation=dilation)
    with select.forced("toeplitz"):
        check(fn, x, w, b, second_order=False)
        check_float32(fn, x, w, b, second_order=False)


@pytest.mark.parametrize("case", NHWC)
def test_padding_inside_the_geometry_matches_gemm(case):
    """The kernels themselves with the padding in the geometry (the public path above pads first), twice: the
    channel-last copy is a reused buffer whose padding must be zero again on the second call."""
    geom = ConvGeometry.of(*case)
    x, w = rand(*case[0]), rand(*case[1], seed=1)
    g = rand(*geom.y_shape, seed=2)
    for _ in range(2):
        np.testing.assert_allclose(toeplitz.forward(x, w, geom), gemm.forward(x, w, geom), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(toeplitz.backward_weight(x, g, geom), gemm.backward_weight(x, g, geom),
                                   rtol=1e-12, atol=1e-12)
        x, g = x + 1.0, g - 0.5
