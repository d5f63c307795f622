"""Activations and softmax against PyTorch: values, dtypes, gradients (also at the kinks), options, stability."""
import math
import warnings

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.nn.functional.activation import erf, erfc
from oracle import check, check_float32, gradcheck, rand

# name -> fn(lib, x); each is checked on random data, at its kinks, in float32 and by finite differences
POINTWISE = {
    "relu": lambda lib, x: lib.F.relu(x),
    "relu6": lambda lib, x: lib.F.relu6(x),
    "leaky_relu": lambda lib, x: lib.F.leaky_relu(x),
    "leaky_relu_0.2": lambda lib, x: lib.F.leaky_relu(x, 0.2),
    "leaky_relu_neg": lambda lib, x: lib.F.leaky_relu(x, negative_slope=-0.5),
    "elu": lambda lib, x: lib.F.elu(x),
    "elu_0.5": lambda lib, x: lib.F.elu(x, alpha=0.5),
    "elu_2": lambda lib, x: lib.F.elu(x, 2.0),
    "selu": lambda lib, x: lib.F.selu(x),
    "celu": lambda lib, x: lib.F.celu(x),
    "celu_0.7": lambda lib, x: lib.F.celu(x, alpha=0.7),
    "gelu": lambda lib, x: lib.F.gelu(x),
    "gelu_tanh": lambda lib, x: lib.F.gelu(x, approximate="tanh"),
    "sigmoid": lambda lib, x: lib.F.sigmoid(x),
    "torch_sigmoid": lambda lib, x: lib.torch.sigmoid(x),
    "tanh": lambda lib, x: lib.F.tanh(x),
    "silu": lambda lib, x: lib.F.silu(x),
    "mish": lambda lib, x: lib.F.mish(x),
    "softplus": lambda lib, x: lib.F.softplus(x),
    "softplus_beta2": lambda lib, x: lib.F.softplus(x, beta=2.0, threshold=3.0),
    "softplus_beta0.5": lambda lib, x: lib.F.softplus(x, 0.5, 1.0),
    "hardtanh": lambda lib, x: lib.F.hardtanh(x),
    "hardtanh_wide": lambda lib, x: lib.F.hardtanh(x, -2.5, 0.5),
    "hardsigmoid": lambda lib, x: lib.F.hardsigmoid(x),
    "hardswish": lambda lib, x: lib.F.hardswish(x),
    "softsign": lambda lib, x: lib.F.softsign(x),
    "logsigmoid": lambda lib, x: lib.F.logsigmoid(x),
    "threshold": lambda lib, x: lib.F.threshold(x, 0.5, -2.0),
}

SHAPES = [(7,), (1, 5), (3, 4), (2, 3, 5), (1, 3, 4, 2)]
# every kink and switch point of the functions above (0, +-1, +-3, 6, 0.5, -2.5, softplus thresholds)
KINKS = np.array([-6.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0, 6.0, 7.0, 20.0, 21.0, -20.0])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_matches_torch(name, shape):
    check(POINTWISE[name], rand(*shape, seed=len(shape), low=-8, high=8))


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_gradient_at_kinks(name):
    # hardsigmoid: torch has no second order and finite differences cannot check a kink; test_double_activation.py
    # checks it against torch's relu6(x + 3) / 6
    check(POINTWISE[name], KINKS.copy(), second_order=False if name == "hardsigmoid" else None)


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_float32(name):
    out = check_float32(POINTWISE[name], rand(3, 17, seed=5, low=-8, high=8))
    assert out[0].dtype == np.float32


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_gradcheck(name):
    x = rand(2, 5, seed=9, low=-4, high=4)
    x[np.abs(x) < 0.05] += 0.2  # keep finite differences off the kinks
    gradcheck(lambda t: POINTWISE[name](_CN, t), x)


class _CN:  # the cnnlab side of the POINTWISE lambdas, for gradcheck
    torch, F = cnnlab, F


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_zero_dim_and_empty(name):
    check(POINTWISE[name], np.array(0.75))
    check(POINTWISE[name], np.zeros((0, 3)))


# ---- exact GELU and erf ----------------------------------------------------------------------------------
def test_gelu_exact_matches_torch_tightly():
    x = np.concatenate([np.linspace(-12, 12, 2001), rand(500, seed=3, low=-1e-3, high=1e-3), [-40.0, 40.0]])
    check(lambda lib, x: lib.F.gelu(x), x, rtol=1e-10, atol=1e-14)


def test_erf_erfc_match_torch_and_mpmath():
    x = np.concatenate([np.linspace(-8, 8, 4001), np.geomspace(1e-300, 1.0, 200), -np.geomspace(1e-12, 1.0, 50),
                        np.linspace(6.0, 26.0, 200), [0.0]])
    np.testing.assert_allclose(erf(x), torch.special.erf(torch.tensor(x)).numpy(), rtol=1e-10, atol=0)
    tail = x[x < 26]
    np.testing.assert_allclose(erfc(tail), torch.special.erfc(torch.tensor(tail)).numpy(), rtol=1e-10, atol=0)
    mpmath = pytest.importorskip("mpmath")
    pts = np.concatenate([np.linspace(-6, 26.5, 326), [1e-200, -1e-5, 0.999, 1.0, 1.001, 3.5, 6.0, 12.0, 26.5]])
    for v in pts:  # erfc(26.5) ~ 1e-306 is still a normal float64, so relative accuracy is expected
        want_c = float(mpmath.erfc(v))
        assert abs(float(erfc(np.array(v))) - want_c) <= 2e-14 * want_c, v
        want = float(mpmath.erf(v))
        assert abs(float(erf(np.array(v))) - want) <= 5e-15 * abs(want), v


def test_erf_special_values_and_shapes():
    np.testing.assert_array_equal(erf(np.array([np.inf, -np.inf, 0.0])), [1.0, -1.0, 0.0])
    np.testing.assert_array_equal(erfc(np.array([np.inf, -np.inf, 30.0])), [0.0, 2.0, 0.0])
    assert np.isnan(erf(np.array([np.nan]))).all() and np.isnan(erfc(np.array([np.nan]))).all()
    assert erf(np.ones((2, 0, 3))).shape == (2, 0, 3)
    assert erf(np.array(0.3)).shape == ()
    x = rand(4, 5, 6, seed=2, low=-5, high=5)
    np.testing.assert_array_equal(erf(x), erf(x.ravel()).reshape(x.shape))


# ---- numerical stability ----------------------------------------------------------------------------------
EXTREME = np.array([-1e4, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e4])


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "softplus_beta2", "logsigmoid", "silu", "mish", "tanh",
                                  "elu", "selu", "celu", "gelu", "gelu_tanh", "softsign"])
def test_extreme_inputs_finite_and_match_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow warnings from NumPy either
        # mish: torch's second derivative is NaN at 800 and 1e4, cnnlab's 0 (test_double_activation.py)
        out, grads = check(POINTWISE[name], EXTREME.copy(), second_order=False if name == "mish" else None)
    assert np.isfinite(out[0]).all() and np.isfinite(grads[0]).all()


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_softmax_huge_logits(fn):
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4, -1e4, -1e4], [5e3, 1e4, -5e3, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out, grads = check(lambda lib, x: getattr(lib.F, fn)(x, dim=1), x)
    assert np.isfinite(out[0]).all() and np.isfinite(grads[0]).all()


def test_softmax_row_of_minus_inf_is_nan_like_torch():
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    ours = F.softmax(cnnlab.tensor(x), 1).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(torch.softmax(torch.tensor(x), 1).numpy()))
    assert ours[1].tolist() == [1.0, 0.0]


# ---- softmax family ---------------------------------------------------------------------------------------
SOFTMAX_CASES = [((6,), 0), ((1, 5), 1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 5), 1), ((2, 3, 5), 2),
                 ((2, 3, 4, 5), 1), ((2, 3, 4, 5), -2), ((1, 1, 3), 0)]


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
def test_softmax_family_matches_torch(fn, shape, dim):
    x = rand(*shape, seed=sum(shape), low=-5, high=5)
    check(lambda lib, x: getattr(lib.F, fn)(x, dim), x)
    check_float32(lambda lib, x: getattr(lib.F, fn)(x, dim=dim), x)
    gradcheck(lambda t: getattr(F, fn)(t, dim=dim), x)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_softmax_dtype_argument(fn):
    x = rand(3, 4, seed=4).astype(np.float32)
    out, grads = check(lambda lib, x: getattr(lib.F, fn)(x, 1, dtype=lib.torch.float64), x)
    assert out[0].dtype == np.float64 and grads[0].dtype == np.float32
    ints = np.arange(6).reshape(2, 3)
    check(lambda lib, x: getattr(lib.F, fn)(x, dim=1, dtype=lib.torch.float32), ints, rtol=1e-6)  # float32


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,implicit", [((), 0), ((5,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)])
def test_softmax_implicit_dim_warns_and_follows_legacy_rule(fn, shape, implicit):
    x = rand(*shape, seed=1)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {fn} has been deprecated"):
        ours = getattr(F, fn)(cnnlab.tensor(x))
    np.testing.assert_allclose(ours.numpy(), getattr(F, fn)(cnnlab.tensor(x), dim=implicit).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x: getattr(lib.F, fn)(x), x)


def test_softmax_zero_dim_input():
    check(lambda lib, x: lib.F.softmax(x, 0), np.array(2.5))
    check(lambda lib, x: lib.F.log_softmax(x, -1), np.array(2.5))


def test_softmax_tensor_method_with_positional_dtype():
    x = rand(3, 4, seed=2).astype(np.float32)
    out, _ = check(lambda lib, x: x.softmax(1, lib.torch.float64) + x.log_softmax(0, lib.torch.float64), x)
    assert out[0].dtype == np.float64


def test_softmax_tensor_methods_and_top_level():
    x = rand(3, 4, seed=8)
    check(lambda lib, x: x.softmax(1) + x.log_softmax(dim=0) + lib.torch.softmax(x, 1) + lib.torch.log_softmax(x, 0)
          + x.relu() + x.sigmoid() + x.tanh() + lib.torch.relu(x) + lib.torch.sigmoid(x) + lib.torch.tanh(x), x)


# ---- prelu, glu, integer inputs, inplace ---------------------------------------------------------------------
@pytest.mark.parametrize("xshape,wshape", [((4, 3), (3,)), ((2, 3, 5), (3,)), ((2, 3, 4, 4), (3,)),
                                           ((2, 3, 4, 4), (1,)), ((1, 1, 5), (1,)), ((5,), (1,))])
def test_prelu_matches_torch(xshape, wshape):
    x, w = rand(*xshape, seed=3, low=-3, high=3), rand(*wshape, seed=4, low=-0.5, high=0.5)
    check(lambda lib, x, w: lib.F.prelu(x, w), x, w)
    check_float32(lambda lib, x, w: lib.F.prelu(x, w), x, w)
    gradcheck(lambda x, w: F.prelu(x, w), x, w)


@pytest.mark.parametrize("shape,dim", [((4,), 0), ((3, 6), 1), ((3, 6), -1), ((4, 3, 2), 0), ((2, 4, 3, 2), 1)])
def test_glu_matches_torch(shape, dim):
    x = rand(*shape, seed=6, low=-3, high=3)
    check(lambda lib, x: lib.F.glu(x, dim), x)
    check_float32(lambda lib, x: lib.F.glu(x, dim=dim), x)
    gradcheck(lambda t: F.glu(t, dim), x)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "threshold", "sigmoid", "torch_sigmoid", "tanh"])
def test_integer_inputs_follow_torch(name):
    x = np.arange(-4, 9, dtype=np.int64).reshape(1, -1)
    check(POINTWISE[name], x, rtol=1e-6)  # sigmoid/tanh: float32 results, a last-bit difference allowed


@pytest.mark.parametrize("name", ["gelu", "elu", "silu", "softplus", "leaky_relu", "hardswish", "mish"])
def test_integer_inputs_refused_where_torch_refuses(name):
    with pytest.raises(TypeError, match="input must be a floating-point tensor. Got dtype=cnnlab.int64"):
        POINTWISE[name](_CN, cnnlab.tensor([1, 2]))


@pytest.mark.parametrize("fn", [F.relu, F.relu6, F.elu, F.selu, F.celu, F.silu, F.mish, F.hardtanh, F.hardsigmoid,
                                F.hardswish, F.leaky_relu])
def test_inplace_flag_accepted_and_result_correct(fn):
    x = cnnlab.tensor(rand(4, 3, seed=1, low=-4, high=4))
    before = x.numpy().copy()
    want = fn(x).numpy()
    got = fn(x, inplace=True)
    np.testing.assert_array_equal(got.numpy(), want)
    if fn in (F.relu, F.relu6, F.hardtanh):           # written into x and x returned, as torch does
        assert got is x
        np.testing.assert_array_equal(x.numpy(), want)
    else:
        np.testing.assert_array_equal(x.numpy(), before)  # computed out of place


def test_relu_inplace_writes_only_where_no_gradient_is_recorded():
    x = cnnlab.tensor(rand(4, 3, seed=2, low=-4, high=4), requires_grad=True)
    before = x.detach().numpy().copy()
    y = F.relu(x, inplace=True)                       # recorded: a new tensor, x keeps its values
    assert y is not x and y.grad_fn is not None
    np.testing.assert_array_equal(x.detach().numpy(), before)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (before > 0).astype(before.dtype))
    with cnnlab.no_grad():
        assert F.relu(x, inplace=True) is x
    np.testing.assert_array_equal(x.detach().numpy(), np.maximum(before, 0))
    m = cnnlab.nn.ReLU(inplace=True)
    z = cnnlab.tensor([-1.0, 3.0])
    assert m(z) is z and z.tolist() == [0.0, 3.0]


# ---- errors -------------------------------------------------------------------------------------------------
def test_errors():
    x = cnnlab.tensor(rand(2, 3))
    with pytest.raises(ValueError, match=r"hardtanh: min_val cannot be greater than max_val. Got min_val=2, max_val=1"):
        F.hardtanh(x, 2, 1)
    with pytest.raises(RuntimeError, match=r"gelu: approximate must be 'none' or 'tanh'. Got approximate='fast'"):
        F.gelu(x, approximate="fast")
    with pytest.raises(TypeError, match=r"softmax: input must be a floating-point tensor \(or pass dtype=\). "
                                        r"Got dtype=cnnlab.int64"):
        F.softmax(cnnlab.tensor([1, 2]), 0)
    with pytest.raises(IndexError, match=r"softmax: dim must be in \[-2, 1\]"):
        F.softmax(x, 2)
    with pytest.raises(RuntimeError, match=r"prelu: weight must have 1 element or one per input channel "
                                           r"\(input.shape\[1\]\). Got weight.shape=\(2,\), input.shape=\(2, 3\)"):
        F.prelu(x, cnnlab.ones(2))
    with pytest.raises(ValueError, match=r"glu: the halving dimension must have an even size. Got "
                                         r"input.shape=\(2, 3\), dim=-1"):
        F.glu(x)
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        F.celu(x, alpha=0.0)
    with pytest.raises(TypeError, match="relu: input must be a tensor or a number. Got str"):
        F.relu("x")


def test_torch_raises_for_the_same_inputs():
    x = torch.randn(2, 3)
    with pytest.raises(ValueError):
        torch.nn.functional.hardtanh(x, 2, 1)
    with pytest.raises(RuntimeError):
        torch.nn.functional.gelu(x, approximate="fast")
    with pytest.raises(RuntimeError):
        torch.nn.functional.prelu(x, torch.ones(2))
    with pytest.raises(RuntimeError):
        torch.nn.functional.glu(x)


def test_selu_constants_match_torch():
    assert math.isclose(F.activation.SELU_ALPHA, 1.6732632423543772, rel_tol=1e-15)
    check(lambda lib, x: lib.F.selu(x), np.array([-30.0, -1.0, 1.0]), rtol=1e-15, atol=0)


def test_relu_zero_dim_nan_and_bool():
    """relu's own forward/backward (it keeps only its output for the backward): a 0-d input stays a tensor,
    NaN passes through, with its gradient (as PyTorch's `out <= 0 ? 0 : g`), and a bool input is refused."""
    x = cnnlab.tensor(-2.5, requires_grad=True)
    y = F.relu(x)
    assert y.shape == () and y.item() == 0.0
    y.backward()
    assert x.grad.item() == 0.0
    check(POINTWISE["relu"], np.array(1.5))
    x = cnnlab.tensor([np.nan, 2.0, -1.0, 0.0], requires_grad=True)
    y = F.relu(x)
    (y * cnnlab.tensor([3.0, 4.0, 5.0, 6.0])).sum().backward()
    assert np.isnan(y.detach().numpy()[0]) and y.detach().numpy()[1:].tolist() == [2.0, 0.0, 0.0]
    assert x.grad.tolist() == [3.0, 4.0, 0.0, 0.0]  # torch.relu gives the same
    vals = [-0.0, 0.0, -1.0, 1e-40, np.inf, -np.inf]  # signed zeros, a denormal, infinities
    check(POINTWISE["relu"], np.array(vals))
    check(POINTWISE["relu"], np.array(vals, np.float32))
    with pytest.raises(TypeError, match="relu: input must be a floating-point tensor. Got dtype=cnnlab.bool"):
        F.relu(cnnlab.tensor([True, False]))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("row", [[1.0, np.inf], [-np.inf, -np.inf], [1.0, -np.inf], [np.inf, np.inf], [np.nan, 1.0]])
def test_softmax_family_non_finite_rows_equal_torch(fn, row):
    with np.errstate(all="raise"):  # and no NumPy warning on the way
        ours = getattr(F, fn)(cnnlab.tensor([row]), dim=1).numpy()
    np.testing.assert_array_equal(ours, getattr(torch.nn.functional, fn)(torch.tensor([row]), dim=1).numpy())


@pytest.mark.parametrize("owned", [False, True])
def test_relu_in_pieces_on_threads_matches_torch(monkeypatch, owned):
    """Large arrays go through kernels/pointwise.py in pieces on the threads: forward, gradient (into a fresh
    array or into the upstream gradient's own memory), NaN passing its gradient, as in PyTorch."""
    from cnnlab.kernels import parallel, pointwise
    monkeypatch.setattr(pointwise, "THREADED_BYTES", 0)
    monkeypatch.setattr(pointwise, "GRAD_THREADED_BYTES", 0)
    monkeypatch.setattr(parallel, "_threads", 3)
    x = rand(5, 7, 3, seed=4, low=-2, high=2)
    x[0, 0, 0], x[1, 2, 0] = np.nan, 0.0
    check(lambda lib, t: lib.F.relu(t * 1.0), x)                  # t * 1.0: an owned upstream gradient path
    check(lambda lib, t: lib.F.relu(t) if not owned else lib.F.relu(t) * 2.0, x)
