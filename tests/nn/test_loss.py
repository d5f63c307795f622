"""Loss functions against PyTorch: outputs, dtypes and the gradient of every floating input, in every mode."""
import warnings

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, check_float32, gradcheck, rand

REDUCTIONS = ["none", "mean", "sum"]


def labels(shape, C, seed=0, ignore=False, ignore_index=-100):
    """int64 class indices of this shape; with ignore, about a third become ignore_index."""
    rng = np.random.default_rng(seed + 100)
    y = rng.integers(0, C, size=shape).astype(np.int64)
    if ignore:
        y[rng.random(shape) < 0.35] = ignore_index
        y.reshape(-1)[0] = ignore_index if y.size > 1 else y.reshape(-1)[0]
    return y


def probs(shape, seed=0, axis=1):
    """Non-negative class-probability targets that sum to 1 over the class axis."""
    p = rand(*shape, seed=seed + 200, low=0.0, high=1.0)
    return p / p.sum(axis=axis if len(shape) > 1 else 0, keepdims=True)


def check32(fn, *arrays, grad):
    """check_float32 with a grad mask (for inputs PyTorch cannot differentiate): float32 copies, float32
    tolerances, and check's dtype comparison keeps the outputs float32."""
    arrays = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in arrays]
    return check(fn, *arrays, grad=grad, rtol=1e-4, atol=1e-5)


# input shape, per-sample (target) shape
INDEX_SHAPES = [((5, 7), (5,)), ((1, 3), (1,)), ((4,), ()), ((2, 3, 4), (2, 4)), ((2, 3, 4, 5), (2, 4, 5)),
                ((3, 4, 1, 2, 2), (3, 1, 2, 2))]


# ---- cross_entropy, class-index targets ------------------------------------------------------------------
@pytest.mark.parametrize("xshape,yshape", INDEX_SHAPES)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ls", [0.0, 0.15, 1.0])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_index(xshape, yshape, use_weight, reduction, ls, ignore):
    C = xshape[0] if len(xshape) == 1 else xshape[1]
    x = rand(*xshape, seed=1, low=-3, high=3)
    y = labels(yshape, C, ignore=ignore and yshape != ())
    w = rand(C, seed=2, low=0.2, high=2.0) if use_weight else None
    # PyTorch cannot differentiate nll/cross_entropy with respect to weight: compare the input's gradient only
    check(lambda lib, x, y, w: lib.F.cross_entropy(x, y, weight=w, reduction=reduction, label_smoothing=ls),
          x, y, w, grad=[True, False, False])


def test_cross_entropy_negative_label_smoothing_is_zero_like_pytorch():
    x, y, t = rand(4, 5, seed=45), labels((4,), 5), probs((4, 5))
    with pytest.warns(UserWarning, match="label_smoothing < 0 has no effect"):
        check(lambda lib, x, y: lib.F.cross_entropy(x, y, label_smoothing=-0.1), x, y)
    with pytest.warns(UserWarning, match="label_smoothing < 0 has no effect"):
        check(lambda lib, x, t: lib.F.cross_entropy(x, t, label_smoothing=-0.1), x, t)


@pytest.mark.parametrize("ignore_index", [0, 2, -1])
def test_cross_entropy_ignore_index_values(ignore_index):
    x, y = rand(6, 4, seed=3), labels((6,), 4)
    y[1] = ignore_index
    for reduction in REDUCTIONS:
        check(lambda lib, x, y: lib.F.cross_entropy(x, y, ignore_index=ignore_index, reduction=reduction,
                                                    label_smoothing=0.1), x, y)


def test_cross_entropy_uint8_targets():
    x, y = rand(5, 4, seed=4), labels((5,), 4).astype(np.uint8)
    check(lambda lib, x, y: lib.F.cross_entropy(x, y), x, y)


@pytest.mark.parametrize("ls", [0.0, 0.3])
def test_cross_entropy_all_ignored_is_nan(ls):
    x, y = rand(3, 4, seed=5), np.full(3, -100, dtype=np.int64)
    # second order off: torch's d/dg of its all-zero gradient is 0/0 = NaN, cnnlab's 0 (test_double_loss.py)
    out, grads = check(lambda lib, x, y: lib.F.cross_entropy(x, y, label_smoothing=ls), x, y, second_order=False)
    assert np.isnan(out[0]) and not np.any(grads[0])
    out, _ = check(lambda lib, x, y: lib.F.cross_entropy(x, y, reduction="sum", label_smoothing=ls), x, y)
    assert out[0] == 0.0


def test_cross_entropy_empty_batch():
    for reduction in REDUCTIONS:  # second order off: torch's d/dg of the empty mean's gradient is NaN, cnnlab's 0
        check(lambda lib, x, y: lib.F.cross_entropy(x, y, reduction=reduction), rand(0, 4), np.zeros(0, np.int64),
              second_order=False)
        check(lambda lib, x, y: lib.F.cross_entropy(x, y, reduction=reduction), rand(0, 4), rand(0, 4),
              second_order=False)


def test_cross_entropy_unbatched_one_element_target():
    # PyTorch's forward accepts a (1,) target for a (C,) input but its backward fails: compare the forward only
    check(lambda lib, x, y: lib.F.cross_entropy(x, y, reduction="none"), rand(5, seed=6), np.array([3]),
          grad=[False, False])
    gradcheck(lambda x: F.cross_entropy(x, cnnlab.tensor(np.array([3]))), rand(5, seed=6))


def test_cross_entropy_legacy_size_average_reduce():
    x, y = rand(4, 3, seed=7), labels((4,), 3)
    for sa, rd in [(False, None), (None, False), (True, True), (False, True), (True, False)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(lambda lib, x, y: lib.F.cross_entropy(x, y, size_average=sa, reduce=rd), x, y)
            check(lambda lib, x, y: lib.F.nll_loss(x, y, size_average=sa, reduce=rd), x, y)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        F.cross_entropy(cnnlab.tensor(x), cnnlab.tensor(y), size_average=False)


@pytest.mark.parametrize("ls", [0.0, 0.2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_index_gradcheck_incl_weight(ls, reduction):
    x, y = rand(4, 3, 2, seed=8), labels((4, 2), 3, ignore=True)
    w = rand(3, seed=9, low=0.5, high=1.5)
    gradcheck(lambda x, w: F.cross_entropy(x, cnnlab.tensor(y), weight=w, reduction=reduction, label_smoothing=ls),
              x, w)
    gradcheck(lambda x: F.cross_entropy(x, cnnlab.tensor(y[:, 0]), reduction=reduction, label_smoothing=ls),
              x[:, :, 0].copy())


def test_cross_entropy_one_recorded_op():
    x = cnnlab.tensor(rand(4, 3), requires_grad=True)
    loss = F.cross_entropy(x, cnnlab.tensor(labels((4,), 3)))
    assert loss.grad_fn is not None and loss._parents == (x,)


# ---- cross_entropy, class-probability targets --------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 7), (1, 3), (4,), (2, 3, 4), (2, 3, 2, 3)])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ls", [0.0, 0.2, 1.0])
def test_cross_entropy_probabilities(shape, use_weight, reduction, ls):
    C = shape[0] if len(shape) == 1 else shape[1]
    x, t = rand(*shape, seed=10, low=-3, high=3), probs(shape)
    w = rand(C, seed=11, low=0.2, high=2.0) if use_weight else None
    # target and weight gradients are defined here (plain elementwise math in PyTorch): compare them all
    check(lambda lib, x, t, w: lib.F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=ls), x, t, w)


def test_cross_entropy_probabilities_gradcheck():
    x, t, w = rand(3, 4, 2, seed=12), probs((3, 4, 2)), rand(4, seed=13, low=0.5, high=1.5)
    for reduction in REDUCTIONS:
        gradcheck(lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=0.1), x, t, w)


def test_cross_entropy_probabilities_promotes_dtypes():
    x, t = rand(3, 4, seed=14).astype(np.float32), probs((3, 4))
    # second order off: torch's log_softmax runs in float32 here, cnnlab's in the promoted float64 (2e-6 apart)
    check(lambda lib, x, t: lib.F.cross_entropy(x, t), x, t, rtol=1e-6, second_order=False)


# ---- nll_loss -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("xshape,yshape", INDEX_SHAPES)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", [False, True])
def test_nll_loss(xshape, yshape, use_weight, reduction, ignore):
    C = xshape[0] if len(xshape) == 1 else xshape[1]
    x = rand(*xshape, seed=15, low=-4, high=0)
    y = labels(yshape, C, ignore=ignore and yshape != ())
    w = rand(C, seed=16, low=0.2, high=2.0) if use_weight else None
    check(lambda lib, x, y, w: lib.F.nll_loss(x, y, weight=w, reduction=reduction), x, y, w, grad=[True, False, False])


def test_nll_loss_all_ignored_and_gradcheck():
    x = rand(3, 4, seed=17)
    out, _ = check(lambda lib, x, y: lib.F.nll_loss(x, y), x, np.full(3, -100, dtype=np.int64),
                   second_order=False)  # torch's d/dg of its zero gradient is NaN (0/0), cnnlab's 0
    assert np.isnan(out[0])
    y, w = labels((5, 3), 4, ignore=True), rand(4, seed=18, low=0.5, high=1.5)
    for reduction in REDUCTIONS:
        gradcheck(lambda x, w: F.nll_loss(x, cnnlab.tensor(y), weight=w, reduction=reduction), rand(5, 4, 3, seed=19), w)


# ---- float32 and numerical stability ---------------------------------------------------------------------
def test_float32_class_losses():
    x, y, w = rand(6, 5, 3, seed=20, low=-3, high=3), labels((6, 3), 5, ignore=True), rand(5, seed=21, low=0.5)
    w32 = w.astype(np.float32)
    wt = lambda lib: lib.torch.tensor(w32.tolist(), dtype=lib.torch.float32)  # a weight that requires no grad
    for reduction in REDUCTIONS:
        check_float32(lambda lib, x, y: lib.F.cross_entropy(x, y, weight=wt(lib), reduction=reduction,
                                                            label_smoothing=0.1), x, y)
        check_float32(lambda lib, x, y: lib.F.nll_loss(x, y, weight=wt(lib), reduction=reduction), x, y)
        check_float32(lambda lib, x, t, w: lib.F.cross_entropy(x, t, weight=w, reduction=reduction,
                                                               label_smoothing=0.1), x, probs((6, 5, 3)), w32)
    xt = cnnlab.tensor(x.astype(np.float32), requires_grad=True)
    F.cross_entropy(xt, cnnlab.tensor(y), weight=cnnlab.tensor(w32), label_smoothing=0.1).backward()
    assert xt.grad.dtype == cnnlab.float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_cross_entropy_huge_logits_stay_finite(dtype, ls):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4], [5e3, -5e3, 1e4]], dtype=dtype)
    y = np.array([1, 2, 0, 2])
    second = False if dtype == np.float32 else None  # float32 second orders: torch's rounding differs by ~1e-6
    for reduction in REDUCTIONS:
        out, grads = check(lambda lib, x, y: lib.F.cross_entropy(x, y, reduction=reduction, label_smoothing=ls),
                           x, y, rtol=1e-6, atol=1e-6, second_order=second)
        assert np.all(np.isfinite(out[0])) and np.all(np.isfinite(grads[0]))
    out, grads = check(lambda lib, x, t: lib.F.cross_entropy(x, t, label_smoothing=ls), x,
                       probs((4, 3)).astype(dtype), rtol=1e-6, atol=1e-6, second_order=second)
    assert np.isfinite(out[0]) and np.all(np.isfinite(grads[0])) and np.all(np.isfinite(grads[1]))
    # the exact value: row 0 has loss 2e4 for class 1
    assert F.cross_entropy(cnnlab.tensor(x[:1]), cnnlab.tensor(y[:1])).item() == pytest.approx(2e4)


def test_binary_cross_entropy_extreme_probabilities():
    x = np.array([0.0, 1.0, 1e-30, 1 - 1e-12, 0.5, 1.0])
    t = np.array([0.3, 0.4, 1.0, 0.0, 1.0, 1.0])
    for reduction in REDUCTIONS:
        out, _ = check(lambda lib, x, t: lib.F.binary_cross_entropy(x, t, reduction=reduction), x, t,
                       grad=[True, False])
        assert np.all(np.isfinite(out[0]))
    out, _ = check(lambda lib, x, t: lib.F.binary_cross_entropy(x, t, reduction="none"), x, t, grad=[False, False])
    assert out[0][0] == pytest.approx(30.0)  # 0.7 * 100: log(0) clamped at -100


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_huge_logits(dtype):
    x = np.array([1e4, -1e4, 50.0, -50.0, 0.0], dtype=dtype)
    t = np.array([0.0, 1.0, 0.5, 1.0, 1.0], dtype=dtype)
    pw = np.array([2.0], dtype=dtype)
    out, grads = check(lambda lib, x, t, pw: lib.F.binary_cross_entropy_with_logits(x, t, reduction="none",
                                                                                      pos_weight=pw),
                       x, t, pw, grad=[True, True, False], rtol=1e-6)
    assert np.all(np.isfinite(out[0])) and np.all(np.isfinite(grads[0]))
    assert out[0][0] == pytest.approx(1e4) and out[0][1] == pytest.approx(2e4)


# ---- binary cross-entropy ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,wshape", [((5,), None), ((4, 3), (3,)), ((4, 3), (4, 3)), ((2, 3, 4), (3, 1)),
                                          ((1, 1), (1,))])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(shape, wshape, reduction):
    x = rand(*shape, seed=22, low=0.02, high=0.98)
    t = rand(*shape, seed=23, low=0.0, high=1.0)
    w = rand(*wshape, seed=24, low=0.2, high=2.0) if wshape else None
    # PyTorch differentiates input and target, not weight
    check(lambda lib, x, t, w: lib.F.binary_cross_entropy(x, t, weight=w, reduction=reduction), x, t, w,
          grad=[True, True, False])
    gradcheck(lambda x, t, w: F.binary_cross_entropy(x, t, weight=w, reduction=reduction), x, t,
              w if w is not None else None)
    check_float32(lambda lib, x, t: lib.F.binary_cross_entropy(x, t, reduction=reduction), x, t, rtol=1e-4)


@pytest.mark.parametrize("shape,wshape,pwshape", [((5,), None, None), ((4, 3), (3,), (3,)), ((4, 3), (4, 1), None),
                                                  ((2, 3, 4), None, (4,)), ((1, 1), (1, 1), (1,))])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(shape, wshape, pwshape, reduction):
    x = rand(*shape, seed=25, low=-4, high=4)
    t = rand(*shape, seed=26, low=0.0, high=1.0)
    w = rand(*wshape, seed=27, low=0.2, high=2.0) if wshape else None
    pw = rand(*pwshape, seed=28, low=0.2, high=3.0) if pwshape else None

    def fn(lib, x, t, w, pw):
        return lib.F.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction, pos_weight=pw)
    check(fn, x, t, w, pw, grad=[True, True, False, False])      # PyTorch: no grad for weight, pos_weight
    gradcheck(lambda *a: fn(type("L", (), {"F": F}), *a), x, t, w, pw)
    out, _ = check32(fn, x, t, w, pw, grad=[True, True, False, False])
    assert out[0].dtype == np.float32


# ---- regression losses ----------------------------------------------------------------------------------
REGRESSION = {
    "mse": lambda lib, x, t, **k: lib.F.mse_loss(x, t, **k),
    "l1": lambda lib, x, t, **k: lib.F.l1_loss(x, t, **k),
    "smooth_l1": lambda lib, x, t, **k: lib.F.smooth_l1_loss(x, t, **k),
    "smooth_l1_b0.3": lambda lib, x, t, **k: lib.F.smooth_l1_loss(x, t, beta=0.3, **k),
    "smooth_l1_b0": lambda lib, x, t, **k: lib.F.smooth_l1_loss(x, t, beta=0.0, **k),
    "huber": lambda lib, x, t, **k: lib.F.huber_loss(x, t, **k),
    "huber_d2.5": lambda lib, x, t, **k: lib.F.huber_loss(x, t, delta=2.5, **k),
    "soft_margin": lambda lib, x, t, **k: lib.F.soft_margin_loss(x, t, **k),
}


@pytest.mark.parametrize("name", list(REGRESSION))
@pytest.mark.parametrize("shape", [(7,), (3, 4), (1, 1), (2, 3, 2, 3)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(name, shape, reduction):
    x, t = rand(*shape, seed=29, low=-3, high=3), rand(*shape, seed=30, low=-3, high=3)
    if name == "soft_margin":
        t = np.sign(t)
    fn = REGRESSION[name]
    # PyTorch cannot differentiate soft_margin_loss with respect to target (gradcheck covers ours)
    check(lambda lib, x, t: fn(lib, x, t, reduction=reduction), x, t, grad=[True, name != "soft_margin"])
    check32(lambda lib, x, t: fn(lib, x, t, reduction=reduction), x, t, grad=[True, name != "soft_margin"])
    gradcheck(lambda x, t: fn(type("L", (), {"F": F}), x, t, reduction=reduction), x, t)


@pytest.mark.parametrize("name", ["mse", "l1", "huber"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_weight(name, reduction):
    x, t, w = rand(3, 4, seed=31, low=-3, high=3), rand(3, 4, seed=32, low=-3, high=3), rand(3, 4, seed=33, low=0.1)
    fn = REGRESSION[name]
    check(lambda lib, x, t, w: fn(lib, x, t, reduction=reduction, weight=w), x, t, w)
    gradcheck(lambda x, t, w: fn(type("L", (), {"F": F}), x, t, reduction=reduction, weight=w), x, t, w)


def test_regression_ties_and_integer_targets():
    x = np.array([1.0, 2.0, 3.0, 0.5, -1.0])
    t = np.array([1.0, 1.0, 4.0, 0.0, 0.0])
    for name in ["mse", "l1", "smooth_l1", "smooth_l1_b0", "huber"]:
        check(lambda lib, x, t: REGRESSION[name](lib, x, t), x, t)  # |d| == 0 and |d| == beta on the boundary
    for name in ["mse", "l1"]:  # PyTorch promotes integer targets for these two
        check(lambda lib, x, t: REGRESSION[name](lib, x, t), x, np.array([1, 1, 4, 0, 0]))


@pytest.mark.parametrize("name", ["mse", "l1", "smooth_l1", "huber"])
def test_regression_broadcast_warns_like_pytorch(name):
    x, t = rand(3, seed=34), rand(3, 1, seed=35)
    with pytest.warns(UserWarning, match="target size"):
        out, _ = check(lambda lib, x, t: REGRESSION[name](lib, x, t, reduction="none"), x, t)
    assert out[0].shape == (3, 3)


def test_mse_mixed_dtypes_promote():
    check(lambda lib, x, t: lib.F.mse_loss(x, t), rand(4, seed=36).astype(np.float32), rand(4, seed=37),
          second_order=False)  # the float32 second derivative differs from torch's in the last bit


# ---- kl_div and margin_ranking_loss -----------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "batchmean", "sum", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (1, 3), (2, 3, 4)])
def test_kl_div(reduction, log_target, shape):
    x = np.log(probs(shape, seed=38))
    t = probs(shape, seed=39)
    t = np.log(t) if log_target else t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns in both libraries
        check(lambda lib, x, t: lib.F.kl_div(x, t, reduction=reduction, log_target=log_target), x, t)
        check_float32(lambda lib, x, t: lib.F.kl_div(x, t, reduction=reduction, log_target=log_target), x, t)
        gradcheck(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target), x, t)


def test_kl_div_zero_targets_and_mean_warning():
    x, t = np.log(probs((2, 3))), np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    check(lambda lib, x, t: lib.F.kl_div(x, t, reduction="sum"), x, t, grad=[True, False])
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(cnnlab.tensor(x), cnnlab.tensor(t))
    check(lambda lib, x, t: lib.F.kl_div(x, t, reduction="batchmean"), np.array(-0.3), np.array(0.4))


@pytest.mark.parametrize("margin", [0.0, 0.7])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_loss(margin, reduction):
    x1, x2, t = rand(6, seed=40), rand(6, seed=41), np.sign(rand(6, seed=42))
    check(lambda lib, a, b, t: lib.F.margin_ranking_loss(a, b, t, margin=margin, reduction=reduction), x1, x2, t)
    gradcheck(lambda a, b: F.margin_ranking_loss(a, b, cnnlab.tensor(t), margin=margin, reduction=reduction), x1, x2)


# ---- errors -------------------------------------------------------------------------------------------
def both_raise(fn, arrays, cn_exc, match, torch_exc=None):
    """cnnlab raises cn_exc with a message matching `match`; PyTorch raises torch_exc (default: cn_exc's
    PyTorch-side base, checked with isinstance) for the same call."""
    with pytest.raises(cn_exc, match=match):
        fn(type("L", (), {"F": F}), *[cnnlab.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    if torch_exc is not None:
        with pytest.raises(torch_exc):
            fn(type("L", (), {"F": torch.nn.functional}),
               *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])


def test_error_float_targets_with_index_shape():
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y), [rand(4, 10).astype(np.float32), rand(4).astype(np.float32)],
               cnnlab.DTypeError, r"cross_entropy: class-index targets must be int64 \(long\).*Got "
               r"target\.dtype=cnnlab\.float32, target\.shape=\(4,\), input\.shape=\(4, 10\)", RuntimeError)
    both_raise(lambda lib, x, y: lib.F.nll_loss(x, y), [rand(4, 10), labels((4,), 10).astype(np.int32)],
               TypeError, r"nll_loss: class-index targets must be int64.*Got target\.dtype=cnnlab\.int32",
               RuntimeError)


def test_error_integer_probability_targets():
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y), [rand(4, 5), np.zeros((4, 5), np.int64)],
               cnnlab.DTypeError, r"class-probability targets .* must be floating point\. Got "
               r"target\.dtype=cnnlab\.int64", RuntimeError)


@pytest.mark.parametrize("bad", [12, -3])
def test_error_target_out_of_range(bad):
    y = labels((5,), 10)
    y[0], y[1] = -3, 12
    y[2] = -100
    msg = r"cross_entropy: target values must be in \[0, C\) or ignore_index\. Got C=10, min target=-3, max target=12"
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y), [rand(5, 10), y], IndexError, msg, IndexError)
    y2 = labels((5,), 10)
    y2[3] = bad
    both_raise(lambda lib, x, y: lib.F.nll_loss(x, y, reduction="sum"), [rand(5, 10), y2], IndexError,
               rf"nll_loss: target values must be in \[0, C\).*Got C=10", IndexError)


def test_error_target_shapes():
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y), [rand(4, 5), labels((3,), 5)], cnnlab.ShapeError,
               r"cross_entropy: class-index targets must have shape \(N, d1, \.\.\., dk\).*Got input\.shape=\(4, 5\), "
               r"target\.shape=\(3,\) \(expected \(4,\)\)", ValueError)
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y), [rand(2, 3, 4, 5), labels((2, 4, 6), 3)], RuntimeError,
               r"expected \(2, 4, 5\)", RuntimeError)
    both_raise(lambda lib, x, y: lib.F.nll_loss(x, y), [rand(3), labels((2,), 3)], ValueError,
               r"nll_loss: an unbatched input \(C,\) takes a 0-d", ValueError)
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y), [np.array(1.0), np.array(0)], cnnlab.ShapeError,
               r"input must have shape \(C,\), \(N, C\)", RuntimeError)


def test_error_weight_and_label_smoothing():
    x, y = rand(4, 5), labels((4,), 5)
    both_raise(lambda lib, x, y, w: lib.F.cross_entropy(x, y, weight=w), [x, y, rand(4)], cnnlab.ShapeError,
               r"weight must be a 1-D tensor with one value per class\. Got weight\.shape=\(4,\), C=5", RuntimeError)
    both_raise(lambda lib, x, y, w: lib.F.cross_entropy(x, y, weight=w), [x.astype(np.float32), y, rand(5)],
               cnnlab.DTypeError, r"weight.dtype=cnnlab\.float64, input dtype=cnnlab\.float32", RuntimeError)
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y, label_smoothing=1.5), [x, y], cnnlab.ShapeError,
               r"label_smoothing must be in \[0\.0, 1\.0\]\. Got label_smoothing=1\.5", RuntimeError)
    both_raise(lambda lib, x, y: lib.F.cross_entropy(x, y), [np.zeros((4, 5), np.int64), y], cnnlab.DTypeError,
               r"input must be a floating-point tensor\. Got input\.dtype=cnnlab\.int64", RuntimeError)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss"])
def test_error_bad_reduction(name):
    x = rand(3, 2, seed=43, low=0.1, high=0.9)
    t = labels((3,), 2) if name in ("cross_entropy", "nll_loss") else rand(3, 2, seed=44, low=0.1, high=0.9)
    both_raise(lambda lib, x, t: getattr(lib.F, name)(x, t, reduction="avg"), [x, t], ValueError,
               rf"{name}: reduction must be one of 'none', 'mean', 'sum'\. Got reduction='avg'", ValueError)


def test_error_bad_reduction_kl_div():
    with pytest.raises(ValueError, match=r"kl_div: reduction must be one of 'none', 'batchmean', 'sum', 'mean'\. "
                                         r"Got reduction='avg'"):
        F.kl_div(cnnlab.tensor(rand(3)), cnnlab.tensor(rand(3)), reduction="avg")


def test_error_binary_cross_entropy():
    both_raise(lambda lib, x, t: lib.F.binary_cross_entropy(x, t), [np.array([0.2, 1.5]), np.array([1.0, 0.0])],
               cnnlab.ShapeError, r"binary_cross_entropy: all input values must be in \[0, 1\].*Got min input=0\.2, "
               r"max input=1\.5", RuntimeError)
    both_raise(lambda lib, x, t: lib.F.binary_cross_entropy(x, t), [np.array([0.2, 0.5]), np.array([-1.0, 0.0])],
               cnnlab.ShapeError, r"all target values must be in \[0, 1\]", RuntimeError)
    both_raise(lambda lib, x, t: lib.F.binary_cross_entropy(x, t), [rand(3, low=0), rand(3, 1, low=0)], ValueError,
               r"binary_cross_entropy: target must have the input's shape\. Got target\.shape=\(3, 1\), "
               r"input\.shape=\(3,\)", ValueError)
    both_raise(lambda lib, x, t: lib.F.binary_cross_entropy_with_logits(x, t), [rand(3), rand(3, 1)], ValueError,
               r"target must have the input's shape", ValueError)
    both_raise(lambda lib, x, t, w: lib.F.binary_cross_entropy(x, t, weight=w), [rand(2, 3, low=0), rand(2, 3, low=0),
               rand(2, 3, 4)], cnnlab.ShapeError, r"weight must broadcast to the input's shape", RuntimeError)
    both_raise(lambda lib, x, t: lib.F.binary_cross_entropy_with_logits(x, t), [rand(3), np.array([1, 0, 1])],
               cnnlab.DTypeError, r"target must be a floating-point tensor\. Got target\.dtype=cnnlab\.int64",
               RuntimeError)


@pytest.mark.filterwarnings("ignore:Using a target size")  # PyTorch warns before it raises
def test_error_regression():
    both_raise(lambda lib, x, t: lib.F.mse_loss(x, t), [rand(3), rand(4)], cnnlab.ShapeError,
               r"mse_loss: the shapes cannot be broadcast together.*Got shapes \(3,\) and \(4,\)", RuntimeError)
    both_raise(lambda lib, x, t: lib.F.smooth_l1_loss(x, t, beta=-1.0), [rand(3), rand(3)], cnnlab.ShapeError,
               r"smooth_l1_loss: beta must be >= 0\. Got beta=-1\.0", RuntimeError)
    for delta in (0.0, -1.0):
        both_raise(lambda lib, x, t: lib.F.huber_loss(x, t, delta=delta), [rand(3), rand(3)], cnnlab.ShapeError,
                   rf"huber_loss: delta must be > 0\. Got delta={delta}", RuntimeError)
    both_raise(lambda lib, x, t, w: lib.F.mse_loss(x, t, weight=w), [rand(3), rand(3), rand(1)], ValueError,
               r"mse_loss: weight must have the input's shape\. Got weight\.shape=\(1,\), input\.shape=\(3,\)",
               ValueError)
    both_raise(lambda lib, x, t: lib.F.l1_loss(x, t), [np.array([1, 2]), np.array([1, 3])], cnnlab.DTypeError,
               r"l1_loss: input must be a floating-point tensor", RuntimeError)
    both_raise(lambda lib, x, t: lib.F.kl_div(x, t, reduction="sum"), [rand(3), np.array([1, 0, 1])], TypeError,
               r"kl_div: target must be a floating-point tensor", RuntimeError)
