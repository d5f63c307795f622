"""The GEMM lowering's forward writes a one-image block on the output grid (strided, one group) straight into the
output's rows (kernels/gemm.py `direct`): against PyTorch in float64 with the image split into row blocks, on one
and two threads, the path asserted; flat (stride-1) and grouped blocks keep the scratch buffer."""
import numpy as np
import pytest

from cnnlab.kernels import gemm, parallel
from cnnlab.kernels.geometry import ConvGeometry

torch = pytest.importorskip("torch")


@pytest.fixture
def targets(monkeypatch):
    """For every parallel.matmul call the lowering makes: whether it wrote into a 4-d array's memory (the output)."""
    seen = []
    real = gemm.parallel.matmul

    def spy(a, b, out, beta=0.0):
        seen.append(out.base is not None and out.base.ndim == 4)
        return real(a, b, out, beta)

    monkeypatch.setattr(gemm.parallel, "matmul", spy)
    return seen


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("xs,ws,stride,pad,groups,direct", [
    ((3, 3, 30, 28), (8, 3, 7, 7), 2, 3, 1, True),      # the stem's geometry, smaller
    ((2, 16, 17, 15), (12, 16, 3, 3), 2, 1, 1, True),   # a strided 3x3 (a weight above gemm.TINY entries)
    ((2, 16, 9, 9), (12, 16, 3, 3), 1, 1, 1, False),    # stride 1: the flat grid has wrap columns
    ((2, 6, 17, 15), (6, 3, 3, 3), 2, 1, 2, False),     # grouped: one batched matmul
])
def test_direct_blocks_match_torch(xs, ws, stride, pad, groups, direct, threads, targets, monkeypatch):
    monkeypatch.setattr(gemm, "COLUMN_BYTES", 4096)      # a few output rows per block
    monkeypatch.setattr(gemm, "MIN_POSITIONS", 16)
    monkeypatch.setattr(gemm, "SMALL_BYTES", 0)          # blocks on the threads
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    geom = ConvGeometry.of(xs, ws, (stride,) * 2, ((pad, pad),) * 2, (1, 1), groups)
    parallel.set_num_threads(threads)
    try:
        out = gemm.forward(x, w, geom)
    finally:
        parallel.set_num_threads(None)
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, stride, pad, 1, groups).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    if groups == 1:
        assert len(targets) > xs[0] and all(t == direct for t in targets)
