"""Depthwise convolution (kernels/depthwise.py, and kernels/depthwise_taps.py) with padding wider than the
kernel's span, so that whole W-blocks of the laid-out input lie in the padding: forward and both gradients against
PyTorch through the public API, several strides, dilations and channel multipliers, float64 and float32."""
import numpy as np
import pytest

from cnnlab.kernels import select
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand

# (x shape, w shape, stride, padding, dilation, groups); padding > dilation * (k - 1) in every case
CASES = [
    ((2, 3, 15, 11), (6, 1, 1, 1), 1, 3, 1, 3),          # the reported crash: 1x1, multiplier 2, padding 3
    ((2, 3, 15, 11), (3, 1, 3, 3), 1, 5, 1, 3),
    ((1, 2, 9, 7), (4, 1, 3, 2), 2, 6, 2, 2),            # stride 2, dilation 2
    ((2, 4, 8, 13), (4, 1, 2, 3), (1, 3), (4, 9), (3, 1), 4),
    ((1, 2, 5, 20), (2, 1, 1, 1), 3, 17, 1, 2),          # padding wider than a whole W-block (BLOCK_W = 16)
    ((2, 2, 6, 6), (6, 1, 3, 3), 2, (7, 8), (1, 3), 2),  # multiplier 3
]


@pytest.mark.parametrize("name", ["depthwise", "depthwise_taps"])
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_padding_wider_than_the_kernel_against_torch(case, name):
    """Under both NumPy depthwise algorithms (kernels/depthwise_taps.py pads its blocks of rows the same way)."""
    x_shape, w_shape, stride, padding, dilation, groups = case
    n = 2
    args = [(a,) * n if isinstance(a, int) else a for a in (stride, padding, dilation)]
    pads = tuple((p, p) for p in args[1])
    geom = ConvGeometry.of(x_shape, w_shape, args[0], pads, args[2], groups)
    assert all(p > d * (k - 1) for p, d, k in zip(args[1], args[2], w_shape[2:]))

    def fn(lib, x, w, b):
        return lib.F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    x, w, b = rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2)
    with select.forced(name):
        assert select.explain("forward", geom) == (name, "forced")
        check(fn, x, w, b)
        check_float32(fn, x, w, b)
