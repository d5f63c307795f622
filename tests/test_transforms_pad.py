"""transforms' padding (Pad, RandomCrop's padding) by slice copies in the constant and edge modes: the values,
shape and dtype np.pad gives (the independent reference), for every side, fill and dtype; reflect and
symmetric, a tuple fill and an empty image keep np.pad itself."""
import itertools

import numpy as np
import pytest

from cnnlab.data import transforms as T


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape", [(28, 28, 1), (5, 7, 3), (1, 1, 1)])
@pytest.mark.parametrize("mode,fill", [("edge", 0), ("constant", 0), ("constant", 7), ("constant", -3.7),
                                       ("constant", 300)])
def test_pad_matches_numpy(dtype, shape, mode, fill):
    a = (np.random.default_rng(0).random(shape) * 200).astype(dtype)
    for left, top, right, bottom in itertools.product([0, 1, 3], repeat=4):
        ref = np.pad(a, ((top, bottom), (left, right), (0, 0)), mode=mode,
                     **({"constant_values": fill} if mode == "constant" else {}))
        got = T._pad(a, (left, top, right, bottom), fill, mode)
        assert got.dtype == ref.dtype and got.shape == ref.shape
        np.testing.assert_array_equal(got, ref)


def test_pad_by_slices_is_used_for_constant_and_edge(monkeypatch):
    calls, pad = [], np.pad
    monkeypatch.setattr(np, "pad", lambda *a, **k: calls.append(k.get("mode")) or pad(*a, **k))
    a = np.arange(12.0).reshape(3, 4, 1)
    T._pad(a, 2, 0, "edge")
    T._pad(a, (1, 2), 5, "constant")
    assert calls == []
    T._pad(a, 1, 0, "reflect")
    T._pad(a, 1, (1, 2), "constant")          # a fill that is not one number: np.pad decides
    assert calls == ["reflect", "constant"]


def test_pad_transform_edge_mode_keeps_its_values():
    x = np.arange(16.0).reshape(4, 4)
    out = T.Pad(2, padding_mode="edge")(x)
    np.testing.assert_array_equal(out, np.pad(x, 2, mode="edge"))
