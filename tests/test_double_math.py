"""Double (and triple) backward of the elementwise math ops against PyTorch (cnnlab/derivatives/unary.py and
binary.py): for each op, the gradient of (grad . v) with respect to every input and every upstream gradient g
(float64, random g and v), and a third order on some."""
import numpy as np
import pytest

import cnnlab
from double_math_check import derivatives_match, pos, rand

torch = pytest.importorskip("torch")


UNARY = {  # name -> (input range); the op is lib.torch.<name>
    "exp": (-1, 1), "log": (0.2, 2), "log1p": (-0.5, 2), "log2": (0.2, 2), "log10": (0.2, 2),
    "expm1": (-1, 1), "sqrt": (0.2, 2), "rsqrt": (0.2, 2), "square": (-1, 1), "reciprocal": (0.3, 2),
    "sin": (-3, 3), "cos": (-3, 3), "tan": (-1, 1), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-2, 2),
    "sinh": (-2, 2), "cosh": (-2, 2), "exp2": (-1, 1), "asinh": (-2, 2), "acosh": (1.2, 3), "atanh": (-0.9, 0.9),
    "erf": (-2, 2), "erfc": (-2, 2), "abs": (-1, 1), "frac": (-3, 3), "neg": (-1, 1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    lo, hi = UNARY[name]
    x = rand(3, 4, low=lo, high=hi)
    derivatives_match(lambda lib, a: getattr(lib.torch, name)(a), x)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tan", "erf", "atanh", "rsqrt"])
def test_unary_third_order(name):
    lo, hi = UNARY[name]
    derivatives_match(lambda lib, a: getattr(lib.torch, name)(a), rand(5, low=lo, high=hi), order=3)


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round"])
def test_piecewise_constant(name):
    # a zero gradient that does not depend on g; around a smooth op the product rule still meets it
    x = rand(2, 5, low=-3, high=3)
    derivatives_match(lambda lib, a: getattr(lib.torch, name)(a) * a.sin(), x)


def test_round_decimals():
    derivatives_match(lambda lib, a: lib.torch.round(a, decimals=1) * a.exp(), rand(6, low=-3, high=3))


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.2), (-0.3, None)])
def test_clamp_numbers(bounds):
    derivatives_match(lambda lib, a: lib.torch.clamp(a, *bounds) ** 2, rand(4, 5))


@pytest.mark.parametrize("which", ["both", "min", "max"])
def test_clamp_tensor_bounds(which):
    lo, hi = rand(1, 5, seed=1, low=-0.8, high=0.0), rand(4, 1, seed=2, low=0.0, high=0.8)

    def fn(lib, a, l, h):
        return lib.torch.clamp(a, l if which != "max" else None, h if which != "min" else None) ** 2
    derivatives_match(fn, rand(4, 5), lo, hi)


def test_abs_at_zero():
    x = np.array([-1.0, 0.0, 2.0])  # abs'(0) = 0 as torch's sgn, in the second order too
    derivatives_match(lambda lib, a: a.abs() * a, x, order=3)


@pytest.mark.parametrize("exponent", [3, 2, 0.5, -1.5, 1, 0])
def test_pow_number_exponent(exponent):
    derivatives_match(lambda lib, a: a ** exponent, rand(3, 4, low=0.3, high=2), order=3)


def test_pow_tensor_tensor_broadcast():
    derivatives_match(lambda lib, a, b: a ** b, rand(3, 4, low=0.3, high=2), rand(4, seed=1, low=-2, high=2),
                      order=3)


def test_pow_zero_base_and_exponent():
    # torch's second derivative is nan at a zero base (its masked branch log(0) leaks through); cnnlab makes the
    # masked inputs safe and gives the limits: d2/da2 a^2 = 2, d2/da2 a^0 = 0, d2/dadb a^b = 0 at a = 0, b = 2
    a = cnnlab.tensor([0.0, 0.0, 2.0, 1.5], dtype=cnnlab.float64, requires_grad=True)
    b = cnnlab.tensor([0.0, 2.0, 0.0, 1.5], dtype=cnnlab.float64, requires_grad=True)
    ga, gb = cnnlab.autograd.grad((a ** b).sum(), (a, b), create_graph=True)
    (haa,) = cnnlab.autograd.grad(ga.sum(), a, retain_graph=True)
    (hab,) = cnnlab.autograd.grad(ga.sum(), b)
    ta, tb = (torch.tensor(t.detach().numpy()) for t in (a, b))
    ref = torch.autograd.functional.hessian(lambda x, y: (x ** y).sum(), (ta, tb))
    np.testing.assert_allclose(haa.numpy()[2:], ref[0][0].diagonal().numpy()[2:])
    np.testing.assert_allclose(hab.numpy()[2:], ref[0][1].diagonal().numpy()[2:])
    np.testing.assert_allclose(haa.numpy()[:2], [0.0, 2.0])
    np.testing.assert_allclose(hab.numpy()[:2], [0.0, 0.0])


@pytest.mark.parametrize("base", [2.0, 0.5])
def test_pow_number_base(base):
    derivatives_match(lambda lib, b: base ** b, rand(3, 4, low=-2, high=2), order=3)


def test_pow_zero_base():
    # 0 ** b is flat for b > 0: the gradient is 0 and so is every derivative of it (torch's is nan w.r.t. b)
    derivatives_match(lambda lib, b: 0.0 ** b * b, rand(5, low=0.3, high=2), torch_nan=0.0)


def test_rsub():
    derivatives_match(lambda lib, a: (1 - a) ** 3, rand(4, 3), order=3)
    derivatives_match(lambda lib, a: (2.0 - a) * a, rand(4))


def test_reflected_div():
    derivatives_match(lambda lib, a: 2.0 / a, rand(3, 4, low=0.5, high=2), order=3)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum(name):
    a = rand(3, 4)
    b = rand(4, seed=1)
    a[0, :2] = b[:2]  # ties split the gradient evenly
    derivatives_match(lambda lib, x, y: getattr(lib.torch, name)(x, y) ** 3, a, b)
    derivatives_match(lambda lib, x: getattr(lib.torch, name)(x, lib.torch.tensor(0.1, dtype=x.dtype)) ** 2, a)


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_modulus(name):
    a, b = rand(3, 4, low=-5, high=5), rand(3, 1, seed=1, low=0.7, high=2)
    derivatives_match(lambda lib, x, y: getattr(lib.torch, name)(x, y) ** 2, a, b)
    derivatives_match(lambda lib, x: getattr(lib.torch, name)(x, 1.5) ** 2, a)


def test_reflected_remainder():
    # number % x: torch has no derivative at all ("derivative for aten::remainder is not implemented"); cnnlab's
    # d/dx = -floor(number / x) and its derivative (0) are checked by finite differences
    x = cnnlab.tensor(rand(5, low=0.3, high=2), requires_grad=True)
    assert cnnlab.autograd.gradgradcheck(lambda b: 2.5 % b, (x,), seed=0)


@pytest.mark.parametrize("name", ["logaddexp", "hypot", "atan2"])
def test_smooth_binary(name):
    a, b = rand(3, 4), rand(4, seed=1, low=0.2, high=1)
    derivatives_match(lambda lib, x, y: getattr(lib.torch, name)(x, y), a, b, order=3)


def test_logaddexp_with_number():
    derivatives_match(lambda lib, x: lib.torch.logaddexp(x, lib.torch.tensor(0.3, dtype=x.dtype)), rand(5))


def test_copysign():
    a, b = rand(3, 4), rand(4, seed=1)
    derivatives_match(lambda lib, x, y: lib.torch.copysign(x, y) * x, a, b)
    derivatives_match(lambda lib, x: lib.torch.copysign(x, -1.0) ** 3, a)


def test_where():
    cond = rand(3, 4, seed=3) > 0
    a, b = rand(3, 4), rand(4, seed=1)

    def fn(lib, x, y):
        return lib.torch.where(lib.torch.tensor(cond), x, y) ** 3
    derivatives_match(fn, a, b, order=3)
    derivatives_match(lambda lib, x: lib.torch.where(lib.torch.tensor(cond), x, 0.5) ** 2, a)


def test_square_and_pow_share_a_name():
    # square records PowBackward0 like x ** 2: both formulas reach their node
    derivatives_match(lambda lib, a: lib.torch.square(a) * a ** 2, rand(4), order=3)


def test_mixed_partials_through_chains():
    def fn(lib, a, b):
        t = lib.torch
        return t.log1p(t.exp(a) * b ** 2) + t.sin(a * b) / t.sqrt(b)
    derivatives_match(fn, rand(2, 3), pos(2, 3, seed=1), order=3)


def test_integer_exponent_keeps_dtype():
    x = cnnlab.tensor([1.0, 2.0], dtype=cnnlab.float32, requires_grad=True)
    (g,) = cnnlab.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = cnnlab.autograd.grad(g.sum(), x)
    assert g.dtype == cnnlab.float32 and h.dtype == cnnlab.float32
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])


COMPOSITES = {  # ops built from the core ones (ops/fused.py, cumulative.py, nan_aware.py, ...): their formulas compose
    "bmm": (lambda lib, a: lib.torch.bmm(a, a.transpose(1, 2)), (2, 3, 4)),
    "addmm": (lambda lib, a: lib.torch.addmm(a[0], a, a.t(), beta=0.5, alpha=2.0), (3, 3)),
    "lerp_addcdiv": (lambda lib, a: lib.torch.lerp(a, a.exp(), 0.3) ** 3 + lib.torch.addcdiv(a, a, a.exp(), value=2),
                     (3,)),
    "diff": (lambda lib, a: lib.torch.diff(a, dim=1) ** 2, (3, 4)),
    "nan_aware": (lambda lib, a: lib.torch.nan_to_num(a) ** 2 + lib.torch.nansum(a) * a, (3, 4)),
    "extremes": (lambda lib, a: a.amax() * a.amin(1).sum() + a.max() + a.min(), (3, 4)),
    "var_mean": (lambda lib, a: lib.torch.var_mean(a, 1)[0] * lib.torch.std_mean(a, 0)[1].sum(), (3, 4)),
    "matrix_norms": (lambda lib, a: lib.torch.linalg.norm(a, "fro") * lib.torch.linalg.matrix_norm(a, 1)
                     + lib.torch.linalg.matrix_norm(a, float("inf")), (3, 4)),
    "clamp_forms": (lambda lib, a: a.clamp_min(0.1) * a.clamp_max(0.2) + a.clamp(min=lib.torch.zeros(4, dtype=a.dtype)),
                    (3, 4)),
    "where_mixed": (lambda lib, a: lib.torch.where(a > 0, a * a.sum(), a.exp()), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_ops(name):
    fn, shape = COMPOSITES[name]
    derivatives_match(fn, rand(*shape), order=3)


@pytest.mark.parametrize("fn", [lambda a: a.exp(), lambda a: a.abs(), lambda a: a.clamp(-0.5, 0.5),
                                lambda a: a ** 2.5, lambda a: cnnlab.maximum(a, a * 0.5), lambda a: a.var(1),
                                lambda a: a.std(), lambda a: a.logsumexp(1), lambda a: a.norm(dim=1),
                                lambda a: a.norm(p=3), lambda a: a.prod(1), lambda a: a.cumprod(1),
                                lambda a: a.logcumsumexp(1), lambda a: a @ a.t(), lambda a: a.amax(1),
                                lambda a: cnnlab.einsum("ij,kj->ik", a, a), lambda a: cnnlab.erf(a),
                                lambda a: cnnlab.atan2(a, a + 2), lambda a: cnnlab.where(a > 0, a, a * a),
                                lambda a: cnnlab.nn.functional.linear(a, a, a[:, 0])])
def test_float32_stays_float32(fn):
    # the formulas' constants take the gradient's dtype: no float64 promotion on the way (the engine would cast
    # the result back, and the cast would be g's last node)
    x = cnnlab.tensor(rand(3, 4).astype(np.float32), requires_grad=True)
    y = fn(x)
    (g,) = cnnlab.autograd.grad((y * y).sum(), x, create_graph=True)
    (h,) = cnnlab.autograd.grad((g * g).sum(), x, create_graph=True)
    assert "ToCopy" not in g.grad_fn.name() and "ToCopy" not in h.grad_fn.name()
