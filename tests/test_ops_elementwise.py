"""Elementwise ops against PyTorch: arithmetic with broadcasting both ways, unary math, matmul, comparisons,
dtype promotion, finite-difference gradients and float32 results."""
import operator

import numpy as np
import pytest

import cnnlab
from oracle import check, check_float32, gradcheck, rand

torch = pytest.importorskip("torch")

# (shape_a, shape_b): equal, broadcasting from either side, 0-d and 1-d operands
SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1)),
               ((), (3,)), ((3,), ()), ((), ()), ((1,), (5,)), ((2, 3, 4), (2, 1, 4)), ((1, 3, 1), (2, 1, 5))]

POSITIVE = dict(low=0.5, high=2.0)

BINARY = {
    "add": (lambda lib, a, b: a + b, {}),
    "sub": (lambda lib, a, b: a - b, {}),
    "mul": (lambda lib, a, b: a * b, {}),
    "div": (lambda lib, a, b: a / b, POSITIVE),
    "pow": (lambda lib, a, b: a ** b, POSITIVE),
    "maximum": (lambda lib, a, b: lib.torch.maximum(a, b), {}),
    "minimum": (lambda lib, a, b: lib.torch.minimum(a, b), {}),
    "add_alpha": (lambda lib, a, b: lib.torch.add(a, b, alpha=2.5), {}),
    "sub_alpha": (lambda lib, a, b: lib.torch.sub(a, b, alpha=-0.5), {}),
    "remainder": (lambda lib, a, b: lib.torch.remainder(a, b), POSITIVE),
}


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting_matches_torch(name, shapes):
    fn, dom = BINARY[name]
    a = rand(*shapes[0], seed=1, **dom) if name != "pow" else rand(*shapes[0], seed=1, **POSITIVE)
    b = rand(*shapes[1], seed=2, **dom) if name != "pow" else rand(*shapes[1], seed=2, low=-2.0, high=2.0)
    if name in ("maximum", "minimum") and a.size > 1 and b.size > 1:
        a.reshape(-1)[0] = b.reshape(-1)[0]  # one tie: the gradient splits evenly in both libraries
    check(fn, a, b)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x + 2.5, lambda lib, x: 2.5 + x, lambda lib, x: x - 3, lambda lib, x: 3 - x,
    lambda lib, x: x * -1.5, lambda lib, x: 2 * x, lambda lib, x: x / 4, lambda lib, x: 2.0 / x,
    lambda lib, x: x ** 2, lambda lib, x: x ** 3, lambda lib, x: x ** 0.5, lambda lib, x: x ** -1,
    lambda lib, x: x ** 0, lambda lib, x: 2.0 ** x, lambda lib, x: -x, lambda lib, x: +x,
    lambda lib, x: x % 0.3, lambda lib, x: lib.torch.pow(x, 2), lambda lib, x: x.pow(1.5),
])
def test_tensor_with_python_number(fn):
    check(fn, rand(3, 4, seed=3, **POSITIVE))


UNARY = {
    "exp": (lambda lib, x: lib.torch.exp(x), {}),
    "log": (lambda lib, x: lib.torch.log(x), POSITIVE),
    "log1p": (lambda lib, x: x.log1p(), POSITIVE),
    "log2": (lambda lib, x: x.log2(), POSITIVE),
    "log10": (lambda lib, x: x.log10(), POSITIVE),
    "expm1": (lambda lib, x: x.expm1(), {}),
    "sqrt": (lambda lib, x: lib.torch.sqrt(x), POSITIVE),
    "rsqrt": (lambda lib, x: x.rsqrt(), POSITIVE),
    "abs": (lambda lib, x: lib.torch.abs(x), {}),
    "abs_op": (lambda lib, x: abs(x), {}),
    "neg": (lambda lib, x: lib.torch.neg(x), {}),
    "square": (lambda lib, x: x.square(), {}),
    "reciprocal": (lambda lib, x: x.reciprocal(), POSITIVE),
    "sin": (lambda lib, x: x.sin(), {}),
    "cos": (lambda lib, x: x.cos(), {}),
    "sign": (lambda lib, x: x.sign(), {}),
    "floor": (lambda lib, x: (x * 3).floor(), {}),
    "ceil": (lambda lib, x: (x * 3).ceil(), {}),
    "round": (lambda lib, x: (x * 3).round(), {}),
    "round_decimals": (lambda lib, x: (x * 3).round(decimals=2), {}),
    "trunc": (lambda lib, x: (x * 3).trunc(), {}),
    "clamp_both": (lambda lib, x: x.clamp(-0.3, 0.4), {}),
    "clamp_min": (lambda lib, x: lib.torch.clamp(x, min=0.1), {}),
    "clamp_max": (lambda lib, x: x.clamp(max=-0.2), {}),
    "clamp_crossed": (lambda lib, x: x.clamp(0.5, -0.5), {}),
    "clip": (lambda lib, x: x.clip(-0.5, 0.5), {}),
}


@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, shape):
    fn, dom = UNARY[name]
    check(fn, rand(*shape, seed=4, **dom))


def test_clamp_gradient_passes_at_the_bounds():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    check(lambda lib, x: x.clamp(-0.5, 0.5), x)


def test_abs_gradient_at_zero_matches_torch():
    check(lambda lib, x: x.abs(), np.array([-1.0, 0.0, 2.0]))


def test_pow_special_points_match_torch():
    # 0 ** 0 (gradient of base is 0 there), 0 ** 2, and a tensor exponent on a zero base
    # second order at a zero base: torch's is nan, cnnlab's the limit (tests/test_double_math.py)
    check(lambda lib, a, b: a ** b, np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 0.0, 1.0]), second_order=False)
    check(lambda lib, x: x ** 0, np.array([0.0, 1.5]))


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)),
                                    ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (6, 4, 2)), ((3, 4), (2, 4, 1)),
                                    ((1, 4), (4, 1)), ((2, 3, 4), (4,))], ids=str)
def test_matmul_shapes_match_torch(shapes):
    check(lambda lib, a, b: a @ b, rand(*shapes[0], seed=5), rand(*shapes[1], seed=6))
    check(lambda lib, a, b: lib.torch.matmul(a, b), rand(*shapes[0], seed=7), rand(*shapes[1], seed=8))


def test_mm_bmm_dot_outer_match_torch():
    check(lambda lib, a, b: lib.torch.mm(a, b), rand(3, 4, seed=1), rand(4, 2, seed=2))
    check(lambda lib, a, b: lib.torch.bmm(a, b), rand(2, 3, 4, seed=1), rand(2, 4, 2, seed=2))
    check(lambda lib, a, b: lib.torch.dot(a, b), rand(5, seed=1), rand(5, seed=2))
    check(lambda lib, a, b: lib.torch.outer(a, b), rand(3, seed=1), rand(4, seed=2))


def test_matmul_gradient_of_one_side_only():
    check(lambda lib, a, b: a @ b, rand(3, 4, seed=1), rand(4, 2, seed=2), grad=[True, False])
    check(lambda lib, a, b: a @ b, rand(3, 4, seed=1), rand(4, 2, seed=2), grad=[False, True])


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), (3, 4)), ((4,), (3, 4), ()),
                                    ((2, 3, 1), (3, 4), (1,))], ids=str)
def test_where_matches_torch(shapes):
    cond = rand(*shapes[0], seed=9) > 0
    check(lambda lib, c, a, b: lib.torch.where(c, a, b), cond, rand(*shapes[1], seed=1), rand(*shapes[2], seed=2))


def test_where_with_python_numbers_keeps_the_tensor_dtype():
    cond = rand(3, 4, seed=9) > 0
    check(lambda lib, c, a: lib.torch.where(c, a, 0.0), cond, rand(3, 4, seed=1))
    check_float32(lambda lib, c, a: lib.torch.where(c, 1.5, a), cond, rand(3, 4, seed=1))


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), ()), ((), (2, 2))], ids=str)
def test_comparisons_give_bool_like_torch(op, shapes):
    a = np.asarray(np.round(rand(*shapes[0], seed=1) * 2) / 2)  # coarse values, so some are equal
    b = np.asarray(np.round(rand(*shapes[1], seed=2) * 2) / 2)
    check(lambda lib, x, y: getattr(operator, op)(x, y), a, b)
    check(lambda lib, x: getattr(operator, op)(x, 0.5), a)
    check(lambda lib, x: getattr(operator, op)(0.5, x), a)
    check(lambda lib, x, y: getattr(lib.torch, op)(x, y), a, b)


def test_logical_and_bitwise_ops_match_torch():
    a, b = rand(3, 4, seed=1) > 0, rand(3, 4, seed=2) > 0
    for fn in (lambda lib, x, y: x & y, lambda lib, x, y: x | y, lambda lib, x, y: x ^ y,
               lambda lib, x, y: ~x, lambda lib, x, y: lib.torch.logical_and(x, y),
               lambda lib, x, y: lib.torch.logical_or(x, y), lambda lib, x, y: lib.torch.logical_not(x),
               lambda lib, x, y: lib.torch.logical_xor(x, y)):
        check(fn, a, b)
    ints = np.array([1, 2, 3, 12]), np.array([3, 6, 1, 10])
    for fn in (lambda lib, x, y: x & y, lambda lib, x, y: x | y, lambda lib, x, y: x ^ y, lambda lib, x, y: ~x,
               lambda lib, x, y: x & 1):
        check(fn, *ints)


def test_floor_division_and_rounding_modes_match_torch():
    a, b = np.array([7.0, -7.5, 3.0, -2.0]), np.array([2.0, 2.0, -4.0, 3.0])
    check(lambda lib, x, y: x // y, a, b, grad=[False, False])
    check(lambda lib, x, y: lib.torch.div(x, y, rounding_mode="trunc"), a, b, grad=[False, False])
    check(lambda lib, x, y: lib.torch.div(x, y, rounding_mode="floor"), a, b, grad=[False, False])
    ia, ib = np.array([7, -7, 3, -2]), np.array([2, 2, -4, 3])
    for fn in (lambda lib, x, y: x // y, lambda lib, x, y: x % y, lambda lib, x, y: x / y,
               lambda lib, x, y: lib.torch.div(x, y, rounding_mode="trunc")):
        check(fn, ia, ib)


@pytest.mark.parametrize("fn", [lambda lib, x: x.isnan(), lambda lib, x: x.isinf(), lambda lib, x: x.isfinite()])
def test_nan_inf_predicates(fn):
    check(fn, np.array([1.0, np.nan, np.inf, -np.inf, 0.0]))


def test_rounding_ops_keep_integer_dtypes():
    ints = np.array([-2, 0, 3])
    for fn in (lambda lib, x: x.floor(), lambda lib, x: x.ceil(), lambda lib, x: x.round(), lambda lib, x: x.abs(),
               lambda lib, x: -x, lambda lib, x: x.sign(), lambda lib, x: x.square(), lambda lib, x: x.clamp(0, 2),
               lambda lib, x: x.trunc()):
        check(fn, ints)


def test_int_tensor_into_float_math_becomes_float32():
    ints = np.array([1, 2, 3])
    for fn in (lambda lib, x: x.exp(), lambda lib, x: x.sqrt(), lambda lib, x: x.log(), lambda lib, x: x.sin(),
               lambda lib, x: x.clamp(min=1.5), lambda lib, x: x ** 0.5, lambda lib, x: x ** 2):
        check(fn, ints, rtol=1e-6)


# ---- dtype promotion, against torch's own answer ------------------------------------------------------------
def _both(make):
    return make(cnnlab), make(torch)


PROMOTIONS = [
    ("int * 2.5", lambda L: L.tensor([1, 2]) * 2.5),
    ("int / int", lambda L: L.tensor([1, 2]) / L.tensor([2, 4])),
    ("int / 2", lambda L: L.tensor([1, 2]) / 2),
    ("float32 + float64", lambda L: L.ones(2) + L.ones(2, dtype=L.float64)),
    ("float32 + 2.5", lambda L: L.ones(2) + 2.5),
    ("float64 + 2.5", lambda L: L.ones(2, dtype=L.float64) + 2.5),
    ("int32 * 2", lambda L: L.ones(2, dtype=L.int32) * 2),
    ("int32 + int64", lambda L: L.ones(2, dtype=L.int32) + L.ones(2, dtype=L.int64)),
    ("bool + bool", lambda L: L.tensor([True]) + L.tensor([False])),
    ("bool + 1", lambda L: L.tensor([True]) + 1),
    ("bool * 2.5", lambda L: L.tensor([True]) * 2.5),
    ("bool + int", lambda L: L.tensor([True]) + L.tensor([3])),
    ("uint8 + int8", lambda L: L.ones(2, dtype=L.uint8) + L.ones(2, dtype=L.int8)),
    ("float32 * float64 0-d", lambda L: L.ones(2) * L.tensor(2.0, dtype=L.float64)),
    ("int * float64 0-d", lambda L: L.tensor([1, 2]) * L.tensor(2.0, dtype=L.float64)),
    ("int32 * int64 0-d", lambda L: L.ones(2, dtype=L.int32) * L.tensor(2)),
    ("0-d float32 + 0-d float64", lambda L: L.tensor(1.0) + L.tensor(2.0, dtype=L.float64)),
    ("float16 * float64 0-d", lambda L: L.ones(2, dtype=L.float16) * L.tensor(2.0, dtype=L.float64)),
    ("comparison", lambda L: L.ones(2) < 2),
    ("sum of bool", lambda L: L.tensor([True, True, False]).sum()),
    ("sum of int32", lambda L: L.ones(3, dtype=L.int32).sum()),
    ("sum of int64 dim", lambda L: L.ones(2, 3, dtype=L.int64).sum(1)),
    ("pow int ** int", lambda L: L.tensor([2, 3]) ** 2),
    ("pow int ** float", lambda L: L.tensor([2, 3]) ** 0.5),
    ("2 ** int tensor", lambda L: 2 ** L.tensor([2, 3])),
    ("float32 matmul", lambda L: L.ones(2, 3) @ L.ones(3)),
    ("where float32/0.0", lambda L: L.where(L.tensor([True, False]), L.ones(2), 0.0)),
    ("maximum int/float", lambda L: L.maximum(L.tensor([1, 5]), L.tensor([2.5, 0.5]))),
    ("cat int/float", lambda L: L.cat([L.tensor([1]), L.tensor([2.5])])),
    ("mean float64", lambda L: L.ones(2, dtype=L.float64).mean()),
    ("abs int", lambda L: L.tensor([-1, 2]).abs()),
    ("neg int32", lambda L: -L.ones(2, dtype=L.int32)),
]


@pytest.mark.parametrize("name,make", PROMOTIONS, ids=[p[0] for p in PROMOTIONS])
def test_dtype_promotion_matches_torch(name, make):
    c, p = _both(make)
    assert str(c.dtype).split(".")[-1] == str(p.dtype).split(".")[-1]
    np.testing.assert_allclose(c.numpy().astype(np.float64), p.numpy().astype(np.float64))


def test_augmented_assignment_keeps_dtype_and_identity():
    x = cnnlab.ones(3)
    x_id = id(x)
    x += 1
    x *= 2.5
    x -= cnnlab.ones(3, dtype=cnnlab.float64)
    x /= 2
    assert id(x) == x_id and x.dtype == cnnlab.float32
    np.testing.assert_allclose(x.numpy(), [2.0, 2.0, 2.0])
    n = cnnlab.zeros(2, dtype=cnnlab.int64)
    n += 3
    assert n.tolist() == [3, 3] and n.dtype == cnnlab.int64
    with pytest.raises(cnnlab.DTypeError, match=r"\+=: the result dtype cnnlab.float32 cannot be stored"):
        n += 1.5
    with pytest.raises(RuntimeError):  # PyTorch raises RuntimeError for the same
        torch.zeros(2, dtype=torch.int64).__iadd__(1.5)


# ---- gradients by finite differences (no PyTorch) -------------------------------------------------------------
@pytest.mark.parametrize("fn,arrays", [
    (lambda a, b: a * b + a / b, (rand(2, 3, seed=1), rand(3, seed=2, **POSITIVE))),
    (lambda a, b: a ** b, (rand(2, 3, seed=1, **POSITIVE), rand(2, 1, seed=2))),
    (lambda a, b: a @ b, (rand(2, 3, 4, seed=1), rand(4, 2, seed=2))),
    (lambda a: (a.exp() + a.sin() * a.cos()).sqrt(), (rand(3, 2, seed=3, **POSITIVE),)),
    (lambda a: a.log() * a.rsqrt() - a.reciprocal(), (rand(4, seed=4, **POSITIVE),)),
    (lambda a, b: cnnlab.maximum(a, b) - cnnlab.minimum(a, b) * 2, (rand(3, 3, seed=5), rand(3, seed=6))),
    (lambda c, a, b: cnnlab.where(c, a, b * 2), (rand(3, 4, seed=1) > 0, rand(4, seed=2), rand(3, 1, seed=3))),
])
def test_gradcheck_elementwise(fn, arrays):
    gradcheck(fn, *arrays)


# ---- float32 stays float32 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda lib, a, b: a + b * 2.5 - 1, lambda lib, a, b: a / (b.abs() + 1) ** 2, lambda lib, a, b: a @ b.t(),
    lambda lib, a, b: lib.torch.maximum(a, b), lambda lib, a, b: lib.torch.minimum(a, b) * 0.5,
    lambda lib, a, b: (a.abs() + 0.5).log().exp().sqrt().rsqrt(), lambda lib, a, b: a.clamp(-0.2, 0.3),
    lambda lib, a, b: lib.torch.where(a > b, a, 0.0), lambda lib, a, b: (a.abs() + 0.1) ** b,
    lambda lib, a, b: 2.0 ** a, lambda lib, a, b: a.abs().log2() + a.expm1(),
])
def test_float32_results_stay_float32(fn):
    a, b = rand(3, 4, seed=1), rand(3, 4, seed=2)
    a.reshape(-1)[0] = b.reshape(-1)[0]
    check_float32(fn, a, b)


# ---- errors -----------------------------------------------------------------------------------------------
def test_broadcast_error_names_both_shapes():
    with pytest.raises(cnnlab.ShapeError, match=r"mul: the shapes cannot be broadcast together .* Got shapes "
                                                 r"\(3, 4\) and \(3,\)\."):
        cnnlab.ones(3, 4) * cnnlab.ones(3)
    with pytest.raises(RuntimeError):  # the same exception family as PyTorch's
        cnnlab.ones(3, 4) + cnnlab.ones(2, 4)
    with pytest.raises(RuntimeError):
        torch.ones(3, 4) + torch.ones(2, 4)


def test_matmul_errors():
    with pytest.raises(cnnlab.ShapeError, match=r"matmul: the inner dimensions must match .* Got "
                                                 r"input.shape=\(3, 4\), other.shape=\(5, 2\)\."):
        cnnlab.ones(3, 4) @ cnnlab.ones(5, 2)
    with pytest.raises(ValueError, match=r"matmul: the batch dimensions cannot be broadcast"):
        cnnlab.ones(2, 3, 4) @ cnnlab.ones(3, 4, 2)
    with pytest.raises(cnnlab.ShapeError, match=r"matmul: both arguments need at least 1 dimension"):
        cnnlab.ones(3) @ cnnlab.tensor(2.0)
    with pytest.raises(cnnlab.ShapeError, match=r"dot: expects two 1-D tensors of the same length"):
        cnnlab.dot(cnnlab.ones(3), cnnlab.ones(4))


def test_operand_type_errors():
    with pytest.raises(TypeError, match=r"add: other must be a tensor or a number. Got str."):
        cnnlab.ones(2) + "a"
    with pytest.raises(TypeError, match=r"bitwise_and: expects integer or bool tensors"):
        cnnlab.ones(2) & cnnlab.ones(2)
    with pytest.raises(ValueError, match=r"pow: integers cannot be raised to negative integer powers"):
        cnnlab.tensor([2, 3]) ** -1
    with pytest.raises(ValueError, match=r"clamp: at least one of min and max must be given"):
        cnnlab.ones(2).clamp()
    with pytest.raises(TypeError, match=r"where: condition must be a bool tensor"):
        cnnlab.where(cnnlab.ones(2), cnnlab.ones(2), 0.0)
    with pytest.raises(cnnlab.ShapeError, match=r"where: condition, input and other cannot be broadcast"):
        cnnlab.where(cnnlab.ones(3) > 0, cnnlab.ones(2), 0.0)


def test_equality_with_none_is_false_like_torch():
    x = cnnlab.ones(2)
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert x not in [None, "a"]


def test_where_with_two_python_numbers_like_torch():
    cond = rand(2, 3, seed=9) > 0
    check(lambda lib, c: lib.torch.where(c, 1.0, 0.0), cond)
    check(lambda lib, c: lib.torch.where(c, 1, 0), cond)


def test_integer_division_by_zero_raises_like_torch():
    with pytest.raises(cnnlab.ShapeError, match=r"div: integer division by zero"):
        cnnlab.tensor([1, 2]) // cnnlab.tensor([0, 1])
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]) // torch.tensor([0, 1])
    with pytest.raises(cnnlab.ShapeError, match=r"remainder: integer division by zero"):
        cnnlab.tensor([1, 2]) % 0
    check(lambda lib, x: x / 0.0, np.array([1.0, -1.0]), grad=[False])  # floats give inf, as in torch


@pytest.mark.parametrize("shapes", [((3, 4), (4,), (3, 1)), ((3, 4), (), (4,)), ((2, 3), (2, 3), (2, 3))], ids=str)
@pytest.mark.parametrize("crossed", [False, True])
def test_clamp_with_tensor_bounds_gives_them_gradients_like_torch(shapes, crossed):
    lo = np.asarray(rand(*shapes[1], seed=2) + (0.5 if crossed else -0.3))
    hi = np.asarray(rand(*shapes[2], seed=3) + (-0.5 if crossed else 0.3))
    check(lambda lib, x, lo, hi: x.clamp(lo, hi), rand(*shapes[0], seed=1), lo, hi)
    check(lambda lib, x, lo: lib.torch.clamp(x, min=lo), rand(*shapes[0], seed=1), lo)
    check(lambda lib, x, hi: lib.torch.clamp(x, max=hi), rand(*shapes[0], seed=1), hi)


def test_isclose_and_equal_like_torch():
    a = rand(3, 4, seed=1)
    b = a + np.where(rand(3, 4, seed=2) > 0, 1e-9, 1e-3)
    check(lambda lib, x, y: lib.torch.isclose(x, y), a, b, grad=[False, False])
    check(lambda lib, x, y: x.isclose(y, rtol=0, atol=1e-6), a, b, grad=[False, False])
    assert cnnlab.equal(cnnlab.tensor(a), cnnlab.tensor(a)) and not cnnlab.equal(cnnlab.tensor(a), cnnlab.tensor(b))
    assert not cnnlab.tensor(a).equal(cnnlab.tensor(a[:2]))
