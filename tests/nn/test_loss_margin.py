"""Margin, embedding and likelihood losses against PyTorch: values, dtypes and the gradient of every floating
input, in every reduction; the modules; errors."""
import re

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
import cnnlab.nn.functional as F
from oracle import check, check_float32, rand

REDUCTIONS = ["none", "mean", "sum"]


def signs(*shape, seed=0):
    return np.where(np.random.default_rng(seed + 50).random(shape) < 0.5, -1.0, 1.0)


def classes(n, c, seed=0):
    return np.random.default_rng(seed + 60).integers(0, c, size=n).astype(np.int64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, dict(margin=0.5, p=1.0, swap=True), dict(p=3.0, eps=1e-3, swap=True)])
def test_triplet_margin_loss(reduction, kw):
    a, p, n = rand(5, 4, seed=1), rand(5, 4, seed=2), rand(5, 4, seed=3)
    check(lambda lib, x, y, z: lib.F.triplet_margin_loss(x, y, z, reduction=reduction, **kw), a, p, n)
    check(lambda lib, x, y, z: lib.torch.nn.TripletMarginLoss(reduction=reduction, **kw)(x, y, z), a, p, n)
    check(lambda lib, x, y, z: lib.F.triplet_margin_loss(x, y, z, margin=2.0), rand(4, seed=4), rand(4, seed=5),
          rand(4, seed=6))  # unbatched
    check_float32(lambda lib, x, y, z: lib.F.triplet_margin_loss(x, y, z, **kw), a, p, n)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, dict(margin=0.5, swap=True)])
def test_triplet_margin_with_distance_loss(reduction, kw):
    a, p, n = rand(5, 4, seed=31), rand(5, 4, seed=32), rand(5, 4, seed=33)
    check(lambda lib, x, y, z: lib.F.triplet_margin_with_distance_loss(x, y, z, reduction=reduction, **kw), a, p, n)
    l1 = lambda x, y: (x - y).abs().sum(-1)  # noqa: E731
    check(lambda lib, x, y, z: lib.F.triplet_margin_with_distance_loss(x, y, z, distance_function=l1,
                                                                       reduction=reduction, **kw), a, p, n)
    check(lambda lib, x, y, z: lib.torch.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: 1 - lib.F.cosine_similarity(u, v), reduction=reduction, **kw)(x, y, z), a, p, n)
    check(lambda lib, x, y, z: lib.torch.nn.TripletMarginWithDistanceLoss(**kw)(x, y, z), a, p, n)
    with pytest.raises(ValueError, match="triplet_margin_with_distance_loss: margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(cnnlab.ones(2), cnnlab.ones(2), cnnlab.ones(2), margin=-1.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
def test_cosine_embedding_loss(reduction, margin):
    x1, x2, y = rand(6, 5, seed=7), rand(6, 5, seed=8), signs(6, seed=9)
    check(lambda lib, a, b, t: lib.F.cosine_embedding_loss(a, b, t, margin=margin, reduction=reduction), x1, x2, y,
          grad=[True, True, False])
    check(lambda lib, a, b, t: lib.torch.nn.CosineEmbeddingLoss(margin, reduction=reduction)(a, b, t), x1, x2,
          y.astype(np.int64))
    check(lambda lib, a, b, t: lib.F.cosine_embedding_loss(a, b, t), rand(5, seed=10), rand(5, seed=11),
          np.array(-1.0), grad=[True, True, False])  # unbatched


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss(reduction):
    x, y = rand(4, 5, seed=12, low=0.0, high=2.0), signs(4, 5, seed=13)
    check(lambda lib, a, t: lib.F.hinge_embedding_loss(a, t, reduction=reduction), x, y, grad=[True, False])
    check(lambda lib, a, t: lib.torch.nn.HingeEmbeddingLoss(margin=1.5, reduction=reduction)(a, t), x, y,
          grad=[True, False])
    check_float32(lambda lib, a, t: lib.F.hinge_embedding_loss(a, t), x, y.astype(np.float32))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p, margin", [(1, 1.0), (2, 0.5), (1, -0.3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss(reduction, p, margin, weighted):
    x, y = rand(6, 4, seed=14), classes(6, 4, seed=15)
    args = (x, y, rand(4, seed=16, low=0.1, high=2.0)) if weighted else (x, y)
    check(lambda lib, a, t, *w: lib.F.multi_margin_loss(a, t, p=p, margin=margin, weight=w[0] if w else None,
                                                         reduction=reduction), *args,
          grad=[True, False, False][:len(args)])  # torch refuses a weight that requires grad
    check(lambda lib, a, t: lib.torch.nn.MultiMarginLoss(p=p, margin=margin, reduction=reduction)(a, t), x, y)
    check(lambda lib, a, t: lib.F.multi_margin_loss(a, t, p=p, reduction=reduction), rand(5, seed=17),
          np.array(2))  # unbatched


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    x = rand(4, 5, seed=18)
    y = np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [0, 1, 2, 3, 4], [-1, 2, 0, 0, 0]])  # duplicates, all, none
    check(lambda lib, a, t: lib.F.multilabel_margin_loss(a, t, reduction=reduction), x, y)
    check(lambda lib, a, t: lib.torch.nn.MultiLabelMarginLoss(reduction=reduction)(a, t), x, y)
    check(lambda lib, a, t: lib.F.multilabel_margin_loss(a, t), rand(4, seed=19), np.array([2, 0, -1, 3]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss(reduction, weighted):
    x, y = rand(5, 4, seed=20, low=-3, high=3), (rand(5, 4, seed=21) > 0).astype(np.float64)
    if weighted:
        w = rand(4, seed=22, low=0.2, high=1.5)
        check(lambda lib, a, t, v: lib.F.multilabel_soft_margin_loss(a, t, weight=v, reduction=reduction), x, y, w)
        check(lambda lib, a, t: lib.torch.nn.MultiLabelSoftMarginLoss(weight=lib.torch.tensor(w),
                                                                       reduction=reduction)(a, t), x, y)
    else:
        check(lambda lib, a, t: lib.F.multilabel_soft_margin_loss(a, t, reduction=reduction), x, y)
    check_float32(lambda lib, a, t: lib.F.multilabel_soft_margin_loss(a, t), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input, full", [(True, False), (False, False), (True, True), (False, True)])
def test_poisson_nll_loss(reduction, log_input, full):
    x = rand(3, 4, seed=23) if log_input else rand(3, 4, seed=23, low=0.1, high=3.0)
    t = np.random.default_rng(24).integers(0, 5, size=(3, 4)).astype(np.float64)
    check(lambda lib, a, b: lib.F.poisson_nll_loss(a, b, log_input=log_input, full=full, reduction=reduction), x, t,
          grad=[True, False])
    check(lambda lib, a, b: lib.torch.nn.PoissonNLLLoss(log_input=log_input, full=full, reduction=reduction)(a, b),
          x, t + 1.5)  # positive targets: the target gradient is finite everywhere, compared too


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(reduction, var_shape, full):
    x, t = rand(4, 3, seed=25), rand(4, 3, seed=26)
    v = rand(*var_shape, seed=27, low=0.0, high=2.0)
    v.reshape(-1)[0] = 1e-8  # below eps: floored in value, the gradient flows through var (as PyTorch)
    check(lambda lib, a, b, c: lib.F.gaussian_nll_loss(a, b, c, full=full, reduction=reduction), x, t, v)
    check(lambda lib, a, b, c: lib.torch.nn.GaussianNLLLoss(full=full, eps=1e-3, reduction=reduction)(a, b, c),
          x, t, v)
    check(lambda lib, a, b: lib.F.gaussian_nll_loss(a, b, 0.7), x, t)  # a float variance


def test_modules_store_options_and_weights_like_torch():
    for build in (lambda lib: lib.MultiMarginLoss(weight=lib_tensor(lib, [1.0, 2.0])),
                  lambda lib: lib.MultiLabelSoftMarginLoss(weight=lib_tensor(lib, [1.0, 2.0]))):
        assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict()) == ["weight"]
    mine, theirs = nn.TripletMarginLoss(0.5, 1, 1e-3, True), torch.nn.TripletMarginLoss(0.5, 1, 1e-3, True)
    assert (mine.margin, mine.p, mine.eps, mine.swap) == (theirs.margin, theirs.p, theirs.eps, theirs.swap)
    mine, theirs = nn.PoissonNLLLoss(False, True, None, 1e-4), torch.nn.PoissonNLLLoss(False, True, None, 1e-4)
    assert (mine.log_input, mine.full, mine.eps) == (theirs.log_input, theirs.full, theirs.eps)


def lib_tensor(lib, values):
    return (cnnlab if lib is nn else torch).tensor(values)


def test_errors():
    x = cnnlab.ones(2, 3)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: margin must be greater than 0. Got margin=0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: anchor, positive and negative must have the same "
                                         r"number of dims. .*negative.shape=\(3,\)"):
        F.triplet_margin_loss(x, x, cnnlab.ones(3))
    with pytest.raises(ValueError, match=r"multi_margin_loss: only p == 1 and p == 2 are supported. Got p=3"):
        F.multi_margin_loss(x, cnnlab.tensor([0, 1]), p=3)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match=r"multi_margin_loss: target out of range: .* Got min=0, max=3"):
        F.multi_margin_loss(x, cnnlab.tensor([0, 3]))
    with pytest.raises(RuntimeError, match="target out of range"):
        torch.nn.functional.multi_margin_loss(torch.ones(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"multi_margin_loss: target must have one class index per sample"):
        F.multi_margin_loss(x, cnnlab.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"multi_margin_loss: weight must have one value per class"):
        F.multi_margin_loss(x, cnnlab.tensor([0, 1]), weight=cnnlab.ones(2))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: inputs must be \(N, D\) with target \(N,\)"):
        F.cosine_embedding_loss(x, x, cnnlab.ones(3))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: target out of range"):
        F.multilabel_margin_loss(x, cnnlab.tensor([[0, 5, -1], [0, 1, 2]]))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must have the input's shape"):
        F.gaussian_nll_loss(x, x, cnnlab.ones(3, 3))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        torch.nn.functional.gaussian_nll_loss(torch.ones(2, 3), torch.ones(2, 3), torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must be non-negative"):
        F.gaussian_nll_loss(x, x, -cnnlab.ones(2, 3))
    with pytest.raises(ValueError, match=r"hinge_embedding_loss: reduction must be one of"):
        F.hinge_embedding_loss(x, x, reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("op, target", [("multi_margin_loss", np.zeros(0, np.int64)),
                                        ("multilabel_margin_loss", np.zeros((0, 3), np.int64))])
def test_class_margin_losses_on_an_empty_batch(op, target, reduction):
    # torch's 'mean' of an empty batch is whatever its output buffer held (seen: 6.9e-310, -2.9e-269): the value
    # is unset there, so the mean is compared with 0 (the 'sum'), and 'sum'/'none' and the gradients with torch
    x = rand(0, 3)
    fn = lambda lib, a, t: getattr(lib.F, op)(a, t, reduction=reduction)
    if reduction != "mean":
        check(fn, x, target)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice" or 0/0 warning
        a = cnnlab.tensor(x, requires_grad=True)
        out = getattr(F, op)(a, cnnlab.tensor(target), reduction=reduction)
        out.sum().backward()
    assert out.shape == ((0,) if reduction == "none" else ())
    if reduction != "none":
        assert out.item() == 0.0
    assert a.grad.shape == (0, 3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, target", [((), np.array(0)), ((), np.array([0])), ((3,), np.array(1)),
                                           ((3,), np.array([1]))])
def test_multi_margin_loss_unbatched_input(shape, target, reduction):
    # torch takes a 0-d input as one sample of one class; an unbatched 'none' loss has the target's shape
    check(lambda lib, a, t: lib.F.multi_margin_loss(a, t, reduction=reduction), rand(*shape, seed=21), target)
    check(lambda lib, a, t: lib.F.multi_margin_loss(a, t, p=2, margin=0.3, reduction=reduction),
          rand(*shape, seed=22), target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, target", [((), np.array(0)), ((), np.array(-1)), ((), np.array([0])),
                                           ((3,), np.array([1, -1, 0])), ((3,), np.array([2, 0, 1]))])
def test_multilabel_margin_loss_unbatched_input(shape, target, reduction):
    check(lambda lib, a, t: lib.F.multilabel_margin_loss(a, t, reduction=reduction), rand(*shape, seed=23), target)


@pytest.mark.parametrize("op, x, target", [
    ("multi_margin_loss", np.zeros((2, 0)), np.zeros(2, np.int64)),
    ("multi_margin_loss", np.zeros(0), np.array(0)),
    ("multi_margin_loss", np.zeros((2, 2, 2)), np.zeros(2, np.int64)),
    ("multilabel_margin_loss", np.zeros((2, 0)), np.zeros((2, 0), np.int64)),
    ("multilabel_margin_loss", np.zeros((0, 0)), np.zeros((0, 0), np.int64)),
    ("multilabel_margin_loss", np.zeros(0), np.zeros(0, np.int64))])
def test_class_margin_losses_reject_what_torch_rejects(op, x, target):
    with pytest.raises(RuntimeError, match="Expected non-empty vector or matrix"):
        getattr(torch.nn.functional, op)(torch.tensor(x), torch.tensor(target))
    with pytest.raises(ValueError, match=op + r": input must be a scalar, a non-empty vector \(C,\) or a matrix "
                                          r"\(N, C\) with C > 0. Got input.shape=" + re.escape(str(x.shape))):
        getattr(F, op)(cnnlab.tensor(x), cnnlab.tensor(target))


def test_multilabel_margin_loss_rejects_a_target_of_another_size():
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        torch.nn.functional.multilabel_margin_loss(torch.zeros(3), torch.tensor([[1, -1, 0]]))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: target must hold integer class indices, one per "
                                         r"input element .* Got input.shape=\(3,\), target.shape=\(1, 3\)"):
        F.multilabel_margin_loss(cnnlab.zeros(3), cnnlab.tensor([[1, -1, 0]]))
