"""kernels/pool.py at the array level: the backward's plan (taps that assign their stride-phase plane, planes
that start from zero) and the phase buffers reused across cache blocks, against a plain scatter-add of the
argmax (np.add.at in the test, an independent reference) and against PyTorch with several blocks per call."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.kernels import pool as K
from oracle import check, rand

# (spatial, kernel, stride, padding per dim (before, after), dilation)
GEOMETRIES = [
    ((13, 12), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),   # ResNet's stem pool: overlapping windows
    ((12, 12), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),   # LeNet's: tiled (kernel == stride)
    ((11, 10), (1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),   # one phase of four: the rest stays zero
    ((10, 11), (3, 2), (3, 2), ((1, 0), (1, 1)), (1, 1)),   # padding: covering taps differ per plane
    ((12, 13), (3, 3), (2, 3), ((2, 2), (0, 0)), (2, 1)),   # dilation
    ((15,), (4,), (3,), ((2, 2),), (1,)),
    ((6, 7, 5), (3, 2, 2), (2, 2, 1), ((1, 1), (0, 0), (1, 1)), (1, 1, 1)),
    ((13, 11), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),   # tiled, floor mode: the last row and column get 0
    ((4, 9, 5), (2, 3, 2), (2, 3, 2), ((0, 0),) * 3, (1, 1, 1)),  # tiled 3-d, unequal kernel sizes
    ((7,), (3,), (3,), ((0, 0),), (1,)),                    # tiled 1-d
    ((9, 9), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),     # stride 1: no phases
]


def _windows(spatial, kernel, stride, padding, dilation):
    out = tuple((s + p[0] + p[1] - d * (k - 1) - 1) // st + 1
                for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation))
    return K.Windows(spatial, kernel, stride, padding, dilation, out)


def _scatter_reference(g, arg, win):
    """The gradient by definition: each output adds its gradient at its argmax (flat spatial index)."""
    lead = g.shape[:g.ndim - len(win.out)]
    P = int(np.prod(win.spatial))
    flat = win.flat_indices(arg).reshape(-1, int(np.prod(win.out)))
    gf = g.reshape(flat.shape)
    grad = np.zeros((flat.shape[0], P), g.dtype)
    for i in range(flat.shape[0]):
        np.add.at(grad[i], flat[i], gf[i])
    return grad.reshape(lead + win.spatial)


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("block_bytes", [1 << 20, 300])
def test_extreme_backward_matches_scatter_add(geometry, block_bytes, monkeypatch):
    monkeypatch.setattr(K, "BLOCK_BYTES", block_bytes)  # 300 bytes: one plane per block, the last one short
    win = _windows(*geometry)
    x = rand(5, 3, *win.spatial, seed=1)
    x[0, 0].flat[::3] = 0.25  # ties: the first tap in window order wins
    out, arg = K.extreme_forward(x, win)
    g = rand(*out.shape, seed=2)
    want = _scatter_reference(g, arg, win)
    np.testing.assert_allclose(K.extreme_backward(g, arg, win, x.shape), want, rtol=1e-13, atol=1e-15)
    g32 = g.astype(np.float32)
    got32 = K.extreme_backward(g32, arg, win, x.shape)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, _scatter_reference(g32, arg, win), rtol=1e-6, atol=1e-7)
    g[0, 1].flat[0] = np.inf  # the non-finite path: an inf reaches only its own argmax
    want = _scatter_reference(g, arg, win)
    got = K.extreme_backward(g, arg, win, x.shape)
    assert np.array_equal(np.isinf(got), np.isinf(want)) and not np.isnan(got).any()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_backward_plan_assigns_each_covering_plane_once_and_zeroes_the_rest():
    win = _windows(*GEOMETRIES[0])
    order, zeroed, every = K._backward_plan(win, (1, 13, 12))
    assert win.backward_plan() == (order, zeroed, every) and win.backward_plan() is win.backward_plan()  # made once
    assigning = [tap for tap, a in order if a]
    assert len(assigning) == 4 and len({t.phase for t in assigning}) == 4 and not zeroed and every
    assert order[:4] == [(t, True) for t in assigning] and len(order) == 9
    _, zeroed, every = K._backward_plan(_windows(*GEOMETRIES[2]), (1, 11, 10))
    assert not every and not zeroed  # kernel 1, stride 2: one plane, assigned; the gradient array is zeroed
    order, zeroed, every = K._backward_plan(_windows(*GEOMETRIES[-1]), (1, 9, 9))
    assert not any(a for _, a in order) and not zeroed and not every


@pytest.mark.parametrize("k,s,p", [(3, 2, 1), (2, 2, 0), (3, 3, 1)])
def test_pools_with_several_blocks_match_torch(k, s, p, monkeypatch):
    """Forward (phase planes copied into reused buffers), indices and gradients over several cache blocks,
    max and avg pooling."""
    monkeypatch.setattr(K, "BLOCK_BYTES", 2 * 15 * 14 * 8)  # two planes per block, 3 * 4 = 12 planes
    x = rand(3, 4, 15, 14, seed=3)
    check(lambda lib, x: lib.F.max_pool2d(x, k, s, p, return_indices=True), x)
    check(lambda lib, x: lib.F.avg_pool2d(x, k, s, p), x)
    xt = cnnlab.tensor(x.astype(np.float32), requires_grad=True)
    y = F.max_pool2d(xt, k, s, p)
    y.sum().backward()
    tx = torch.tensor(x.astype(np.float32), requires_grad=True)
    torch.nn.functional.max_pool2d(tx, k, s, p).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("k,s,p", [(3, 2, 1), (2, 2, 0), (3, 1, 1)])
def test_pools_on_two_threads_match_torch(k, s, p, monkeypatch):
    """Max pooling's blocks (forward, indices, the phase-plane backward) and the tiled backward's plane ranges
    spread over two kernel threads, each with its own scratch: values, indices (ties, a NaN) and gradients."""
    from cnnlab.kernels import parallel
    monkeypatch.setattr(parallel, "_threads", 2)
    monkeypatch.setattr(K, "THREADED_BYTES", 0)
    monkeypatch.setattr(K, "BLOCK_BYTES", 2 * 15 * 14 * 8)  # two planes per block, 12 planes
    x = rand(3, 4, 15, 14, seed=4)
    x[1, 2].flat[::4] = 0.5     # ties: the first tap in window order wins
    x[2, 3, 5, 6] = np.nan      # a NaN block takes the scan
    check(lambda lib, x: lib.F.max_pool2d(x, k, s, p, return_indices=True), x)
    g = rand(3, 4, *F.max_pool2d(cnnlab.tensor(x), k, s, p).shape[2:], seed=5)
    g[0, 1].flat[0] = np.inf    # the non-finite backward path
    xt, tx = cnnlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, k, s, p).backward(cnnlab.tensor(g))
    torch.nn.functional.max_pool2d(tx, k, s, p).backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-13, atol=1e-15)  # overlaps: sum order
