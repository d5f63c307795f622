"""Reductions against PyTorch: every dim/keepdim combination (negative and tuple dims), ties in max/min,
variance corrections, prod/cumsum/norm, sort/argsort/topk, finite-difference gradients and float32."""
import itertools

import numpy as np
import pytest

import cnnlab
from oracle import check, check_float32, gradcheck, rand

torch = pytest.importorskip("torch")

SHAPE = (2, 3, 4)
SINGLE_DIMS = [None, 0, 1, 2, -1, -3]
TUPLE_DIMS = [(0, 1), (0, 2), (-1, 0), (0, 1, 2), (1, -1)]


def _dim_kwargs(dim, keepdim):
    return {} if dim is None and not keepdim else {"dim": dim if dim is not None else None, "keepdim": keepdim}


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", SINGLE_DIMS + TUPLE_DIMS, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_every_dim(op, dim, keepdim):
    if dim is None:
        check(lambda lib, x: getattr(x, op)(), rand(*SHAPE, seed=1))
        if keepdim:
            return
    check(lambda lib, x: getattr(x, op)(dim=dim, keepdim=keepdim), rand(*SHAPE, seed=1))
    check(lambda lib, x: getattr(lib.torch, op)(x, dim, keepdim), rand(*SHAPE, seed=2))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", SINGLE_DIMS + TUPLE_DIMS, ids=str)
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_every_dim_and_correction(op, dim, keepdim):
    x = rand(*SHAPE, seed=3)
    if dim is None:
        check(lambda lib, x: getattr(x, op)(), x)
        check(lambda lib, x: getattr(x, op)(unbiased=False), x)
        if keepdim:
            return
    check(lambda lib, x: getattr(x, op)(dim, keepdim=keepdim), x)
    check(lambda lib, x: getattr(x, op)(dim=dim, unbiased=False, keepdim=keepdim), x)
    check(lambda lib, x: getattr(lib.torch, op)(x, dim=dim, correction=0, keepdim=keepdim), x)
    check(lambda lib, x: getattr(lib.torch, op)(x, dim=dim, correction=2, keepdim=keepdim), x)


def test_var_positional_unbiased_forms():
    x = rand(4, 5, seed=4)
    check(lambda lib, x: x.var(0, True), x)
    check(lambda lib, x: x.var(1, False, True), x)
    check(lambda lib, x: lib.torch.var(x, False), x)
    check(lambda lib, x: lib.torch.std(x, 1, True, True), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2], ids=str)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_dim_values_and_indices(op, dim, keepdim):
    x = rand(*SHAPE, seed=5)
    check(lambda lib, x: tuple(getattr(x, op)(dim, keepdim=keepdim)), x)
    check(lambda lib, x: getattr(lib.torch, op)(x, dim=dim, keepdim=keepdim).values, x)
    check(lambda lib, x: getattr(x, op)(dim, keepdim).indices, x)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_ties(op):
    # ties along the dim: both return the first index and the gradient goes there; a full reduction
    # spreads the gradient evenly over all tied elements
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 0.0, -1.0, 0.0]])
    check(lambda lib, x: tuple(getattr(x, op)(1)), x)
    check(lambda lib, x: tuple(getattr(x, op)(0)), x)
    check(lambda lib, x: getattr(x, op)(), x)
    check(lambda lib, x: getattr(x, op)(), np.full((2, 2), 0.5))
    check(lambda lib, x: getattr(lib.torch, "a" + op)(x, 1), x)
    check(lambda lib, x: getattr(lib.torch, "a" + op)(x, (0, 1), keepdim=True), x)


def test_max_min_elementwise_form():
    check(lambda lib, a, b: lib.torch.max(a, b), rand(3, 4, seed=1), rand(4, seed=2))
    check(lambda lib, a, b: a.min(b), rand(3, 4, seed=1), rand(3, 1, seed=2))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 2), (0, 1, 2)], ids=str)
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin(op, dim, keepdim):
    x = np.round(rand(*SHAPE, seed=6) * 2) / 2  # coarse: ties inside the reduced groups
    kwargs = {"keepdim": keepdim} if dim is None else {"dim": dim, "keepdim": keepdim}
    check(lambda lib, x: getattr(x, op)(**kwargs), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op, dim, keepdim):
    x = np.round(rand(3, 5, seed=7) * 2) / 2  # with ties: the first index wins in both libraries
    check(lambda lib, x: getattr(x, op)(dim=dim, keepdim=keepdim), x)
    check(lambda lib, x: getattr(lib.torch, op)(x), x)


@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(dim, keepdim):
    check(lambda lib, x: lib.torch.logsumexp(x, dim, keepdim=keepdim), rand(3, 4, seed=8) * 10)


@pytest.mark.parametrize("shape", [(), (1,), (5,)], ids=str)
def test_reductions_of_0d_and_1d(shape):
    x = rand(*shape, seed=9)
    for fn in (lambda lib, x: x.sum(), lambda lib, x: x.mean(), lambda lib, x: x.max(), lambda lib, x: x.min(),
               lambda lib, x: x.sum(0), lambda lib, x: x.mean(-1, keepdim=True), lambda lib, x: x.argmax(),
               lambda lib, x: tuple(x.max(0)), lambda lib, x: x.prod(), lambda lib, x: x.cumsum(0),
               lambda lib, x: x.norm(), lambda lib, x: x.amax(), lambda lib, x: x.logsumexp(0)):
        check(fn, x)


def test_integer_and_bool_reductions():
    ints, bools = np.array([[1, 5, 2], [7, 0, 7]]), np.array([[True, False, True], [True, True, False]])
    for fn in (lambda lib, x: x.sum(), lambda lib, x: x.sum(1), lambda lib, x: x.max(), lambda lib, x: x.max(1),
               lambda lib, x: x.argmax(1), lambda lib, x: x.prod(1), lambda lib, x: x.cumsum(1),
               lambda lib, x: x.amin(0), lambda lib, x: x.all(), lambda lib, x: x.any(1)):
        check(fn, ints)
    for fn in (lambda lib, x: x.sum(), lambda lib, x: x.sum(0), lambda lib, x: x.all(1), lambda lib, x: x.any(),
               lambda lib, x: x.cumsum(1)):
        check(fn, bools)
    check(lambda lib, x: x.sum(dtype=lib.torch.float64), ints)
    check(lambda lib, x: x.mean(dtype=lib.torch.float64), ints)


@pytest.mark.parametrize("dim", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_including_zeros(dim, keepdim):
    x = rand(3, 4, seed=10)
    x[0, 1] = 0.0  # one zero in a row: its neighbours' gradient is 0, its own is the product of the rest
    x[2, 0] = x[2, 3] = 0.0  # two zeros: every gradient in that row is 0
    if dim is None:
        check(lambda lib, x: x.prod(), x)
        check(lambda lib, x: x.prod(), rand(2, 3, seed=1))
    else:
        check(lambda lib, x: x.prod(dim, keepdim=keepdim), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim):
    check(lambda lib, x: x.cumsum(dim), rand(3, 4, seed=11))
    check(lambda lib, x: lib.torch.cumsum(x, dim=dim), rand(2, 3, 4, seed=12))


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf"), -float("inf"), "fro"])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm(p, dim, keepdim):
    x = rand(3, 4, seed=13)
    x[1, 2] = -x[1, 1]  # a tie in |x| for the inf-norms
    if dim is None and keepdim:
        return
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    check(lambda lib, x: x.norm(p, **kwargs), x)


def test_norm_gradient_at_zero_is_zero_like_torch():
    # second order there: 0 in cnnlab, nan in torch (tests/test_double_math_reduce.py)
    check(lambda lib, x: x.norm(), np.zeros((2, 2)), second_order=False)
    check(lambda lib, x: x.norm(dim=1), np.array([[0.0, 0.0], [3.0, 4.0]]), second_order=False)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_and_argsort(descending, dim):
    x = np.round(rand(4, 5, seed=14) * 2) / 2  # ties: stable order in both libraries
    x[1, 1] = np.nan  # NaN sorts as the largest value
    check(lambda lib, x: tuple(x.sort(dim=dim, descending=descending, stable=True)), x)
    check(lambda lib, x: lib.torch.sort(x, dim=dim, descending=descending, stable=True).values, x)
    check(lambda lib, x: x.argsort(dim=dim, descending=descending, stable=True), x)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim,k", [(0, 2), (1, 3), (-1, 1), (1, 5), (0, 0)])
def test_topk(largest, dim, k):
    x = rand(4, 5, seed=15)
    check(lambda lib, x: tuple(x.topk(k, dim=dim, largest=largest)), x)
    check(lambda lib, x: lib.torch.topk(x, k, dim, largest).values, x)


def test_topk_with_ties():
    # PyTorch leaves the order of tied indices open; the values match and every index points at its value
    x = np.array([[1.0, 1.0, 0.0, 2.0], [2.0, 2.0, 2.0, 2.0]])
    check(lambda lib, x: x.topk(2, 1).values, x, grad=[False])
    values, indices = cnnlab.tensor(x).topk(2, 1)
    np.testing.assert_array_equal(np.take_along_axis(x, indices.numpy(), 1), values.numpy())
    assert all(len(set(row)) == 2 for row in indices.tolist())
    check(lambda lib, x: tuple(x.sort(dim=1, stable=True)), x)


def test_unique_matches_torch():
    x = np.array([3, 1, 2, 3, 1, 5])
    check(lambda lib, x: lib.torch.unique(x), x)
    check(lambda lib, x: lib.torch.unique(x, return_inverse=True, return_counts=True), x)


# ---- gradients by finite differences ------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: x.sum((0, 2)), lambda x: x.mean(1, keepdim=True), lambda x: x.var(1), lambda x: x.std((0, 1)),
    lambda x: x.max(1).values, lambda x: x.amin(0), lambda x: x.logsumexp(2), lambda x: x.prod(1),
    lambda x: x.cumsum(2), lambda x: x.norm(dim=2), lambda x: x.norm(3), lambda x: x.sort(1).values,
    lambda x: x.topk(2, dim=2).values,
])
def test_gradcheck_reductions(fn):
    gradcheck(fn, rand(2, 3, 4, seed=16))


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.sum(1), lambda lib, x: x.mean(), lambda lib, x: x.var(0), lambda lib, x: x.std(),
    lambda lib, x: x.max(), lambda lib, x: x.max(1).values, lambda lib, x: x.amax(0), lambda lib, x: x.prod(1),
    lambda lib, x: x.logsumexp(1), lambda lib, x: x.cumsum(0), lambda lib, x: x.norm(dim=1),
    lambda lib, x: x.norm(1), lambda lib, x: x.sort(1).values, lambda lib, x: x.topk(2).values,
    lambda lib, x: x.norm(float("inf")),
])
def test_float32_reductions_stay_float32(fn):
    x = rand(3, 4, seed=17)
    x[0, 0] = x[0, 1]
    check_float32(fn, x)


# ---- errors -----------------------------------------------------------------------------------------------
def test_reduction_errors():
    x = cnnlab.ones(2, 3)
    with pytest.raises(IndexError, match=r"sum: dim must be in \[-2, 1\] for a 2-d tensor. Got dim=2"):
        x.sum(2)
    with pytest.raises(TypeError, match=r"mean: dim must be an int. Got dim=1.5"):
        x.mean(1.5)
    with pytest.raises(cnnlab.DTypeError, match=r"mean: the input must be floating point .* Got dtype=cnnlab.int64"):
        cnnlab.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError):  # PyTorch's type for the same mistake
        cnnlab.tensor([1, 2]).mean()
    with pytest.raises(cnnlab.DTypeError, match=r"var: the input must be floating point"):
        cnnlab.tensor([1, 2]).var()
    with pytest.raises(cnnlab.ShapeError, match=r"max: the input is empty"):
        cnnlab.zeros(0).max()
    with pytest.raises(cnnlab.ShapeError, match=r"min: cannot reduce over an empty dimension"):
        cnnlab.zeros(2, 0).min(1)
    with pytest.raises(cnnlab.ShapeError, match=r"topk: k must be in \[0, size of dim\]. Got k=4"):
        x.topk(4)
    with pytest.raises(ValueError, match=r"norm: only vector norms are supported"):
        x.norm("nuc")


def test_every_dim_permutation_of_sum_matches_numpy_reference():
    # independent of PyTorch: sum over any subset of dims equals NumPy's sum
    x = rand(2, 3, 4, seed=18)
    for r in range(4):
        for dims in itertools.combinations(range(3), r):
            if not dims:
                continue
            np.testing.assert_allclose(cnnlab.tensor(x).sum(dims).numpy(), x.sum(axis=dims))


def test_numpy_style_axis_and_keepdims_names_like_torch():
    x = rand(2, 3, seed=19)
    check(lambda lib, x: x.sum(axis=1), x)
    check(lambda lib, x: lib.torch.mean(x, axis=0, keepdims=True), x)
    check(lambda lib, x: x.amax(axis=(0, 1)), x)
    check(lambda lib, x: x.std(axis=1), x)


def test_std_gradient_is_zero_where_std_is_zero_like_torch():
    # second order there: 0 in cnnlab, nan in torch (tests/test_double_math_reduce.py)
    check(lambda lib, x: x.std(), np.ones(3), second_order=False)
    check(lambda lib, x: x.std(1), np.array([[1.0, 1.0], [1.0, 2.0]]), second_order=False)
    check(lambda lib, x: x.std(0, keepdim=True, unbiased=False), np.array([[1.0, 1.0], [1.0, 2.0]]),
          second_order=False)


def test_var_mean_std_mean_count_nonzero_bincount():
    x = rand(3, 4, seed=21)
    check(lambda lib, x: lib.torch.var_mean(x, 1), x)
    check(lambda lib, x: lib.torch.std_mean(x, dim=(0, 1), keepdim=True), x)
    z = np.where(x > 0, x, 0.0)
    check(lambda lib, x: lib.torch.count_nonzero(x), z, grad=[False])
    check(lambda lib, x: lib.torch.count_nonzero(x, dim=0), z, grad=[False])
    check(lambda lib, i: lib.torch.bincount(i, minlength=6), np.array([0, 1, 1, 4, 1]))
    check(lambda lib, i, w: lib.torch.bincount(i, weights=w), np.array([0, 1, 1, 4]), rand(4, seed=2),
          grad=[False, False])


def test_mean_float16_sums_wider_than_float16():
    """A float16 mean sums in float32, as PyTorch does: 100,000 ones (a float16 running sum would stop at 2048
    or overflow past 65504) and 5,000 thirties give their exact means, over all dims and over one."""
    for n, v in ((100000, 1.0), (5000, 30.0)):
        got, want = cnnlab.full((n,), v, dtype=cnnlab.float16).mean(), torch.full((n,), v, dtype=torch.float16).mean()
        assert got.dtype == cnnlab.float16 and float(got) == float(want) == v
        got = cnnlab.full((2, n), v, dtype=cnnlab.float16).mean(dim=1)
        assert got.tolist() == [v, v]
