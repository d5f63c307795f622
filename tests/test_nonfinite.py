"""inf and NaN in convolutions, pooling and batch norm: PyTorch's answers, forward and every gradient, under each
of the kernels' algorithms, and no RuntimeWarning.

PyTorch's float64 convolution is the plain sum of products of the direct convolution (im2col and GEMM), so its
NaN and inf entries are defined: test_pytorch_is_the_direct_sum_of_products checks that against the loop
references (tests/reference_loops.py), and kernels/nonfinite.py against the same loops without PyTorch.
np.testing.assert_allclose asks for NaN at the same positions and infinities of the same sign.
"""
import itertools
import warnings

import numpy as np
import pytest
from oracle import CN, torch

from cnnlab.kernels import nonfinite, select
from cnnlab.kernels.geometry import ConvGeometry
import reference_loops
from reference_loops import zero_pad
from test_fuzz_helpers import compare, with_special


@pytest.fixture(autouse=True)
def warnings_are_errors():
    """Any RuntimeWarning fails the test (by hand: the suite runs with -p no:warnings, which drops filterwarnings
    marks; the filter is process-wide, so the kernel threads' warnings count too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


conv_loop = np.errstate(all="ignore")(reference_loops.conv_loop)      # (the references' own scalar arithmetic
conv_transpose_loop = np.errstate(all="ignore")(reference_loops.conv_transpose_loop)  # with inf and NaN)
def uniform(seed, *shape):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


# (n, batch, in, out, spatial, kernel, stride, padding, dilation, groups): each algorithm's own shapes and others
CONFIGS = [
    (2, 2, 3, 4, (8, 8), 3, 1, 1, 1, 1),        # toeplitz (LeNet-like), F(2x2)/F(4x4) when forced
    (2, 2, 20, 20, (8, 8), 3, 1, 1, 1, 1),      # shift, nhwc, winograd
    (2, 2, 20, 20, (9, 9), 3, 2, 1, 1, 1),      # stack, strided gemm
    (2, 2, 4, 4, (8, 8), 3, 1, 1, 1, 4),        # depthwise
    (2, 2, 6, 6, (9, 7), 3, 2, (1, 2), 2, 3),   # grouped, strided, dilated, uneven padding
    (2, 2, 3, 4, (16, 16), 13, 1, 6, 1, 1),     # fft's large kernel
    (2, 2, 4, 6, (7, 6), 1, 2, 0, 1, 2),        # matmul's unpadded 1x1 (strided, grouped)
    (1, 2, 3, 4, (20,), 5, 1, 2, 1, 1),
    (3, 2, 3, 4, (5, 5, 5), 3, 1, 1, 1, 1),
]
IDS = ["small", "wide", "strided", "depthwise", "grouped", "large-kernel", "1x1", "1d", "3d"]


def _conv(cfg, transposed):
    n, batch, c_in, c_out, spatial, k, s, p, d, g = cfg
    x = uniform(1, batch, c_in, *spatial)
    w = uniform(2, *((c_in, c_out // g) if transposed else (c_out, c_in // g)), *(k,) * n)
    if transposed:
        pads = p if isinstance(p, int) else p[0]
        return x, w, lambda lib, x, w: getattr(lib.F, f"conv_transpose{n}d")(x, w, None, s, pads, 0, g, d)
    return x, w, lambda lib, x, w: getattr(lib.F, f"conv{n}d")(x, w, None, s, p, d, g)


@pytest.mark.parametrize("algorithm", select.ALGORITHMS)
@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "transpose"])
def test_conv_with_inf_and_nan_matches_torch_under_every_algorithm(algorithm, cfg, transposed):
    """One inf, one NaN, or several of both in the input or in the weight: forward, input and weight gradients.
    (A transposed conv's forward is the input gradient: its input reaches the kernels as the upstream gradient.)"""
    x, w, fn = _conv(cfg, transposed)
    cases = [(with_special(x, kind, 3), w) for kind in ("inf", "-inf", "nan")] + \
        [(x, with_special(w, kind, 4)) for kind in ("inf", "nan")] + [(with_special(x, "mix", 5, 4), w)]
    with select.forced(algorithm):
        for xs, ws in cases:
            compare(fn, xs, ws, seed=7, rtol=1e-6)


def test_lenet_default_conv_with_one_inf_is_inf_and_finite_like_torch():
    """The reported case: LeNet's first conv ('toeplitz' by default) of an image with one inf gave NaN everywhere
    in the rows the inf's row band met, where PyTorch gives +-inf at the windows that hold it and finite values
    elsewhere."""
    x, w = uniform(1, 4, 1, 28, 28), uniform(2, 6, 1, 5, 5)
    x[1, 0, 10, 10] = np.inf
    geom = ConvGeometry.of(x.shape, w.shape, (1, 1), ((2, 2), (2, 2)), (1, 1), 1)
    assert select.explain("forward", geom)[0] == "toeplitz"
    compare(lambda lib, x, w: lib.F.conv2d(x, w, padding=2), x, w)
    y = CN.F.conv2d(CN.tensor(x, False), CN.tensor(w, False), padding=2).numpy()
    assert not np.isnan(y).any() and np.isinf(y[1, :, 8:13, 8:13]).all() and np.isfinite(y[0]).all()


def test_pytorch_is_the_direct_sum_of_products():
    """PyTorch's float64 forward and both gradients with inf/NaN equal the loop references' (zero padding counts
    in the forward and in the weight gradient; the input gradient drops what lands in the padding)."""
    s, p, d, g = (2, 1), (1, 2), (1, 2), 2
    for which, kind, seed in itertools.product("xw", ("inf", "nan"), range(2)):
        x, w = uniform(0, 2, 4, 7, 8), uniform(1, 4, 2, 3, 3)
        x, w = (with_special(x, kind, seed), w) if which == "x" else (x, with_special(w, kind, seed))
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        y = torch.nn.functional.conv2d(xt, wt, None, s, p, d, g)
        up = uniform(9, *y.shape)
        (y * torch.tensor(up)).sum().backward()
        pads = [(q, q) for q in p]
        np.testing.assert_allclose(y.detach().numpy(), conv_loop(zero_pad(x, pads), w, None, s, d, g), rtol=1e-12)
        extra = tuple(size - ((o - 1) * st + dd * 2 + 1 - 2 * q)
                      for size, o, st, dd, q in zip(x.shape[2:], up.shape[2:], s, d, p))
        np.testing.assert_allclose(xt.grad.numpy(), conv_transpose_loop(up, w, None, s, p, extra, d, g), rtol=1e-12)
        np.testing.assert_allclose(wt.grad.numpy(), _weight_gradient_loop(zero_pad(x, pads), up, w.shape, s, d, g),
                                   rtol=1e-12)


@np.errstate(all="ignore")  # the references' own scalar arithmetic with inf and NaN
def _weight_gradient_loop(xp, up, w_shape, stride, dilation, groups):
    """dw[o, c, k] = sum_{n, p} up[n, o, p] * xp[n, g(o)*Cg + c, p*s + k*d], one value at a time."""
    dw = np.zeros(w_shape)
    og = w_shape[0] // groups
    for o, c in itertools.product(range(w_shape[0]), range(w_shape[1])):
        for k in itertools.product(*(range(kk) for kk in w_shape[2:])):
            total = 0.0
            for b, pos in itertools.product(range(up.shape[0]), itertools.product(*(range(q) for q in up.shape[2:]))):
                idx = tuple(q * st + kk * dd for q, st, kk, dd in zip(pos, stride, k, dilation))
                total += up[(b, o) + pos] * xp[(b, (o // og) * w_shape[1] + c) + idx]
            dw[(o, c) + k] = total
    return dw


@pytest.mark.parametrize("kind", ["inf", "nan", "mix"])
def test_nonfinite_module_is_the_loop_reference_without_pytorch(kind):
    """kernels/nonfinite.py's direct convolution against the loops, 1-d to 3-d, strided, dilated, grouped."""
    for n, s, d, g in [(1, (2,), (1,), 1), (2, (1, 2), (2, 1), 2), (3, (1, 1, 2), (1, 1, 1), 1)]:
        x = with_special(uniform(0, 2, 4, *(6,) * n), kind, 1, count=2)
        w = with_special(uniform(1, 4, 4 // g, *(3,) * n), kind, 2)
        pads = tuple((1, 2) for _ in range(n))
        xp = zero_pad(x, pads)
        geom = ConvGeometry.of(x.shape, w.shape, s, pads, d, g)
        y = nonfinite.forward(x, w, geom)
        np.testing.assert_allclose(y, conv_loop(xp, w, None, s, d, g), rtol=1e-12)
        up = with_special(uniform(3, *y.shape), kind, 4)
        np.testing.assert_allclose(nonfinite.backward_weight(x, up, geom),
                                   _weight_gradient_loop(xp, up, w.shape, s, d, g), rtol=1e-12)
        extra = tuple(size + 3 - ((o - 1) * st + dd * 2 + 1) for size, o, st, dd in zip(x.shape[2:], y.shape[2:], s, d))
        full = conv_transpose_loop(up, w, None, s, 0, extra, d, g)[(slice(None), slice(None)) +
                                                                  tuple(slice(1, 1 + size) for size in x.shape[2:])]
        np.testing.assert_allclose(nonfinite.backward_input(up, w, geom), full, rtol=1e-12)


def test_finite_detects_every_special_value_and_tolerates_huge_finite_values():
    a = np.ones((3, 5), np.float32)
    assert nonfinite.finite(a) and nonfinite.finite(np.empty((0, 3)))
    for v in (np.inf, -np.inf, np.nan):
        b = a.copy()
        b[2, 4] = v
        assert not nonfinite.finite(b)
        assert not nonfinite.finite(b.T)                      # not contiguous
    assert nonfinite.finite(np.full(4, 60000.0, np.float16))  # float16: squares would overflow from 256
    assert not nonfinite.finite(np.array([1.0, np.nan], np.float16))
    a[0, 0] = 3e38                                            # its square overflows: a false 'not finite' only
    assert not nonfinite.finite(a)                            # costs the exact recomputation
    x, w = uniform(0, 2, 3, 6, 6), uniform(1, 4, 3, 3, 3)
    x[0, 0, 0, 0] = 1e300                                     # and that recomputation is still right
    compare(lambda lib, x, w: lib.F.conv2d(x, w, padding=1), x, w)


POOLS = {
    "max_pool2d": lambda lib, x: lib.F.max_pool2d(x, 2),
    "max_pool2d k3 s2 p1 d1": lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1),
    "max_pool2d dilated": lambda lib, x: lib.F.max_pool2d(x, 3, 1, 1, 2),
    "max_pool2d indices": lambda lib, x: lib.F.max_pool2d(x, 2, return_indices=True),
    "max_pool1d": lambda lib, x: lib.F.max_pool1d(x.flatten(2), 3),
    "max_pool3d": lambda lib, x: lib.F.max_pool3d(x.reshape(2, 3, 2, 4, 8), 2),
    "avg_pool2d": lambda lib, x: lib.F.avg_pool2d(x, 2),
    "avg_pool2d padded": lambda lib, x: lib.F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
    "avg_pool3d": lambda lib, x: lib.F.avg_pool3d(x.reshape(2, 3, 2, 4, 8), 2),
    "lp_pool2d": lambda lib, x: lib.F.lp_pool2d(x, 2, 2),
    "adaptive_max_pool2d": lambda lib, x: lib.F.adaptive_max_pool2d(x, 3),
    "adaptive_avg_pool2d": lambda lib, x: lib.F.adaptive_avg_pool2d(x, 3),
    "global_avg_pool": lambda lib, x: lib.F.adaptive_avg_pool2d(x, 1),
    "batch_norm train": lambda lib, x: lib.F.batch_norm(x, None, None, training=True),
    "batch_norm train affine": lambda lib, x: lib.F.batch_norm(x, None, None, lib.torch.full((3,), 2.0, dtype=x.dtype),
                                                               lib.torch.ones(3, dtype=x.dtype), training=True),
    "batch_norm eval": lambda lib, x: lib.F.batch_norm(x, lib.torch.zeros(3, dtype=x.dtype),
                                                       lib.torch.ones(3, dtype=x.dtype), training=False),
}


@pytest.mark.parametrize("op", list(POOLS))
@pytest.mark.parametrize("kind", ["inf", "-inf", "nan", "mix"])
def test_pooling_and_batch_norm_with_inf_and_nan_match_torch(op, kind):
    """NaN propagates through max pooling as in PyTorch (a window with a NaN gives NaN, its index the NaN's),
    infinities through sums, means and the batch statistics."""
    for seed in range(3):
        compare(POOLS[op], with_special(uniform(0, 2, 3, 8, 8), kind, seed, count=1 if kind != "mix" else 4),
                seed=seed)


def test_no_warning_reaches_the_user_from_the_kernel_threads():
    """The kernel threads run with the caller's floating-point warning setting: with warnings turned into errors
    a conv of a large batch with an inf (blocks on several threads) still returns PyTorch's answer."""
    x, w = uniform(0, 8, 32, 16, 16), uniform(1, 32, 32, 3, 3)
    x[3, 5, 7, 7] = np.inf
    with select.forced("winograd"):
        compare(lambda lib, x, w: lib.F.conv2d(x, w, padding=1), x, w, rtol=1e-6)
