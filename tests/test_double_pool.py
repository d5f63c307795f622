"""Double backward of every pooling op (cnnlab/derivatives/pooling.py) against PyTorch in float64: the derivative
of (grad . v) with respect to the input and to the upstream gradient, through a cube around the op so that the
input direction is not trivially zero (tests/double_check.py), and a third order on some. cnnlab's extensions
(min pooling, asymmetric padding, dilation on average pools) are compared with the PyTorch composite they equal."""
import numpy as np
import pytest

from double_check import check2
from oracle import rand

torch = pytest.importorskip("torch")


def _shape(n, c=3, batch=2):
    return (batch, c) + (7, 6, 5)[:n]


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True),
                                dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_max_pool(n, kw):
    check2(lambda lib, x: getattr(lib.F, f"max_pool{n}d")(x, **kw), rand(*_shape(n)))


def test_max_pool_ties_and_third_order():
    x = np.round(rand(2, 3, 6, 6) * 2) / 2  # many ties: the first maximum of a window takes the gradient
    check2(lambda lib, x: lib.F.max_pool2d(x, 3, 1, 1), x, order=3)


def test_max_pool_unbatched():
    check2(lambda lib, x: lib.F.max_pool2d(x, 2), rand(3, 6, 5))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_min_pool_is_minus_max_pool_of_minus(n):
    check2(lambda lib, x: getattr(lib.F, f"min_pool{n}d")(x, 2, 1, dilation=2), rand(*_shape(n)),
           torch_fn=lambda lib, x: -getattr(lib.F, f"max_pool{n}d")(-x, 2, 1, dilation=2), order=3)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)])
def test_avg_pool(n, kw):
    check2(lambda lib, x: getattr(lib.F, f"avg_pool{n}d")(x, **kw), rand(*_shape(n)))


@pytest.mark.parametrize("n", [2, 3])
def test_avg_pool_divisor_override(n):
    check2(lambda lib, x: getattr(lib.F, f"avg_pool{n}d")(x, 3, 2, 1, divisor_override=4), rand(*_shape(n)),
           order=3)


def test_avg_pool_asymmetric_padding():
    """(before, after) pairs are an extension: the average over the zero-padded input with count_include_pad."""
    check2(lambda lib, x: lib.F.avg_pool2d(x, 3, 2, ((1, 0), (0, 1))), rand(2, 3, 7, 6),
           torch_fn=lambda lib, x: lib.F.avg_pool2d(lib.F.pad(x, (0, 1, 1, 0)), 3, 2))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_lp_pool(n, p):
    x = rand(*_shape(n), low=0.2, high=1.5)  # positive: x ** 3.5 is real
    check2(lambda lib, x: getattr(lib.F, f"lp_pool{n}d")(x, p, 2, stride=(1,) + (2,) * (n - 1)), x)


def test_lp_pool_third_order_and_inf_norm():
    x = rand(2, 3, 6, 5, low=0.2, high=1.5)
    check2(lambda lib, x: lib.F.lp_pool2d(x, 2, 3, stride=2, ceil_mode=True), x, order=3)
    check2(lambda lib, x: lib.F.lp_pool2d(x, float("inf"), 2), rand(2, 3, 6, 5))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_adaptive_avg_pool(n, size):
    """Sizes that divide, that do not (overlapping bins), and 1 (the mean: MeanBackward1 for 2-d/3-d)."""
    check2(lambda lib, x: getattr(lib.F, f"adaptive_avg_pool{n}d")(x, size), rand(*_shape(n)))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 3, 4])
def test_adaptive_max_pool(n, size):
    check2(lambda lib, x: getattr(lib.F, f"adaptive_max_pool{n}d")(x, size), rand(*_shape(n)))


def test_adaptive_pools_third_order_and_none_sizes():
    check2(lambda lib, x: lib.F.adaptive_avg_pool2d(x, (3, 5)), rand(2, 3, 7, 6), order=3)
    check2(lambda lib, x: lib.F.adaptive_max_pool2d(x, (3, 5)), rand(2, 3, 7, 6), order=3)
    check2(lambda lib, x: lib.F.adaptive_avg_pool2d(x, (None, 4)), rand(2, 3, 7, 6),
           torch_fn=lambda lib, x: lib.F.adaptive_avg_pool2d(x, (7, 4)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_unpool(n):
    x = rand(*_shape(n))

    def fn(lib, x):
        y, idx = getattr(lib.F, f"max_pool{n}d")(x, 2, return_indices=True)
        return getattr(lib.F, f"max_unpool{n}d")(y * y, idx, 2, output_size=x.shape[2:])
    check2(fn, x, order=3 if n == 2 else 2)


def test_empty_adaptive_pool_gives_zero_second_derivative():
    import cnnlab
    x = cnnlab.tensor(rand(2, 3, 5), requires_grad=True)
    y = cnnlab.nn.functional.adaptive_avg_pool1d(x, 0)
    (gx,) = cnnlab.autograd.grad((y * y).sum() + (x * x).sum(), x, create_graph=True)
    (gxx,) = cnnlab.autograd.grad(gx.sum(), x)
    np.testing.assert_array_equal(gxx.numpy(), np.full(x.shape, 2.0))


@pytest.mark.parametrize("op, shape", [
    (lambda F, x: F.avg_pool2d(x, 3, 1, 1, dilation=2), (1, 2, 5, 4)),  # dilation on average pools: an extension
    (lambda F, x: F.avg_pool1d(x, 3, 2, 1, divisor_override=2), (1, 2, 7)),  # divisor_override for 1-d too
    (lambda F, x: F.lp_pool2d(x, 2, 2, padding=1, dilation=(1, 2)), (1, 2, 5, 4)),
    (lambda F, x: F.min_pool2d(x, 2, 1, padding=((1, 0), (0, 1))), (1, 2, 5, 4)),
])
def test_extensions_by_finite_differences(op, shape):
    """cnnlab's pooling extensions PyTorch has no op for: second derivatives against finite differences."""
    import cnnlab
    x = cnnlab.tensor(rand(*shape, low=0.2, high=1.5), requires_grad=True)
    assert cnnlab.autograd.gradgradcheck(lambda t: op(cnnlab.nn.functional, t * t * t), (x,), seed=0)


@pytest.mark.parametrize("p", [2, 3.0, 1.5])
def test_lp_pool_window_of_zeros(p):
    """A window whose average of x^p is 0: PyTorch's relu passes no gradient of any order there (0, not the NaN
    of 0 * inf from z^(1/p - 1)); with p < 2 both libraries give NaN from x^(p - 2) at x = 0."""
    x = rand(1, 2, 4, 4, low=0.2, high=1.5)
    x[0, 0, :2, :2] = 0
    check2(lambda lib, x: lib.F.lp_pool2d(x, p, 2), x, order=3)
