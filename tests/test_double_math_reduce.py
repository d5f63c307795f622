"""Double (and triple) backward of the math reductions and scans against PyTorch (cnnlab/derivatives/
reduction.py): max/min (full and along a dim), amax/amin, var, std, logsumexp, prod, cumsum, cumprod,
logcumsumexp and the vector norms, over dims, keepdim, corrections and inputs with ties or zeros."""
import numpy as np
import pytest

from double_math_check import derivatives_match, rand

torch = pytest.importorskip("torch")


def _ties(*shape):
    x = rand(*shape)
    x.reshape(-1)[1] = x.reshape(-1)[0] = x.max()  # a tie for the maximum
    return x


@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min(name):
    derivatives_match(lambda lib, a: getattr(lib.torch, name)(a) * a, _ties(3, 4), order=3)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_along_dim(name, dim, keepdim):
    derivatives_match(lambda lib, a: getattr(lib.torch, name)(a, dim, keepdim).values ** 3, rand(3, 4, 2), order=3)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim,keepdim", [((), False), (1, True), ((0, 2), False)])
def test_amax_amin(name, dim, keepdim):
    x = np.round(rand(3, 4, 2) * 2) / 2  # ties share the gradient
    derivatives_match(lambda lib, a: getattr(lib.torch, name)(a, dim, keepdim) ** 3, x, order=3)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True}, {"dim": 0, "correction": 0},
                                    {"unbiased": False}])
def test_var_std(name, kwargs):
    derivatives_match(lambda lib, a: getattr(lib.torch, name)(a, **kwargs), rand(3, 4, 2), order=3)


@pytest.mark.filterwarnings("ignore:var... degrees of freedom:UserWarning")  # torch's, for this input
def test_var_with_no_degrees_of_freedom():
    # n - correction = 0: an infinite scale; multiplied into g first (as torch), so d/dg is +-inf, not nan
    derivatives_match(lambda lib, a: lib.torch.var(a, 2, correction=2), rand(3, 4, 2))


def test_std_of_constant_rows_is_zero_not_nan():
    x = rand(3, 4)
    x[1] = 0.5  # std 0: the gradient is 0 there (as torch), and so is its derivative (torch: nan)
    derivatives_match(lambda lib, a: lib.torch.std(a, 1) * a.sum(1), x, torch_nan=0.0)


@pytest.mark.parametrize("dim,keepdim", [(1, False), ((0, 1), True), (-1, True)])
def test_logsumexp(dim, keepdim):
    derivatives_match(lambda lib, a: lib.torch.logsumexp(a, dim, keepdim), rand(3, 4, 2), order=3)


@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("dim", [None, 1])
def test_prod(zeros, dim):
    x = rand(3, 4, low=0.5, high=1.5)
    x.reshape(-1)[[1, 6][:zeros]] = 0.0  # exact also with zeros (one or two in a row)
    if zeros == 2:
        x[0, 3] = 0.0

    def fn(lib, a):
        return lib.torch.prod(a) if dim is None else lib.torch.prod(a, dim)
    derivatives_match(fn, x, order=3)


def test_prod_keepdim():
    derivatives_match(lambda lib, a: lib.torch.prod(a, 0, keepdim=True) ** 2, rand(3, 4, low=0.5, high=1.5))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim):
    derivatives_match(lambda lib, a: lib.torch.cumsum(a, dim) ** 2, rand(3, 4), order=3)


@pytest.mark.parametrize("zeros", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod(zeros, dim):
    x = rand(3, 4, low=0.5, high=1.5)
    if zeros:
        x[1, 2] = x[2, 0] = x[2, 3] = 0.0
    derivatives_match(lambda lib, a: lib.torch.cumprod(a, dim), x, order=3)


def _logcumsumexp_by_logsumexp(lib, a, dim):
    """logcumsumexp written as logsumexps of masked copies: an independent reference for its derivatives (torch's
    own logcumsumexp double backward gives nan where a part of g is empty)."""
    x = a.movedim(dim, -1)  # (..., n)
    n = x.shape[-1]
    later = lib.torch.tensor(np.triu(np.ones((n, n), bool), 1))  # k > j: left out of out_j
    table = lib.torch.where(later, -float("inf"), x.unsqueeze(-2).expand(*x.shape[:-1], n, n))
    return lib.torch.logsumexp(table, -1).movedim(-1, dim)


@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp(dim):
    derivatives_match(lambda lib, a: lib.torch.logcumsumexp(a, dim), rand(3, 4, low=-3, high=3), order=3,
                      torch_fn=lambda lib, a: _logcumsumexp_by_logsumexp(lib, a, dim))


def test_scans_of_0d():
    for name in ("cumsum", "cumprod", "logcumsumexp"):
        derivatives_match(lambda lib, a: getattr(lib.torch, name)(a, 0) * a, np.array(0.7))


@pytest.mark.parametrize("p", [2, 1, 3, 1.5, 0.5, float("inf"), -float("inf"), 0])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), ((0, 1), False)])
def test_vector_norm(p, dim, keepdim):
    x = rand(3, 4, 2)
    if p in (float("inf"), -float("inf")):
        x = np.round(x * 3) / 3 + 0.01  # ties among the extremes share the gradient
    derivatives_match(lambda lib, a: lib.torch.linalg.vector_norm(a, p, dim, keepdim) ** 2, x, order=3)


def test_norm_method_and_zero_norm():
    x = rand(3, 4)
    x[1] = 0.0  # a zero norm: gradient 0 (as torch), and 0 again in the second order (torch: nan)
    derivatives_match(lambda lib, a: a.norm(dim=1) * a.sum(1), x, torch_nan=0.0)
    derivatives_match(lambda lib, a: a.norm(p=3, dim=1) * a.sum(1), x, torch_nan=0.0)


def test_sum_of_var_and_mean_graph():
    # a gradient penalty shape: the norm of a gradient, differentiated again
    def fn(lib, a, w):
        t = lib.torch
        y = t.logsumexp(a * w, 1).sum() + a.var() * t.prod(w)
        (g,) = t.autograd.grad(y, a, create_graph=True)
        return t.linalg.vector_norm(g)
    derivatives_match(fn, rand(3, 4), rand(4, seed=1, low=0.5, high=1.5), order=2)

