"""Normalisation ops against PyTorch: outputs, input/weight/bias gradients, running-statistic updates over several
steps, every option, float32, finite differences and the error messages."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, check_float32, gradcheck, rand

BN_SHAPES = [(4, 3), (5, 2, 7), (1, 3, 2), (2, 3, 4, 5), (1, 2, 3, 3), (3, 1, 2, 3), (2, 3, 2, 3, 2)]


def check32(fn, *arrays, grad):
    """check_float32 with a grad mask (running statistics are buffers, not differentiated): float32 copies of the
    inputs, float32 tolerances; check's dtype comparison keeps the outputs float32."""
    arrays = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in arrays]
    return check(fn, *arrays, grad=grad, rtol=1e-4, atol=1e-5)


def _stats(C, seed=0):
    return rand(C, seed=seed + 50, low=-0.5, high=0.5), rand(C, seed=seed + 51, low=0.5, high=2.0)


# ---- batch_norm -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, affine, training):
    C = shape[1]
    x = rand(*shape, seed=len(shape), low=-2, high=3)
    rm, rv = _stats(C)
    w, b = (rand(C, seed=3, low=0.5, high=1.5), rand(C, seed=4)) if affine else (None, None)

    def fn(lib, x, rm, rv, w, b):
        out = lib.F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.2, eps=1e-3)
        return out, rm, rv  # the running statistics after the in-place update

    check(fn, x, rm, rv, w, b, grad=[True, False, False, affine, affine])
    check32(fn, x, rm, rv, w, b, grad=[True, False, False, affine, affine])


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4, 5), (2, 2, 2, 3, 2)])
def test_batch_norm_without_running_stats(shape):
    x, w, b = rand(*shape, seed=5), rand(shape[1], seed=6), rand(shape[1], seed=7)
    check(lambda lib, x, w, b: lib.F.batch_norm(x, None, None, w, b, training=True), x, w, b)
    check_float32(lambda lib, x, w, b: lib.F.batch_norm(x, None, None, w, b, True), x, w, b)


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
def test_batch_norm_running_stats_over_several_steps(momentum):
    C = 3
    rm0, rv0 = _stats(C)
    ours = cnnlab.tensor(rm0.copy()), cnnlab.tensor(rv0.copy())
    theirs = torch.tensor(rm0.copy()), torch.tensor(rv0.copy())
    for step, shape in enumerate([(4, C, 5), (2, C, 3), (7, C, 1), (1, C, 6)]):
        x = rand(*shape, seed=step, low=-1 + step, high=2 + step)
        a = F.batch_norm(cnnlab.tensor(x), *ours, training=True, momentum=momentum)
        t = torch.nn.functional.batch_norm(torch.tensor(x), *theirs, training=True, momentum=momentum)
        np.testing.assert_allclose(a.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)
        for o, p in zip(ours, theirs):
            np.testing.assert_allclose(o.numpy(), p.numpy(), rtol=1e-12, atol=1e-14)
    # evaluation uses (and leaves) the accumulated statistics
    x = rand(3, C, 2, seed=9)
    np.testing.assert_allclose(F.batch_norm(cnnlab.tensor(x), *ours).numpy(),
                               torch.nn.functional.batch_norm(torch.tensor(x), *theirs).numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-12)


def test_batch_norm_float32_buffers_stay_float32_and_in_place():
    rm, rv = cnnlab.zeros(3), cnnlab.ones(3)
    rm_array = rm.numpy()
    out = F.batch_norm(cnnlab.tensor(rand(4, 3, 2, seed=1, dtype=np.float32)), rm, rv, training=True)
    assert out.dtype == cnnlab.float32 and rm.dtype == cnnlab.float32 and rv.dtype == cnnlab.float32
    assert rm.numpy() is rm_array and np.any(rm_array != 0)  # updated in place, same buffer


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    x, w, b = rand(3, 2, 2, 2, seed=1), rand(2, seed=2, low=0.5, high=1.5), rand(2, seed=3)
    rm, rv = _stats(2)
    gradcheck(lambda x, w, b: F.batch_norm(x, cnnlab.tensor(rm.copy()), cnnlab.tensor(rv.copy()), w, b,
                                           training=training), x, w, b)


def test_batch_norm_errors():
    x = cnnlab.tensor(rand(1, 3))
    with pytest.raises(ValueError, match=r"batch_norm: Expected more than 1 value per channel when training. "
                                         r"Got input.shape=\(1, 3\)."):
        F.batch_norm(x, None, None, training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(cnnlab.ones(1, 3, 1, 1), cnnlab.zeros(3), cnnlab.ones(3), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        torch.nn.functional.batch_norm(torch.ones(1, 3, 1, 1), None, None, training=True)
    F.batch_norm(cnnlab.ones(1, 3), cnnlab.zeros(3), cnnlab.ones(3))  # fine in evaluation
    x = cnnlab.tensor(rand(4, 3, 2))
    with pytest.raises(RuntimeError, match=r"batch_norm: running_mean must have one value per channel "
                                           r"\(input.shape\[1\]\) \(3\). Got running_mean.shape=\(4,\), "
                                           r"input.shape=\(4, 3, 2\)."):
        F.batch_norm(x, cnnlab.zeros(4), cnnlab.ones(3), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have one value per channel"):
        F.batch_norm(x, None, None, cnnlab.ones(2), training=True)
    with pytest.raises(RuntimeError, match=r"batch_norm: running_mean and running_var must be given in evaluation "
                                           r"mode \(training=False\). Got running_mean=None, running_var=None."):
        F.batch_norm(x, None, None)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        torch.nn.functional.batch_norm(torch.ones(4, 3), None, None)
    with pytest.raises(TypeError, match=r"batch_norm: momentum must be a number. \(momentum=None"):
        F.batch_norm(x, cnnlab.zeros(3), cnnlab.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match=r"batch_norm: expects an input of at least 2 dims \(N, C, \*\). "
                                         r"Got input.shape=\(3,\)."):
        F.batch_norm(cnnlab.ones(3), None, None, training=True)
    with pytest.raises(TypeError, match="batch_norm: input must be a floating-point tensor"):
        F.batch_norm(cnnlab.tensor([[1, 2], [3, 4]]), None, None, training=True)


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_several_cache_blocks(training, affine, threaded, monkeypatch):
    """The kernels walk the batch in blocks of whole samples: a small block size makes them use several
    (and a last, shorter one), in float64 and float32, with weight and bias gradients; threaded: the blocks
    on three threads, and the per-channel constants as (C, 1) columns instead of (C, L) planes."""
    from cnnlab.kernels import batchnorm as kb, parallel
    monkeypatch.setattr(kb, "BLOCK_BYTES", 3 * 4 * 5 * 6 * 8 * 2)  # two float64 samples per block
    if threaded:
        monkeypatch.setattr(kb, "THREADED_BYTES", 0)
        monkeypatch.setattr(kb, "AFFINE_THREADED_BYTES", 0)
        monkeypatch.setattr(kb, "THREADED_BLOCK_BYTES", kb.BLOCK_BYTES)
        monkeypatch.setattr(kb, "PLANE_MAX_L", 2)
        monkeypatch.setattr(parallel, "_threads", 3)
    shape = (7, 4, 5, 6)
    x = rand(*shape, seed=21, low=-2, high=3)
    rm, rv = _stats(4, seed=2)
    w, b = (rand(4, seed=22, low=0.5, high=1.5), rand(4, seed=23)) if affine else (None, None)

    def fn(lib, x, rm, rv, w, b):
        return lib.F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.3), rm, rv

    check(fn, x, rm, rv, w, b, grad=[True, False, False, affine, affine])
    check32(fn, x, rm, rv, w, b, grad=[True, False, False, affine, affine])


def test_batch_norm_data_far_from_zero_float32():
    """Two-pass statistics and x - mean before scaling: a mean 1000 standard deviations from zero neither
    swamps the variance (E[x^2] - E[x]^2) nor the output (x * scale - mean * scale loses ~2e-4 here). The
    tolerance is the float32 spacing of the data (6e-5 at 1000) over its standard deviation (0.58)."""
    x = (rand(8, 3, 6, 6, seed=31, low=-1, high=1) + 1000.0).astype(np.float32)
    for training in (True, False):
        rm, rv = np.full(3, 1000.0, np.float32), np.full(3, 0.3, np.float32)
        check(lambda lib, x, rm, rv: lib.F.batch_norm(x, rm, rv, training=training), x, rm, rv,
              grad=[True, False, False], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("offset,folded", [(0.0, True), (5.0, True), (1000.0, False)])
def test_batch_norm_folds_the_mean_only_near_zero(monkeypatch, offset, folded):
    """normalize() folds the mean into the shift (x * a + b: one pass fewer, PyTorch's CPU form) only where
    |mean| / std <= FOLD_MAX_RATIO (here std 0.58: offsets 0 and 5 fold, 1000 does not); either way the float32
    result stays within 2e-6 of float64, relative to its largest value, plus (far from zero) the float32
    spacing of the data there, scaled."""
    from cnnlab.kernels import batchnorm
    calls = []
    real = batchnorm.affine
    monkeypatch.setattr(batchnorm, "affine", lambda *a, center=None: calls.append(center is None) or
                        real(*a, center=center))
    x = (rand(4, 3, 50, seed=33, low=-1, high=1) + offset).astype(np.float32)
    mean, invstd = x.astype(np.float64).mean(axis=(0, 2)), 1 / x.astype(np.float64).std(axis=(0, 2))
    w, b = np.array([0.5, 1.0, 2.0], np.float32), np.array([0.1, -0.2, 0.3], np.float32)
    got = batchnorm.normalize(x, mean, invstd, w, b)
    want = (x - mean[:, None]) * (invstd * w)[:, None] + b[:, None]
    assert calls == [folded] and got.dtype == np.float32
    spacing = 0.0 if folded else float(np.spacing(np.float32(offset))) * float((invstd * w).max())
    assert np.abs(got - want).max() <= 2e-6 * np.abs(want).max() + spacing


def test_batch_norm_statistics_when_the_first_sample_is_far_from_the_rest():
    """The one-pass statistics subtract the first sample's mean; a first sample 40 standard deviations away from
    the others (far from zero, float32) still gives the batch's mean and variance (and output) within the
    float32 spacing of the data."""
    x = (rand(6, 3, 5, 5, seed=32, low=-1, high=1) + 500.0).astype(np.float32)
    x[0] += 40.0
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    check(lambda lib, x, rm, rv: (lib.F.batch_norm(x, rm, rv, training=True, momentum=1.0), rm, rv), x, rm, rv,
          grad=[True, False, False], rtol=1e-4, atol=1e-4)


def test_batch_norm_empty_channels_in_evaluation():
    """Zero channels (PyTorch raises an IndexError from inside): an empty output and empty gradients."""
    x = cnnlab.tensor(rand(2, 0, 3, seed=44), requires_grad=True)
    w, b = cnnlab.ones(0, requires_grad=True), cnnlab.zeros(0, requires_grad=True)
    y = F.batch_norm(x, cnnlab.zeros(0), cnnlab.ones(0), w, b)
    assert y.shape == (2, 0, 3)
    y.sum().backward()
    assert x.grad.shape == (2, 0, 3) and w.grad.shape == (0,) and b.grad.shape == (0,)


def test_batch_norm_noncontiguous_input_parameter_only_grads_and_no_grad():
    x = rand(3, 5, 4, 2, seed=41).transpose(0, 3, 2, 1)  # (3, 2, 4, 5), not contiguous
    w, b = rand(2, seed=42), rand(2, seed=43)
    check(lambda lib, x, w, b: lib.F.batch_norm(x, None, None, w, b, training=True), x, w, b,
          grad=[False, True, True])
    rm, rv = _stats(2)
    check(lambda lib, x, rm, rv, w, b: lib.F.batch_norm(x, rm, rv, w, b), x, rm, rv, w, b,
          grad=[False, False, False, True, False])
    xt = cnnlab.tensor(x, requires_grad=True)
    with cnnlab.no_grad():
        y = F.batch_norm(xt, None, None, cnnlab.tensor(w, requires_grad=True), training=True)
    assert not y.requires_grad and y.grad_fn is None
    want = torch.nn.functional.batch_norm(torch.tensor(x), None, None, torch.tensor(w), training=True)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


# ---- instance_norm ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 3, 4), (3, 2, 2, 2, 3)])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("running", [False, True])
def test_instance_norm_matches_torch(shape, affine, running):
    C = shape[1]
    x = rand(*shape, seed=2, low=-1, high=2)
    rm, rv = _stats(C) if running else (None, None)
    w, b = (rand(C, seed=3), rand(C, seed=4)) if affine else (None, None)

    def fn(lib, x, rm, rv, w, b):
        out = lib.F.instance_norm(x, rm, rv, w, b, momentum=0.3, eps=1e-4)
        return (out, rm, rv) if running else out

    check(fn, x, rm, rv, w, b, grad=[True, False, False, affine, affine])


def test_instance_norm_running_stats_in_evaluation():
    x, w, b = rand(2, 3, 4, seed=1), rand(3, seed=2), rand(3, seed=3)
    rm, rv = _stats(3)
    check(lambda lib, x, rm, rv, w, b: lib.F.instance_norm(x, rm, rv, w, b, use_input_stats=False),
          x, rm, rv, w, b, grad=[True, False, False, True, True])


def test_instance_norm_gradcheck_float32_and_errors():
    gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), rand(2, 2, 3, seed=1), rand(2, seed=2),
              rand(2, seed=3))
    check_float32(lambda lib, x: lib.F.instance_norm(x), rand(2, 3, 4, 4, seed=4))
    with pytest.raises(ValueError, match=r"instance_norm: Expected more than 1 spatial element when training. "
                                         r"Got input.shape=\(2, 3, 1\)."):
        F.instance_norm(cnnlab.ones(2, 3, 1))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        torch.nn.functional.instance_norm(torch.ones(2, 3, 1))


# ---- layer_norm ---------------------------------------------------------------------------------------------
LN_CASES = [((4, 5), 5), ((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 3, 4, 5), (4, 5)), ((1, 7), [7]),
            ((2, 3, 2, 2), (3, 2, 2)), ((6,), (6,)), ((3, 1), (1,))]


@pytest.mark.parametrize("shape,normalized_shape", LN_CASES)
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_layer_norm_matches_torch(shape, normalized_shape, affine):
    pshape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x = rand(*shape, seed=1, low=-2, high=2)
    w = rand(*pshape, seed=2, low=0.5, high=1.5) if affine != "none" else None
    b = rand(*pshape, seed=3) if affine == "both" else None
    ours = lambda lib, x, w, b: lib.F.layer_norm(x, normalized_shape, w, b, eps=1e-4)  # noqa: E731
    theirs = lambda lib, x, w, b: lib.F.layer_norm(x, pshape, w, b, eps=1e-4)  # noqa: E731  (torch: no bare int)
    check(ours, x, w, b, torch_fn=theirs)
    # float32: PyTorch's gradient for a single normalised element is rounding noise (~1e-5) instead of 0
    check_float32(ours, x, w, b, torch_fn=theirs, atol=1e-4)


def test_layer_norm_gradcheck_and_errors():
    gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), rand(2, 2, 3, seed=1), rand(2, 3, seed=2),
              rand(2, 3, seed=3))
    x = cnnlab.tensor(rand(2, 3))
    with pytest.raises(RuntimeError, match=r"layer_norm: the last dims of input must equal normalized_shape. Got "
                                           r"normalized_shape=\(4,\), input.shape=\(2, 3\)."):
        F.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match="expected input with shape"):
        torch.nn.functional.layer_norm(torch.ones(2, 3), (4,))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape normalized_shape. Got "
                                         r"weight.shape=\(2,\), normalized_shape=\(3,\)."):
        F.layer_norm(x, 3, cnnlab.ones(2, dtype=cnnlab.float64))


# ---- group_norm ---------------------------------------------------------------------------------------------
GN_CASES = [((2, 6), 3), ((2, 6, 5), 2), ((1, 4, 3, 3), 4), ((2, 4, 3, 3), 1), ((3, 6, 2, 3), 3),
            ((2, 4, 2, 2, 3), 2), ((1, 3, 5), 3)]


@pytest.mark.parametrize("shape,groups", GN_CASES)
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm_matches_torch(shape, groups, affine):
    C = shape[1]
    x = rand(*shape, seed=4, low=-1, high=3)
    w, b = (rand(C, seed=5, low=0.5, high=1.5), rand(C, seed=6)) if affine else (None, None)
    check(lambda lib, x, w, b: lib.F.group_norm(x, groups, w, b, eps=1e-3), x, w, b)
    check_float32(lambda lib, x, w, b: lib.F.group_norm(x, groups, w, b), x, w, b)


def test_group_norm_gradcheck_and_errors():
    gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), rand(2, 4, 3, seed=1), rand(4, seed=2), rand(4, seed=3))
    with pytest.raises(RuntimeError, match=r"group_norm: the number of channels \(input.shape\[1\]\) must be divisible "
                                           r"by num_groups. Got input.shape=\(2, 6, 3\), num_groups=4."):
        F.group_norm(cnnlab.ones(2, 6, 3), 4)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        torch.nn.functional.group_norm(torch.ones(2, 6, 3), 4)
    with pytest.raises(ValueError, match=r"group_norm: bias must have one value per channel"):
        F.group_norm(cnnlab.ones(2, 6, 3), 3, cnnlab.ones(6), cnnlab.ones(3))


# ---- local_response_norm -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 7, 3), (1, 5, 3, 4), (2, 6, 2, 2, 3), (3, 1, 4)])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_local_response_norm_matches_torch(shape, size):
    x = rand(*shape, seed=size, low=-3, high=3)
    check(lambda lib, x: lib.F.local_response_norm(x, size), x)
    check(lambda lib, x: lib.F.local_response_norm(x, size, alpha=0.5, beta=1.3, k=2.0), x)
    check_float32(lambda lib, x: lib.F.local_response_norm(x, size, alpha=0.1), x)


def test_local_response_norm_alexnet_settings_gradcheck_and_errors():
    x = rand(2, 8, 3, 3, seed=1, low=-5, high=5)
    check(lambda lib, x: lib.F.local_response_norm(x, size=5, alpha=1e-4, beta=0.75, k=2.0), x)
    gradcheck(lambda t: F.local_response_norm(t, 3, alpha=0.3, beta=0.75, k=1.0), rand(2, 4, 3, seed=2))
    gradcheck(lambda t: F.local_response_norm(t, 4, alpha=0.5, beta=1.5, k=0.5), rand(1, 5, 2, 2, seed=3))
    with pytest.raises(ValueError, match=r"local_response_norm: Expected 3D or higher dimensionality input "
                                         r"\(N, C, \*\). Got input.shape=\(2, 3\)."):
        F.local_response_norm(cnnlab.ones(2, 3), 2)
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality"):
        torch.nn.functional.local_response_norm(torch.ones(2, 3), 2)
    with pytest.raises(ValueError, match=r"local_response_norm: size must be a positive int. Got size=0."):
        F.local_response_norm(cnnlab.ones(2, 3, 4), 0)


# ---- normalize ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dim", [((4, 5), 1), ((4, 5), 0), ((2, 3, 4), -1), ((2, 3, 4, 2), 1), ((6,), 0),
                                       ((1, 3), 1)])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
def test_normalize_matches_torch(shape, dim, p):
    x = rand(*shape, seed=2, low=-2, high=2)
    check(lambda lib, x: lib.F.normalize(x, p=p, dim=dim), x)
    check_float32(lambda lib, x: lib.F.normalize(x, p, dim), x)


def test_normalize_eps_floor_zero_rows_and_gradcheck():
    x = rand(3, 4, seed=3)
    x[1] = 0.0
    x[2] *= 1e-13  # norm below eps: the denominator is eps and the gradient is g / eps
    # second order: PyTorch's is NaN on the all-zero row, cnnlab's finite (tests/test_double_norm.py checks it)
    check(lambda lib, x: lib.F.normalize(x, eps=1e-12), x, rtol=1e-6, second_order=False)
    check(lambda lib, x: lib.F.normalize(x, p=1.0, dim=0, eps=0.5), rand(3, 4, seed=4, low=-0.2, high=0.2))
    gradcheck(lambda t: F.normalize(t, p=3.0), rand(2, 3, seed=5))
    gradcheck(lambda t: F.normalize(t, dim=0), rand(2, 3, seed=6))


def test_normalize_out_and_errors():
    out = cnnlab.zeros(1, 2)
    res = F.normalize(cnnlab.tensor([[3.0, 4.0]]), out=out)
    assert res is out
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8]], rtol=1e-6)
    # p <= 0 is accepted as torch accepts it (issue 19): tests/test_fidelity_accept.py compares it with torch
    with pytest.raises(IndexError, match=r"normalize: dim must be in \[-1, 0\]"):
        F.normalize(cnnlab.ones(3))
