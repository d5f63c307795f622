"""kernels/common.py's load_rows, the padded-row loader that 'winograd' bands and 'depthwise_taps' blocks share,
against np.pad (an independent reference): rows above, inside, below and wholly outside the image, padding rows
zeroed over stale values, and in the image's rows the columns outside `cols` left as the caller keeps them."""
import numpy as np
import pytest

from cnnlab.kernels.common import load_rows, overlap


@pytest.mark.parametrize("p0,n", [(0, 4), (1, 7), (3, 3), (5, 6), (0, 12), (11, 2)])
@pytest.mark.parametrize("left,width", [(2, 9), (1, 5)])   # the image's columns and padding; its first few only
def test_load_rows_is_np_pad_channels_last(p0, n, left, width):
    top, h, w = 2, 7, 6
    x = np.random.default_rng(0).standard_normal((2, 3, h, w))
    want = np.pad(x[1], ((0, 0), (top, 12), (left, 12)))[:, p0:p0 + n, :width].transpose(1, 2, 0)
    rows, cols = overlap(p0, n, top, h)[1], overlap(0, width, left, w)[1]
    image_rows = np.isin(np.arange(n), np.arange(n)[rows])
    outside = np.ones(width, bool)
    outside[cols] = False
    want[image_rows[:, None] & outside] = -1.0                          # the caller's columns, untouched
    buf = np.full((n + 2, width, 3), 7.0)                                # stale values
    buf[:, outside] = -1.0
    load_rows(x, 1, p0, n, top, (overlap(0, width, left, w)[0], cols), buf)
    np.testing.assert_array_equal(buf[:n], want)
    assert (buf[n:, ~outside] == 7.0).all()                              # rows past n are not the call's
