"""Double backward of the losses against PyTorch (float64): the gradient of (grad . v) with respect to every
input PyTorch differentiates and the upstream gradient, third order on a few; finite differences where
PyTorch has no gradient (class weights, pos_weight)."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
import torch.nn.functional as TF

from double_nn import check_double

R = np.random.default_rng(18)


def both(name, **kw):
    """(cnnlab op, torch op) of the same functional name with the same keyword arguments."""
    return (lambda *a: getattr(F, name)(*a, **kw)), (lambda *a: getattr(TF, name)(*a, **kw))


# ---- class losses ---------------------------------------------------------------------------------------------
CLASS_CASES = [((5,), ()), ((4, 5), (4,)), ((3, 5, 2, 3), (3, 2, 3)), ((2, 5, 4), (2, 4))]


@pytest.mark.parametrize("xshape,yshape", CLASS_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_indices(xshape, yshape, reduction, smoothing):
    x = R.standard_normal(xshape)
    y = R.integers(0, 5, yshape)
    y.reshape(-1)[:1] = 1
    if y.size > 2:
        y.reshape(-1)[1] = -100                          # ignore_index
    w = R.random(5) + 0.5
    for weight in (None, w):
        kw = dict(reduction=reduction, label_smoothing=smoothing)
        c = lambda a, t, *ww: F.cross_entropy(a, t, *ww, **kw)            # noqa: E731
        tt = lambda a, t, *ww: TF.cross_entropy(a, t, *ww, **kw)          # noqa: E731
        args = (x, y) if weight is None else (x, y, weight)
        check_double(c, tt, *args, diff=[True, False, False][:len(args)], order=3)


@pytest.mark.parametrize("xshape,yshape", CLASS_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(xshape, yshape, reduction):
    x = R.standard_normal(xshape)
    y = R.integers(0, 5, yshape)
    check_double(*both("nll_loss", reduction=reduction), x, y, diff=[True, False])
    check_double(*both("nll_loss", reduction=reduction, ignore_index=2), x, y, R.random(5), diff=[True, False, False])


@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 5, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities(shape, reduction, smoothing):
    x = R.standard_normal(shape)
    t = R.random(shape)
    t /= t.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    check_double(*both("cross_entropy", reduction=reduction, label_smoothing=smoothing), x, t, order=3)
    check_double(*both("cross_entropy", reduction=reduction, label_smoothing=smoothing), x, t, R.random(5) + 0.5)


def _gradgradcheck(fn, *arrays):
    """cnnlab.autograd.gradgradcheck (finite differences of the create_graph gradient) at float64 arrays; integer
    arrays are passed as constant tensors."""
    ts = [cnnlab.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert cnnlab.autograd.gradgradcheck(fn, tuple(ts), seed=0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_weight_second_order_finite_differences(reduction):
    # PyTorch has no gradient for the class weight of nll_loss / cross_entropy; cnnlab does, to any order
    x = R.standard_normal((4, 3, 2))
    y = np.array([[0, 2], [1, 1], [2, -100], [0, 0]])
    w = R.random(3) + 0.5
    t = np.random.default_rng(3).random((4, 3, 2))
    _gradgradcheck(lambda a, ww: F.cross_entropy(a, cnnlab.tensor(y), ww, reduction=reduction, label_smoothing=0.1),
                   x, w)
    _gradgradcheck(lambda a, ww: F.nll_loss(a, cnnlab.tensor(y), ww, reduction=reduction), x, w)
    _gradgradcheck(lambda a, tt, ww: F.cross_entropy(a, tt, ww, reduction=reduction), x, t, w)


# ---- elementwise losses ---------------------------------------------------------------------------------------
A, B = R.standard_normal((3, 4)), R.standard_normal((3, 4))
P, T = R.random((3, 4)) * 0.8 + 0.1, R.random((3, 4))
ELEMENTWISE = [
    ("mse_loss", {}, (A, B)),
    ("l1_loss", {}, (A, B)),
    ("smooth_l1_loss", {}, (A, B)),
    ("smooth_l1_loss", {"beta": 0.5}, (A, B)),
    ("smooth_l1_loss", {"beta": 0.0}, (A, B)),
    ("huber_loss", {"delta": 0.7}, (A, B)),
    ("binary_cross_entropy", {}, (P, T)),
    ("binary_cross_entropy_with_logits", {}, (A, T)),
    ("kl_div", {"reduction": "batchmean"}, (A, T)),
    ("kl_div", {"log_target": True}, (A, B)),
    ("soft_margin_loss", {}, (A, np.sign(B))),
]


@pytest.mark.filterwarnings("ignore:.*'batchmean' divides only:UserWarning")  # kl_div's 'mean', in both
@pytest.mark.parametrize("name,kw,args", ELEMENTWISE, ids=[f"{e[0]}{e[1]}" for e in ELEMENTWISE])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise(name, kw, args, reduction):
    kw = dict(kw)
    kw.setdefault("reduction", reduction)
    diff = [True, name != "soft_margin_loss"]  # torch has no gradient for soft_margin_loss's target
    check_double(*both(name, **kw), *args, diff=diff, order=3)


def test_elementwise_broadcast_target():
    with pytest.warns(UserWarning):
        check_double(*both("mse_loss"), A, B[:1], order=3)


def test_bce_weights():
    w = R.random((1, 4)) + 0.5
    check_double(lambda a, t: F.binary_cross_entropy(a, t, cnnlab.tensor(w)),
                 lambda a, t: TF.binary_cross_entropy(a, t, torch.tensor(w)), P, T, order=3)
    pw = R.random(4) + 0.5
    for red in ("mean", "none"):
        check_double(
            lambda a, t: F.binary_cross_entropy_with_logits(a, t, cnnlab.tensor(w), reduction=red,
                                                            pos_weight=cnnlab.tensor(pw)),
            lambda a, t: TF.binary_cross_entropy_with_logits(a, t, torch.tensor(w), reduction=red,
                                                             pos_weight=torch.tensor(pw)), A, T, order=3)


def test_pos_weight_and_loss_weight_finite_differences():
    pw, w = R.random(4) + 0.5, R.random((3, 4)) + 0.5
    _gradgradcheck(lambda a, t, p, ww: F.binary_cross_entropy_with_logits(a, t, ww, pos_weight=p), A, T, pw, w)
    _gradgradcheck(lambda a, t, ww: F.binary_cross_entropy(a, t, ww), P, T, w)
    _gradgradcheck(lambda a, t, ww: F.mse_loss(a, t, weight=ww), A, B, w)
    _gradgradcheck(lambda a, t, ww: F.l1_loss(a, t, reduction="sum", weight=ww), A, B, w)
    _gradgradcheck(lambda a, t, ww: F.huber_loss(a, t, weight=ww), A, B, w)
    _gradgradcheck(lambda a, t: F.soft_margin_loss(a, t), A, np.sign(B))  # PyTorch: no gradient for target


def test_margin_ranking():
    y = np.sign(R.standard_normal((3, 4)))
    check_double(*both("margin_ranking_loss", margin=0.3), A, B, y)


# ---- losses built from smaller ops (their formulas are those ops') -------------------------------------------
def test_composite_losses():
    check_double(*both("poisson_nll_loss"), A, np.abs(B), order=3)
    check_double(*both("poisson_nll_loss", log_input=False, full=True), P, np.abs(B) * 3, order=3)
    check_double(*both("gaussian_nll_loss", full=True), A, B, P, order=3)
    check_double(*both("triplet_margin_loss", margin=2.0), A, B, P, order=3)
    check_double(*both("cosine_embedding_loss", margin=0.1), A, B, np.array([1, -1, 1]), diff=[True, True, False],
                 order=3)
    check_double(*both("hinge_embedding_loss", margin=0.5), A, np.sign(B), diff=[True, False])
    check_double(*both("multilabel_soft_margin_loss"), A, (T > 0.5).astype(float), diff=[True, False], order=3)
    check_double(*both("cosine_similarity"), A, B, order=3)
    check_double(*both("pairwise_distance"), A, B, order=3)
    # PyTorch: "the derivative for '_pdist_backward' is not implemented"; cnnlab's pdist is a composition:
    # checked against PyTorch's pdist written as row differences and a vector norm
    i, j = np.triu_indices(3, k=1)
    check_double(F.pdist, lambda a: torch.linalg.vector_norm(a[i] - a[j], dim=-1), A, order=3)
    _gradgradcheck(lambda a: F.pdist(a, 3.0), A)


def test_attention():
    q, k, v = R.standard_normal((2, 3, 4)), R.standard_normal((2, 5, 4)), R.standard_normal((2, 5, 3))
    check_double(*both("scaled_dot_product_attention"), q, k, v, order=3)
    check_double(*both("scaled_dot_product_attention", is_causal=True), q, k[:, :3], v[:, :3])


@pytest.mark.parametrize("name,kw", [("multi_margin_loss", {}), ("multi_margin_loss", {"p": 2}),
                                     ("multilabel_margin_loss", {})])
def test_margin_losses_do_better_than_pytorch(name, kw):
    # PyTorch: "derivative for aten::multi_margin_loss_backward is not implemented"; cnnlab composes these
    # losses from ops with formulas, so the second order exists: checked by finite differences
    y = np.array([1, 0, 3]) if name == "multi_margin_loss" else np.array([[3, 0, -1, 1], [1, -1, 0, 0],
                                                                          [2, 3, 0, -1]])
    xt = torch.tensor(A, requires_grad=True)
    (gt,) = torch.autograd.grad(getattr(TF, name)(xt, torch.tensor(y), **kw), xt, create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        torch.autograd.grad(gt.sum(), xt)
    _gradgradcheck(lambda a: getattr(F, name)(a, cnnlab.tensor(y), **kw), A + 0.01)


def test_bce_extreme_probabilities_follow_pytorch():
    # within ~1e-12 of 0 and 1 PyTorch's double backward places its eps differently from the derivative of its
    # own (floored) gradient; cnnlab's input gradient is a node with PyTorch's derivatives
    x = np.array([0.0, 1.0, 1e-30, 1 - 1e-12, 0.5, 1.0])
    t = np.array([0.3, 0.4, 1.0, 0.0, 1.0, 1.0])
    for reduction in ("mean", "sum", "none"):
        check_double(*both("binary_cross_entropy", reduction=reduction), x, t, diff=[True, False])


def test_triplet_with_distance_and_empty_inputs():
    check_double(*both("triplet_margin_with_distance_loss", swap=True), A, B, P, order=3)
    empty = np.zeros((0, 4))
    for name in ("mse_loss", "l1_loss", "binary_cross_entropy_with_logits"):
        check_double(*both(name, reduction="sum"), empty, empty)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_all_targets_ignored_second_order_is_zero(smoothing):
    # the loss is NaN (0 / 0) and its gradient 0, as PyTorch's; the gradient's derivatives are 0 as well (PyTorch
    # gives NaN for the one in the upstream gradient, not the derivative of its own zero gradient)
    x = cnnlab.tensor(R.standard_normal((3, 4)), requires_grad=True)
    g = cnnlab.tensor(1.5, dtype=cnnlab.float64, requires_grad=True)
    out = F.cross_entropy(x, cnnlab.tensor(np.full(3, -100)), label_smoothing=smoothing)
    (gx,) = cnnlab.autograd.grad(out * g, x, create_graph=True)
    dx, dg = cnnlab.autograd.grad((gx * cnnlab.tensor(R.standard_normal((3, 4)))).sum(), (x, g))
    assert np.isnan(out.item()) and not gx.detach().numpy().any()
    assert not dx.numpy().any() and dg.item() == 0.0


def test_distances_at_zero_norm_stay_finite():
    # PyTorch's second derivatives are NaN at a zero norm (test_composite_losses compares them elsewhere);
    # cnnlab's stay finite
    a = A.copy()
    a[0] = 0.0
    for fn in (lambda x, y: F.cosine_similarity(x, y, eps=1e-6), lambda x, y: F.pairwise_distance(x, y, eps=0.0)):
        x, y = cnnlab.tensor(a, requires_grad=True), cnnlab.tensor(np.where(a == 0, 0.0, B), requires_grad=True)
        out = fn(x, y)
        gx, gy = cnnlab.autograd.grad((out * cnnlab.tensor(np.arange(1.0, 4.0))).sum(), (x, y), create_graph=True)
        second = cnnlab.autograd.grad((gx * gy).sum(), (x, y), allow_unused=True, materialize_grads=True)
        assert all(np.isfinite(s.numpy()).all() for s in second)


def test_broadcast_operands():
    # a target (or input) of a broadcastable shape: its gradient is summed back to its shape at every order
    check_double(*both("kl_div", reduction="sum"), A, T[:1], order=3)
    check_double(*both("kl_div", reduction="none", log_target=True), A[:, :1], B, order=3)
    check_double(*both("margin_ranking_loss", margin=0.2), A, B[:1], np.sign(B[:, :1]))
