"""Pooling against PyTorch (values, indices, gradients), against plain loops where PyTorch has no such op,
finite differences, float32, and the error messages."""
import itertools
import math

import numpy as np
import pytest
import torch
from oracle import check, check_float32, gradcheck, rand

import cnnlab
import cnnlab.nn.functional as F

SHAPES = {1: (2, 3, 11), 2: (2, 3, 9, 8), 3: (1, 2, 6, 7, 5)}


def _valid(size, k, s, p, d, ceil_mode):
    """PyTorch accepts the combination (padding at most half the kernel, at least one output)."""
    if p > k // 2:
        return False
    span = size + 2 * p - d * (k - 1) - 1
    if span < 0:
        return False
    return True


def _grid(n, dilations=(1, 2, 3)):
    cases = []
    for k, s, d, ceil_mode in itertools.product((1, 2, 3, 4), (None, 1, 2, 3), dilations, (False, True)):
        for p in range(k // 2 + 1):
            if _valid(min(SHAPES[n][2:]), k, s or k, p, d, ceil_mode):
                cases.append((k, s, p, d, ceil_mode))
    return cases


# ---- max pooling: values, indices and gradients against PyTorch --------------------------------------------

@pytest.mark.parametrize("k,s,p,d,ceil_mode", _grid(2))
def test_max_pool2d_matches_torch(k, s, p, d, ceil_mode):
    check(lambda lib, x: lib.F.max_pool2d(x, k, s, p, d, ceil_mode, return_indices=True), rand(*SHAPES[2]))


@pytest.mark.parametrize("k,s,p,d,ceil_mode", _grid(1, (1, 3)))
def test_max_pool1d_matches_torch(k, s, p, d, ceil_mode):
    check(lambda lib, x: lib.F.max_pool1d(x, k, s, p, d, ceil_mode, return_indices=True), rand(*SHAPES[1], seed=1))


@pytest.mark.parametrize("k,s,p,d,ceil_mode", [(2, None, 0, 1, False), (3, 2, 1, 1, True), (2, 1, 1, 2, False),
                                               ((3, 2, 2), (2, 1, 2), (1, 0, 1), (1, 2, 1), True)])
def test_max_pool3d_matches_torch(k, s, p, d, ceil_mode):
    check(lambda lib, x: lib.F.max_pool3d(x, k, s, p, d, ceil_mode, return_indices=True), rand(*SHAPES[3], seed=2))


@pytest.mark.parametrize("shape", [(3, 9, 8), (1, 1, 5, 5), (1, 4, 2, 7)])
def test_max_pool2d_unbatched_batch1_and_tuple_args(shape):
    check(lambda lib, x: lib.F.max_pool2d(x, (2, 3), (1, 2), (1, 1), return_indices=True), rand(*shape, seed=3))
    check(lambda lib, x: lib.F.max_pool1d(x, 2, return_indices=True), rand(*shape[-2:], seed=4))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the oracle's loss sums +inf and -inf
def test_max_pool_ties_nan_and_infinities_match_torch():
    x = np.round(rand(2, 2, 8, 9, seed=5) * 2)  # many ties
    check(lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1, return_indices=True), x)
    check(lambda lib, x: lib.F.max_pool2d(x, 2, 1, dilation=2, return_indices=True), x)
    y = rand(2, 2, 8, 9, seed=6)
    y[0, 0, 1, 2] = y[0, 0, 2, 2] = y[1, 1, 5, 5] = np.nan
    y[0, 1, :4, :4] = -np.inf
    y[1, 0, 2:5, 2:5] = np.inf
    check(lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1, return_indices=True), y, grad=[False])
    check(lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1), np.where(np.isnan(y), 0.5, y))


def test_max_pool_window_wholly_in_padding_matches_torch():
    # kernel 2, dilation 2, padding 1 on a 1x1 input: the only window's taps are both in the padding
    check(lambda lib, x: lib.F.max_pool2d(x, 2, dilation=2, padding=1, return_indices=True),
          np.ones((1, 1, 1, 1)), grad=[False])


def test_max_pool_integer_input_matches_torch():
    x = np.random.default_rng(7).integers(-50, 50, (2, 3, 7, 6))
    check(lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1, return_indices=True), x)


def test_max_pool_keeps_float32_and_gradcheck():
    check_float32(lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1, ceil_mode=True), rand(2, 3, 10, 9, seed=8))
    gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, dilation=1), rand(1, 2, 5, 6, seed=9))
    gradcheck(lambda x: F.max_pool1d(x, 2, 1, dilation=2), rand(2, 7, seed=10))


# ---- min pooling: the identity min_pool(x) == -max_pool(-x) ---------------------------------------------------

@pytest.mark.parametrize("n,args", [(1, (3, 2, 1, 1, True)), (2, (3, 2, 1, 2, False)), (2, (2, 1, 0, 1, False)),
                                    (3, (2, 1, 1, 1, True))])
def test_min_pool_is_negated_max_pool_of_negation(n, args):
    x = np.round(rand(*SHAPES[n], seed=11) * 3)  # ties, so the index rule is exercised
    x.flat[::7] = np.nan
    g = np.random.default_rng(12).standard_normal(1)
    minp, maxp = getattr(F, f"min_pool{n}d"), getattr(F, f"max_pool{n}d")
    a = cnnlab.tensor(x, requires_grad=True)
    b = cnnlab.tensor(x, requires_grad=True)
    va, ia = minp(a, *args, return_indices=True)
    vb, ib = maxp(-b, *args, return_indices=True)
    np.testing.assert_array_equal(va.detach().numpy(), -vb.detach().numpy())
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    g = np.random.default_rng(13).standard_normal(va.shape)
    (va * cnnlab.tensor(g)).sum().backward()
    (-vb * cnnlab.tensor(g)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_min_pool_gradcheck():
    gradcheck(lambda x: F.min_pool2d(x, 2, 1, 1), rand(1, 2, 4, 5, seed=14))


# ---- average pooling -----------------------------------------------------------------------------------------

AVG_CASES = [(k, s, p, c, cip) for k, s, c, cip in itertools.product((1, 2, 3, 4), (None, 1, 2, 3), (False, True),
                                                                     (True, False)) for p in range(k // 2 + 1)]


@pytest.mark.parametrize("k,s,p,ceil_mode,cip", AVG_CASES)
def test_avg_pool2d_matches_torch(k, s, p, ceil_mode, cip):
    check(lambda lib, x: lib.F.avg_pool2d(x, k, s, p, ceil_mode, cip), rand(*SHAPES[2], seed=15))


@pytest.mark.parametrize("k,s,p,ceil_mode,cip", AVG_CASES[::3])
def test_avg_pool1d_matches_torch(k, s, p, ceil_mode, cip):
    check(lambda lib, x: lib.F.avg_pool1d(x, k, s, p, ceil_mode, cip), rand(*SHAPES[1], seed=16))


@pytest.mark.parametrize("args", [(2,), (3, 2, 1, True, False), ((3, 2, 2), (2, 1, 3), (1, 1, 0), True, True),
                                  (2, 1, 1, False, True, 5)])
def test_avg_pool3d_matches_torch(args):
    check(lambda lib, x: lib.F.avg_pool3d(x, *args), rand(*SHAPES[3], seed=17))


@pytest.mark.parametrize("divisor", [1, 3, -2, 7])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_avg_pool2d_divisor_override_matches_torch(divisor, ceil_mode):
    check(lambda lib, x: lib.F.avg_pool2d(x, 3, 2, 1, ceil_mode, divisor_override=divisor), rand(2, 2, 8, 7, seed=18))


@pytest.mark.parametrize("size,k,s,p", [(5, 2, 2, 1), (6, 3, 2, 1), (7, 3, 3, 1), (8, 4, 3, 2), (4, 3, 2, 0),
                                        (9, 2, 3, 0), (6, 4, 3, 1)])
@pytest.mark.parametrize("cip", [True, False])
def test_ceil_mode_edges_match_torch(size, k, s, p, cip):
    # sizes where the last ceil_mode window starts in the right padding (dropped) or in the input (clipped)
    x = rand(1, 2, size, size + 1, seed=19)
    check(lambda lib, x: lib.F.avg_pool2d(x, k, s, p, True, cip), x)
    check(lambda lib, x: lib.F.max_pool2d(x, k, s, p, ceil_mode=True, return_indices=True), x)
    check(lambda lib, x: lib.F.lp_pool1d(x[0], 2, k, s, True), np.abs(x) + 0.1)


def test_avg_pool_unbatched_float32_and_gradcheck():
    check(lambda lib, x: lib.F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), rand(3, 7, 6, seed=20))
    check_float32(lambda lib, x: lib.F.avg_pool2d(x, 3, 2, 1, True), rand(2, 3, 10, 9, seed=21))
    gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), rand(1, 2, 5, 6, seed=22))
    gradcheck(lambda x: F.avg_pool1d(x, 3, 1, 1, dilation=2, count_include_pad=False), rand(2, 7, seed=23))


# ---- power-average pooling ------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [1, 2, 3, 1.5, float("inf"), float("-inf")])
@pytest.mark.parametrize("n,k,s,ceil_mode", [(1, 3, 2, True), (2, 2, None, False), (2, (3, 2), 2, True),
                                             (3, 2, 1, False)])
def test_lp_pool_matches_torch(p, n, k, s, ceil_mode):
    x = rand(*SHAPES[n], seed=24, low=0.1, high=1.0)
    check(lambda lib, x: getattr(lib.F, f"lp_pool{n}d")(x, p, k, s, ceil_mode), x)


def test_lp_pool_signed_input_float32_and_gradcheck():
    check(lambda lib, x: lib.F.lp_pool2d(x, 2, 3, 2), rand(2, 3, 7, 8, seed=25))
    check(lambda lib, x: lib.F.lp_pool2d(x, 3, 2), rand(2, 3, 7, 8, seed=26))  # negative sums: NaN as torch
    check_float32(lambda lib, x: lib.F.lp_pool2d(x, 2, 2, 1, True), rand(2, 3, 7, 8, seed=27))
    gradcheck(lambda x: F.lp_pool2d(x, 2, 2, 1), rand(1, 2, 4, 5, seed=28, low=0.2))
    gradcheck(lambda x: F.lp_pool1d(x, 3, 3, 2, padding=1, dilation=2), rand(2, 9, seed=29, low=0.2))


# ---- dilation and padding on avg/lp pooling (beyond PyTorch): a plain loop -------------------------------------

def _avg_loop(x, k, s, pads, d, ceil_mode, count_include_pad):
    """Average of each dilated window's taps, one output at a time; pads are (before, after) per dim."""
    n = x.ndim - 2
    spatial = x.shape[2:]
    outs = []
    for size, kk, ss, (pb, pa), dd in zip(spatial, k, s, pads, d):
        span = size + pb + pa - dd * (kk - 1) - 1
        o = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (o - 1) * ss >= size + pb:
            o -= 1
        outs.append(o)
    y = np.zeros(x.shape[:2] + tuple(outs))
    for b, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for pos in itertools.product(*(range(o) for o in outs)):
            total, count = 0.0, 0
            for taps in itertools.product(*(range(kk) for kk in k)):
                idx = [p * ss - pb + t * dd for p, ss, (pb, _), t, dd in zip(pos, s, pads, taps, d)]
                inside = all(0 <= i < size for i, size in zip(idx, spatial))
                in_padded = all(-pb <= i < size + pa for i, size, (pb, pa) in zip(idx, spatial, pads))
                if inside:
                    total += x[(b, c) + tuple(idx)]
                count += inside or (count_include_pad and in_padded)
            y[(b, c) + pos] = total / max(count, 1)
    assert n == len(outs)
    return y


@pytest.mark.parametrize("n,k,s,p,d,ceil_mode,cip", [
    (1, 3, 1, 1, 2, False, True), (1, 2, 2, 1, 3, True, False), (2, 3, 2, 1, 2, True, True),
    (2, 2, 1, 1, (1, 3), False, False), (2, 3, 1, 2, 2, True, False), (3, 2, 1, 1, 2, False, True)])
def test_dilated_avg_and_lp_pool_match_a_loop(n, k, s, p, d, ceil_mode, cip):
    x = rand(*SHAPES[n], seed=30, low=0.1)
    tup = lambda v: (v,) * n if isinstance(v, int) else v  # noqa: E731
    pads = tuple((q, q) for q in tup(p))
    ref = _avg_loop(x, tup(k), tup(s), pads, tup(d), ceil_mode, cip)
    got = getattr(F, f"avg_pool{n}d")(cnnlab.tensor(x), k, s, p, ceil_mode, cip, dilation=d)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12)
    # lp_pool: (taps * avg of x^p with count_include_pad)^(1/p)
    ref_lp = (_avg_loop(x ** 2, tup(k), tup(s), pads, tup(d), ceil_mode, True) * math.prod(tup(k))) ** 0.5
    got_lp = getattr(F, f"lp_pool{n}d")(cnnlab.tensor(x), 2, k, s, ceil_mode, padding=p, dilation=d)
    np.testing.assert_allclose(got_lp.numpy(), ref_lp, rtol=1e-12)
    gradcheck(lambda t: getattr(F, f"avg_pool{n}d")(t, k, s, p, ceil_mode, cip, dilation=d), x[:1, :1])


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("k,s", [(3, 1), (3, 2), (2, 2), (4, 3), (1, 2)])
def test_same_padding_gives_ceil_of_in_over_stride(n, k, s):
    x = rand(*SHAPES[n], seed=31)
    want = tuple(-(-size // s) for size in x.shape[2:])
    for op in ("max", "min", "avg"):
        assert getattr(F, f"{op}_pool{n}d")(cnnlab.tensor(x), k, s, "same").shape[2:] == want
    # the values: an explicit (before, after) padding pair per dim, against the loop
    pads = tuple(((t - t // 2), t // 2)[::-1] for t in (max((-(-size // s) - 1) * s + k - size, 0)
                                                      for size in x.shape[2:]))
    ref = _avg_loop(x, (k,) * n, (s,) * n, pads, (1,) * n, False, True)
    np.testing.assert_allclose(getattr(F, f"avg_pool{n}d")(cnnlab.tensor(x), k, s, "same").numpy(), ref, rtol=1e-12)
    assert getattr(F, f"max_pool{n}d")(cnnlab.tensor(x), k, s, "valid").shape == \
        getattr(F, f"max_pool{n}d")(cnnlab.tensor(x), k, s, 0).shape


# ---- adaptive pooling -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,shape,out", [
    (1, (2, 3, 7), 3), (1, (2, 3, 10), 4), (1, (3, 5), 7), (1, (2, 3, 10), 1),
    (2, (2, 3, 7, 10), (3, 4)), (2, (2, 3, 9, 9), 3), (2, (1, 2, 5, 4), (7, 6)), (2, (2, 3, 7, 10), (None, 4)),
    (2, (2, 3, 6, 8), 1), (2, (3, 11, 13), (5, None)), (3, (1, 2, 7, 5, 6), (3, 2, 4)), (3, (1, 2, 4, 5, 3), 1),
    (3, (1, 2, 4, 5, 3), (None, 7, 2))])
def test_adaptive_pools_match_torch(n, shape, out):
    x = rand(*shape, seed=32)
    check(lambda lib, x: getattr(lib.F, f"adaptive_avg_pool{n}d")(x, out), x)
    check(lambda lib, x: getattr(lib.F, f"adaptive_max_pool{n}d")(x, out, return_indices=True), x)


def test_adaptive_max_ties_nan_and_integers_match_torch():
    x = np.round(rand(2, 3, 7, 10, seed=33) * 2)
    check(lambda lib, x: lib.F.adaptive_max_pool2d(x, (3, 4), return_indices=True), x)
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = x[1, 2, 6, 9] = np.nan
    check(lambda lib, x: lib.F.adaptive_max_pool2d(x, (3, 4), return_indices=True), x, grad=[False])
    xi = np.random.default_rng(34).integers(-9, 9, (2, 3, 7, 10))  # torch has no integer adaptive max
    v, i = F.adaptive_max_pool2d(cnnlab.tensor(xi), (3, 4), return_indices=True)
    tv, ti = torch.nn.functional.adaptive_max_pool2d(torch.tensor(xi, dtype=torch.float64), (3, 4), True)
    assert v.dtype == cnnlab.int64
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_adaptive_zero_output_float32_and_gradcheck():
    check(lambda lib, x: lib.F.adaptive_avg_pool2d(x, (0, 3)), rand(1, 2, 5, 6, seed=35), grad=[False])
    check_float32(lambda lib, x: lib.F.adaptive_avg_pool2d(x, (3, 4)), rand(2, 3, 7, 10, seed=36))
    check_float32(lambda lib, x: lib.F.adaptive_max_pool2d(x, (3, 4)), rand(2, 3, 7, 10, seed=37))
    gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), rand(1, 2, 7, 6, seed=38))
    gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 4)), rand(1, 2, 7, 6, seed=39))
    gradcheck(lambda x: F.adaptive_avg_pool1d(x, 5), rand(2, 3, seed=40))  # bins overlap when upsampling


# ---- max_unpool ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,shape,k,s,p,out", [
    (1, (2, 3, 9), 2, None, 0, None), (1, (3, 10), 3, 2, 1, (10,)), (2, (2, 3, 8, 6), 2, None, 0, None),
    (2, (2, 3, 8, 7), 2, None, 0, (8, 7)), (2, (2, 3, 9, 7), 3, 2, 1, None), (2, (2, 3, 9, 8), 3, 2, 1, (9, 8)), (2, (1, 2, 9, 8), 3, 2, 1, (1, 2, 9, 8)), (2, (3, 6, 6), 2, 2, 0, (7, 7)),
    (3, (1, 2, 6, 5, 4), 2, None, 0, (6, 5, 4))])
def test_max_unpool_matches_torch(n, shape, k, s, p, out):
    def fn(lib, x):
        y, i = getattr(lib.F, f"max_pool{n}d")(x, k, s, p, return_indices=True)
        return getattr(lib.F, f"max_unpool{n}d")(y, i, k, s, p, out)
    check(fn, rand(*shape, seed=41))


def test_max_unpool_float32_and_gradcheck():
    idx = cnnlab.tensor(np.array([[[0, 3], [9, 14]]]))
    check_float32(lambda lib, x: lib.F.max_unpool2d(x, lib.torch.tensor([[[0, 3], [9, 14]]]), 2),
                  rand(1, 2, 2, seed=42))
    gradcheck(lambda x: F.max_unpool2d(x, idx, 2), rand(1, 2, 2, seed=43))


# ---- errors --------------------------------------------------------------------------------------------------------

def _x(*shape):
    return cnnlab.tensor(rand(*shape))


def test_error_input_smaller_than_window():
    with pytest.raises(RuntimeError, match=r"max_pool2d: output size would be 0 or less.*Got H=2 with kernel_size=3, "
                                           r"padding=0, stride=3, dilation=1 \(H_out = .* = 0\)"):
        F.max_pool2d(_x(1, 1, 2, 5), 3)
    with pytest.raises(ValueError, match=r"avg_pool1d: output size would be 0 or less.*L=4 with kernel_size=3, padding=1,"
                                         r" stride=1, dilation=3"):
        F.avg_pool1d(_x(1, 4), 3, 1, 1, dilation=3)


def test_error_padding_over_half_the_effective_kernel():
    with pytest.raises(RuntimeError, match=r"max_pool2d: pad should be at most half of effective kernel size.*= 1 on "
                                           r"each side. Got padding=2, kernel_size=3, dilation=1"):
        F.max_pool2d(_x(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: pad should be at most half.*Got padding=\(0, 3\), "
                                         r"kernel_size=\(2, 4\)"):
        F.avg_pool2d(_x(1, 1, 8, 8), (2, 4), padding=(0, 3))
    F.max_pool2d(_x(1, 1, 8, 8), 3, padding=2, dilation=2)  # (2 * 2 + 1) // 2 = 2: allowed


@pytest.mark.parametrize("name,kwargs,msg", [
    ("kernel_size", dict(kernel_size=0), r"max_pool2d: kernel_size must be positive. Got kernel_size=\(0, 0\)"),
    ("stride", dict(kernel_size=2, stride=0), r"max_pool2d: stride must be positive. Got stride=\(0, 0\)"),
    ("stride", dict(kernel_size=2, stride=(1, -1)), r"stride must be positive. Got stride=\(1, -1\)"),
    ("dilation", dict(kernel_size=2, dilation=0), r"dilation must be positive"),
    ("padding", dict(kernel_size=2, padding=-1), r"padding must be non-negative")])
def test_error_non_positive_arguments(name, kwargs, msg):
    with pytest.raises(RuntimeError, match=msg):
        F.max_pool2d(_x(1, 1, 6, 6), **kwargs)


def test_error_wrong_dims_types_and_arguments():
    with pytest.raises(RuntimeError, match=r"max_pool2d: expects a 3-d \(unbatched\) or 4-d \(batched\) input .*"
                                           r"Got input.shape=\(6, 6\)"):
        F.max_pool2d(_x(6, 6), 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool3d: expects a 4-d .* Got input.shape=\(1, 2, 3\)"):
        F.adaptive_avg_pool3d(_x(1, 2, 3), 1)
    with pytest.raises(TypeError, match=r"avg_pool2d: kernel_size must be an int or a tuple of 2 ints"):
        F.avg_pool2d(_x(1, 1, 6, 6), 2.5)
    with pytest.raises(TypeError, match=r"avg_pool2d: the input must be a floating-point tensor. Got dtype=.*int64"):
        F.avg_pool2d(cnnlab.tensor(np.ones((1, 1, 4, 4), np.int64)), 2)
    with pytest.raises(RuntimeError, match=r"avg_pool2d: divisor must be not zero"):
        F.avg_pool2d(_x(1, 1, 6, 6), 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"adaptive_max_pool2d: output_size must be .* Got output_size=\(2, 3, 4\)"):
        F.adaptive_max_pool2d(_x(1, 1, 6, 6), (2, 3, 4))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expects a non-empty input .*\(1, 0, 6\)"):
        F.adaptive_avg_pool2d(_x(1, 0, 6), 2)


def test_error_max_unpool():
    y, i = F.max_pool2d(_x(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"max_unpool2d: invalid output_size \(9, 4\): H_out must be between 2 and 6"):
        F.max_unpool2d(y, i, 2, output_size=(9, 4))
    with pytest.raises(RuntimeError, match=r"max_unpool2d: found an invalid max index.*\[0, 16\).*Got index 16"):
        F.max_unpool2d(y, cnnlab.tensor(np.full((1, 1, 2, 2), 16)), 2)
    with pytest.raises(ValueError, match=r"max_unpool2d: indices must have the input's shape"):
        F.max_unpool2d(y, i.reshape(1, 1, 4), 2)


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1, return_indices=True), lambda lib, x: lib.F.avg_pool2d(x, 2),
    lambda lib, x: lib.F.lp_pool2d(x, 2, 2), lambda lib, x: lib.F.adaptive_avg_pool2d(x, 3),
    lambda lib, x: lib.F.adaptive_max_pool2d(x, 3, True),
    lambda lib, x: lib.F.max_unpool2d(*lib.F.max_pool2d(x, 2, return_indices=True), 2)])
def test_empty_batch_matches_torch(fn):
    check(fn, np.zeros((0, 3, 8, 8)))


# ---- found by tests/test_fuzz_conv_pool.py ------------------------------------------------------------------
@pytest.mark.parametrize("op, args", [("avg_pool3d", ((1, 1, 2),)), ("avg_pool3d", (2, 1, 1)),
                                      ("lp_pool3d", (2, (1, 1, 2)))])
def test_pool3d_input_smaller_than_kernel(op, args):
    """PyTorch's avg_pool3d (and lp_pool3d on it) refuses an input smaller than the kernel, padding or not, even
    where ceil_mode or padding would give an output (its 2-d pools do not); cnnlab raises as well."""
    x = rand(1, 1, 1, 3, 1, seed=40)
    kwargs = {"ceil_mode": True}
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, op)(torch.tensor(x), *args, **kwargs)
    with pytest.raises(RuntimeError, match=rf"{op}: the input \(not counting padding\) must be at least kernel_size "
                                           r"in every spatial dim.*Got input.shape=\(1, 1, 1, 3, 1\)"):
        getattr(F, op)(cnnlab.tensor(x), *args, **kwargs)
    check(lambda lib, x: lib.F.avg_pool2d(x, (1, 2), ceil_mode=True), rand(1, 1, 1, 1, seed=41))  # 2-d: allowed


def test_lp_pool_nan_window_gradient_matches_torch():
    """x^1.5 of a negative x is NaN: the whole window's gradient is NaN in PyTorch (its relu(|a|) passes NaN),
    not only the negative element's."""
    check(lambda lib, x: lib.F.lp_pool1d(x, 1.5, 2), np.array([[0.5, -0.25, 0.75, 0.5]]))
