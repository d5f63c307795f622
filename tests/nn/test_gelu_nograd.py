"""Float32 exact GELU without a graph: Phi(x) is not kept (nothing will differentiate it), the blocks run on
the kernel threads, and the values are bit for bit those of the recorded forward (accuracy and specials:
test_activation_float32.py)."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.kernels import parallel
from cnnlab.nn.functional import _activation_f32 as f32


def _x(n, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 4).astype(np.float32)
    x[::97] = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 30.0, -30.0, 1e-40], np.float32)[
        np.arange(x[::97].size) % 8]
    return x


def test_no_grad_forward_keeps_no_cdf_and_equals_the_recorded_one(monkeypatch):
    kept = []
    real = f32.gelu
    monkeypatch.setattr(f32, "gelu", lambda x, keep_cdf=True: kept.append(keep_cdf) or real(x, keep_cdf))
    x = _x(70007).reshape(7, 10001)
    t = cnnlab.tensor(x, requires_grad=True)
    recorded = F.gelu(t)
    with cnnlab.no_grad():
        plain = F.gelu(t)
    assert kept == [True, False] and not plain.requires_grad
    np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy())   # NaN == NaN here
    assert np.array_equal(np.signbit(plain.numpy()), np.signbit(recorded.detach().numpy()))


@pytest.mark.parametrize("threads", [2, 3])
def test_threaded_blocks_equal_one_thread(threads):
    x = _x(f32.GELU_BLOCK * 5 + 123).reshape(-1, 7)   # > THREADED_BYTES: split over the threads
    assert x.nbytes >= f32.THREADED_BYTES
    one, cdf_one = f32.gelu(x)
    parallel.set_num_threads(threads)
    try:
        many, cdf_many = f32.gelu(x)
        plain, none = f32.gelu(x, keep_cdf=False)
    finally:
        parallel.set_num_threads(None)
    assert none is None and many.shape == x.shape
    for a in (many, plain):
        np.testing.assert_array_equal(a, one)
    np.testing.assert_array_equal(cdf_many, cdf_one)
