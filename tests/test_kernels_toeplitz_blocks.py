"""The 'toeplitz' convolution's two column blocks (forward and weight gradient): where they are taken, and that
they give PyTorch's values and gradients (float64 and float32) and the GEMM lowering's under padding, stride and
dilation; where the split does not pay (odd or wide output rows) the whole row is kept."""
import numpy as np
import pytest

from cnnlab.kernels import gemm, select, toeplitz
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand

# (x shape, w shape, stride, padding pairs, dilation, groups), 2-d; each splits into two blocks
SPLIT = [
    ((2, 1, 28, 28), (6, 1, 5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),   # LeNet-5's conv1
    ((2, 2, 9, 21), (3, 2, 3, 3), (2, 2), ((1, 0), (0, 1)), (1, 1), 1),    # stride 2, asymmetric padding
    ((1, 3, 8, 24), (4, 3, 2, 3), (1, 1), ((0, 0), (1, 1)), (2, 2), 1),    # dilation, batch 1
]
WHOLE = [
    ((2, 6, 14, 14), (16, 6, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),  # LeNet-5's conv2: half the taps of the row
    ((2, 1, 27, 27), (6, 1, 5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),   # odd output width
]


@pytest.mark.parametrize("case", SPLIT)
def test_split_is_taken_where_it_cuts_the_work(case):
    blocks, width, window = toeplitz._blocks(ConvGeometry.of(*case))
    assert blocks == 2 and 2 * width == ConvGeometry.of(*case).out_size[1]


@pytest.mark.parametrize("case", WHOLE)
def test_whole_row_elsewhere(case):
    geom = ConvGeometry.of(*case)
    assert toeplitz._blocks(geom) == (1, geom.out_size[1], geom.pad_shape[1])


@pytest.mark.parametrize("case", SPLIT + WHOLE)
def test_against_torch(case):
    """Through the public API with the algorithm forced, on the input padded beforehand (torch pads symmetrically
    only); values and the gradients of input, weight and bias."""
    x_shape, w_shape, stride, padding, dilation, _ = case
    x = np.pad(rand(*x_shape), ((0, 0), (0, 0)) + padding)
    w, b = rand(*w_shape, seed=1), rand(w_shape[0], seed=2)
    assert toeplitz._blocks(ConvGeometry.of(x.shape, w_shape, stride, ((0, 0), (0, 0)), dilation, 1)) == \
        toeplitz._blocks(ConvGeometry.of(*case))  # the same split as with the padding inside

    def fn(lib, x, w, b):
        return lib.F.conv2d(x, w, b, stride=stride, dilation=dilation)
    with select.forced("toeplitz"):
        check(fn, x, w, b, second_order=False)
        check_float32(fn, x, w, b, second_order=False)


@pytest.mark.parametrize("case", SPLIT + WHOLE)
def test_padding_inside_the_geometry_matches_gemm(case):
    """The kernels themselves with the padding in the geometry (the public path above pads first)."""
    geom = ConvGeometry.of(*case)
    x, w = rand(*case[0]), rand(*case[1], seed=1)
    g = rand(*geom.y_shape, seed=2)
    np.testing.assert_allclose(toeplitz.forward(x, w, geom), gemm.forward(x, w, geom), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(toeplitz.backward_weight(x, g, geom), gemm.backward_weight(x, g, geom),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(toeplitz.backward_input(g, w, geom), gemm.backward_input(g, w, geom),
                               rtol=1e-12, atol=1e-12)
