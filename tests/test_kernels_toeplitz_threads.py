"""The 'toeplitz' convolution runs on one thread with BLAS held there, like the other algorithms, on a batch of
at least as many images as threads (its matmuls gained nothing on BLAS's own threads and paid their wake-ups)."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.kernels import blas, parallel, select, toeplitz


def test_blas_held_at_one_thread_on_a_batch(monkeypatch):
    fns = blas.thread_functions()
    if not fns:
        pytest.skip("no OpenBLAS whose thread count can be set")
    get, _ = fns
    seen = []
    rows = toeplitz._rows

    def watched(*args, **kwargs):
        seen.append(get())
        return rows(*args, **kwargs)
    monkeypatch.setattr(toeplitz, "_rows", watched)
    monkeypatch.setattr(parallel, "_threads", 2)
    before = get()
    parallel.set_blas_threads(2)
    try:
        x = cnnlab.from_numpy(np.random.default_rng(0).standard_normal((4, 1, 12, 12)))
        w = cnnlab.from_numpy(np.random.default_rng(1).standard_normal((6, 1, 5, 5)))
        with select.forced("toeplitz"):
            F.conv2d(x, w, padding=2)
        assert get() == 2          # restored after the call
    finally:
        parallel.set_blas_threads(before)
    assert seen == [1]
