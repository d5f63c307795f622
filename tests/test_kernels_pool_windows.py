"""kernels/pool.windows: one Windows per pooling geometry, its derived bookkeeping made once and read-only, and
the same results as a fresh Windows."""
import numpy as np
import pytest

from cnnlab.kernels import pool as K

GEOMS = [  # (spatial, kernel, stride, padding, dilation, out)
    ((28, 28), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1), (14, 14)),
    ((7, 9), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), (4, 5)),
    ((6, 6), (2, 2), (1, 1), ((1, 1), (1, 1)), (4, 4), (5, 5)),   # dilated: some windows wholly in the padding
]


@pytest.mark.parametrize("geom", GEOMS)
def test_one_object_per_geometry(geom):
    assert K.windows(*geom) is K.windows(*geom)
    spatial, kernel, stride, padding, dilation, out = geom
    assert K.windows(list(spatial), kernel, stride, [list(p) for p in padding], dilation, out) is K.windows(*geom)


@pytest.mark.parametrize("geom", GEOMS)
def test_bookkeeping_matches_a_fresh_windows_and_is_read_only(geom):
    shared, fresh = K.windows(*geom), K.Windows(*geom)
    for _ in range(2):  # the second call reads the memo
        for include_pad in (False, True):
            np.testing.assert_array_equal(shared.counts(include_pad), fresh._counts(include_pad))
        np.testing.assert_array_equal(shared.first_taps(), fresh._first_taps())
    empty = fresh._counts(False) == 0
    assert (shared.empty_windows() is None) == (not empty.any())
    with pytest.raises(ValueError):
        shared.counts(True)[...] = 0


@pytest.mark.parametrize("geom", GEOMS)
def test_max_pool_through_shared_windows_twice(geom):
    """Forward and backward twice through the shared object (memoized plan) against the arrays of a first call."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + geom[0])
    g = rng.standard_normal((2, 3) + geom[5])
    win = K.windows(*geom)
    first = K.extreme_forward(x, K.Windows(*geom))
    for _ in range(2):
        out, arg = K.extreme_forward(x, win)
        np.testing.assert_array_equal(out, first[0])
        np.testing.assert_array_equal(arg, first[1])
        np.testing.assert_array_equal(K.extreme_backward(g, arg, win, x.shape),
                                      K.extreme_backward(g, first[1], K.Windows(*geom), x.shape))
