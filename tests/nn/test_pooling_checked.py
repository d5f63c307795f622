"""Pooling checks its arguments once per (shape, arguments) (pooling._cached_windows): a repeat skips the checks, a
refused argument is refused on every call, and a bool never passes for the int it equals."""
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.errors import ShapeError
from cnnlab.nn.functional import pooling


def test_a_repeated_call_reuses_its_checked_windows(monkeypatch):
    calls = []
    checked = pooling._checked_windows
    monkeypatch.setattr(pooling, "_checked_windows", lambda *a: calls.append(a[2]) or checked(*a))
    pooling._cached_windows.cache_clear()
    x = cnnlab.randn(2, 3, 8, 8)
    for _ in range(3):
        F.max_pool2d(x, 2)
        F.avg_pool2d(x, 3, stride=1, padding=1)
    F.max_pool2d(cnnlab.randn(4, 3, 8, 8), 2)                 # another shape: checked again
    F.max_pool2d(x, [2, 2])                                    # a list is not a key: checked every time
    F.max_pool2d(x, [2, 2])
    assert calls == ["max_pool2d", "avg_pool2d", "max_pool2d", "max_pool2d", "max_pool2d"]


@pytest.mark.parametrize("kwargs", [{"kernel_size": 0}, {"kernel_size": 2, "padding": 2},
                                    {"kernel_size": 2, "stride": -1}])
def test_refused_arguments_are_refused_every_time(kwargs):
    x = cnnlab.randn(1, 2, 6, 6)
    for _ in range(2):
        with pytest.raises(ShapeError, match="max_pool2d: "):
            F.max_pool2d(x, **kwargs)


def test_a_bool_is_not_taken_for_the_int_it_equals():
    x = cnnlab.randn(1, 2, 6, 6)
    F.max_pool2d(x, 1)
    with pytest.raises(TypeError, match="max_pool2d: kernel_size must be an int"):
        F.max_pool2d(x, True)
