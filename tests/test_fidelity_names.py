"""Issue 19, item 5: the missing names, against PyTorch (values, gradients with a random upstream gradient in
float64; the oracle also runs each on 0-d inputs and with inputs used twice)."""
import numpy as np
import pytest

import cnnlab
from oracle import check, rand

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name,low,high", [("exp2", -3, 3), ("asinh", -3, 3), ("acosh", 1.1, 4), ("atanh", -0.9, 0.9),
                                           ("arcsinh", -2, 2)])
def test_unary_math(name, low, high):
    x = rand(3, 4, seed=1, low=low, high=high)
    check(lambda lib, x: getattr(lib.torch, name)(x), x)
    check(lambda lib, x: getattr(x, name)(), x)


def test_inverse_hyperbolic_out_of_domain_like_torch():
    check(lambda lib, x: (lib.torch.acosh(x), lib.torch.atanh(x)), np.array([0.5, 1.0, -1.0, 2.0]), grad=[False])


def test_copysign():
    a, b = rand(3, 4, seed=2), rand(3, 4, seed=3)
    a[0, 0] = 0.0
    # second order: cnnlab's is 0 (the sign flip is a step), torch's is round-off (1e-16) and nan at a = 0;
    # compared with a tolerance in tests/test_double_math.py::test_copysign
    check(lambda lib, a, b: lib.torch.copysign(a, b), a, b, second_order=False)
    check(lambda lib, a, b: a.copysign(b[0]), a, b, second_order=False)
    check(lambda lib, a: lib.torch.copysign(a, -1.0), a, second_order=False)
    check(lambda lib, a, b: lib.torch.copysign(a, b), np.array([1, -2, 3]), np.array([-1, 1, -1]))


@pytest.mark.parametrize("op", ["<<", ">>"])
def test_bit_shifts(op):
    a = np.array([[1, -8, 7, 0], [3, 5, -1, 2]], dtype=np.int64)
    s = np.array([[0, 2, 1, 3], [1, 63, 4, 2]], dtype=np.int64)
    for lib_a, lib_s, ta, ts in [(cnnlab.tensor(a), cnnlab.tensor(s), torch.tensor(a), torch.tensor(s))]:
        got = lib_a << lib_s if op == "<<" else lib_a >> lib_s
        want = ta << ts if op == "<<" else ta >> ts
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        name = "bitwise_left_shift" if op == "<<" else "bitwise_right_shift"
        np.testing.assert_array_equal(getattr(cnnlab, name)(lib_a, 2).numpy(), getattr(torch, name)(ta, 2).numpy())
        np.testing.assert_array_equal((lib_a << 1 if op == "<<" else lib_a >> 1).numpy(),
                                      (ta << 1 if op == "<<" else ta >> 1).numpy())
    with pytest.raises(TypeError, match="expects integer tensors"):
        cnnlab.ones(2) << 1


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod(dim):
    x = rand(4, 5, seed=4, low=0.5, high=1.5)
    check(lambda lib, x: lib.torch.cumprod(x, dim), x)
    x[1, 2] = 0.0  # zeros: the first zero of a row gets its exact gradient
    x[3, 0] = 0.0
    x[3, 3] = 0.0
    check(lambda lib, x: x.cumprod(dim), x)
    check(lambda lib, x: lib.torch.cumprod(x, 0), np.array([2, 3, 4]))


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1])
def test_cummax_cummin(name, dim):
    x = np.round(rand(4, 5, seed=5) * 3)  # ties
    check(lambda lib, x: tuple(getattr(lib.torch, name)(x, dim)), x)
    out = getattr(cnnlab.tensor(x), name)(dim)
    assert out.values.shape == out.indices.shape == (4, 5)


@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp(dim):
    check(lambda lib, x: lib.torch.logcumsumexp(x, dim), rand(3, 6, seed=6, low=-5, high=5))
    check(lambda lib, x: x.logcumsumexp(dim), rand(3, 6, seed=7, low=-5, high=5) * 200)  # no overflow


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"}, {"mask": "float"}])
def test_scaled_dot_product_attention(kw):
    q, k, v = rand(2, 3, 4, 5, seed=8), rand(2, 3, 6, 5, seed=9), rand(2, 3, 6, 7, seed=10)
    kw = dict(kw)
    mask = kw.pop("mask", None)
    if mask == "bool":
        m = np.random.default_rng(11).random((4, 6)) < 0.7
        m[:, 0] = True  # every query attends somewhere (an all-False row is nan in both)
        check(lambda lib, q, k, v, m: lib.F.scaled_dot_product_attention(q, k, v, attn_mask=m), q, k, v, m,
              grad=[True, True, True, False], variants=False)
    elif mask == "float":
        check(lambda lib, q, k, v, m: lib.F.scaled_dot_product_attention(q, k, v, attn_mask=m), q, k, v,
              rand(4, 6, seed=12), variants=False)
    else:
        check(lambda lib, q, k, v: lib.F.scaled_dot_product_attention(q, k, v, **kw), q, k, v, variants=False)


def test_scaled_dot_product_attention_gqa():
    q, k, v = rand(1, 4, 3, 5, seed=8), rand(1, 2, 6, 5, seed=9), rand(1, 2, 6, 5, seed=10)
    check(lambda lib, q, k, v: lib.F.scaled_dot_product_attention(q, k, v, enable_gqa=True), q, k, v,
          variants=False)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce(reduce, include_self, dim):
    index = np.array([[0, 2, 0], [2, 2, 0]]) if dim == 1 else np.array([[0, 1, 0, 1], [0, 0, 2, 1]])
    x, src = rand(3, 4, seed=13, low=0.5, high=2), rand(*index.shape, seed=14, low=0.5, high=2)
    check(lambda lib, x, i, s: lib.torch.scatter_reduce(x, dim, i, s, reduce, include_self=include_self),
          x, index, src, variants=False)
    check(lambda lib, x, i, s: x.scatter_reduce(dim, i, s, reduce=reduce, include_self=include_self),
          np.round(x * 2), index, np.round(src * 2), variants=False)  # ties: amax/amin split the gradient
