"""F.pairwise_distance, F.cosine_similarity and their modules against PyTorch: values, gradients, errors."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
import cnnlab.nn.functional as F
from oracle import check, check_float32, rand


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), -1.0])
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (5,)), ((5,), (5,)), ((1, 3), (4, 3)),
                                    ((2, 3, 4), (2, 3, 4))])
def test_pairwise_distance(p, shapes):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    check(lambda lib, x, y: lib.F.pairwise_distance(x, y, p=p), a, b)
    check(lambda lib, x, y: lib.F.pairwise_distance(x, y, p=p, eps=0.1, keepdim=True), a, b)


def test_pairwise_distance_equal_rows_and_float32():
    x = rand(3, 4, seed=3)
    check(lambda lib, a, b: lib.F.pairwise_distance(a, b), x, x.copy())           # distance eps * sqrt(D)
    check(lambda lib, a, b: lib.F.pairwise_distance(a, b, eps=0.0), x, x.copy(),  # zero norm: gradient 0
          second_order=False)  # torch's second derivative at a zero norm is NaN, cnnlab's finite
    check_float32(lambda lib, a, b: lib.F.pairwise_distance(a, b), x, rand(3, 4, seed=4))
    got = F.pairwise_distance(cnnlab.tensor([1, 2]), cnnlab.tensor([1, 3]))
    want = torch.nn.functional.pairwise_distance(torch.tensor([1, 2]), torch.tensor([1, 3]))
    assert got.dtype == cnnlab.float32 and np.allclose(got.numpy(), want.numpy())


@pytest.mark.parametrize("dim", [1, 0, -1])
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (1, 5)), ((2, 3, 4), (2, 3, 4))])
def test_cosine_similarity(dim, shapes):
    check(lambda lib, x, y: lib.F.cosine_similarity(x, y, dim=dim), rand(*shapes[0], seed=5), rand(*shapes[1], seed=6))


def test_cosine_similarity_small_norms_floor_in_value_only():
    a = rand(3, 4, seed=7)
    a[0] = 0.0            # zero vector: norm floored at eps
    a[1] *= 1e-9          # norm below eps: value uses eps, gradient passes through the norm (as PyTorch)
    check(lambda lib, x, y: lib.F.cosine_similarity(x, y, eps=1e-6), a, rand(3, 4, seed=8),
          second_order=False)  # torch's second derivative at the zero vector is NaN, cnnlab's finite
    check(lambda lib, x, y: lib.F.cosine_similarity(x, y, dim=0), rand(5, seed=9), rand(5, seed=10))
    check_float32(lambda lib, x, y: lib.F.cosine_similarity(x, y), rand(3, 4, seed=11), rand(3, 4, seed=12))


def test_modules():
    a, b = rand(4, 6, seed=13), rand(4, 6, seed=14)
    check(lambda lib, x, y: lib.torch.nn.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True)(x, y), a, b)
    check(lambda lib, x, y: lib.torch.nn.CosineSimilarity(dim=0, eps=1e-3)(x, y), a, b)
    assert nn.PairwiseDistance(p=3.0).norm == 3.0


def test_errors():
    with pytest.raises(ValueError, match=r"pairwise_distance: x1 and x2 must broadcast together .* "
                                         r"Got x1.shape=\(3, 4\), x2.shape=\(3, 5\)"):
        F.pairwise_distance(cnnlab.ones(3, 4), cnnlab.ones(3, 5))
    with pytest.raises(RuntimeError):
        torch.nn.functional.pairwise_distance(torch.ones(3, 4), torch.ones(3, 5))
    with pytest.raises(IndexError, match=r"cosine_similarity: dim out of range .* Got dim=2"):
        F.cosine_similarity(cnnlab.ones(3, 4), cnnlab.ones(3, 4), dim=2)
    with pytest.raises(IndexError):
        torch.nn.functional.cosine_similarity(torch.ones(3, 4), torch.ones(3, 4), dim=2)
    with pytest.raises(TypeError, match="cosine_similarity: x1 and x2 must be floating point"):
        F.cosine_similarity(cnnlab.tensor([1, 2]), cnnlab.tensor([1, 2]), dim=0)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4), (1, 3)])  # (0, M): torch's pdist backward crashes
def test_pdist(p, shape):
    check(lambda lib, x: lib.F.pdist(x, p=p), rand(*shape, seed=20))
    check(lambda lib, x: lib.torch.pdist(x, p), rand(*shape, seed=21))


def test_pdist_empty_input():
    x = cnnlab.ones(0, 2, requires_grad=True)
    out = F.pdist(x)
    assert out.shape == (0,) and tuple(torch.pdist(torch.ones(0, 2)).shape) == (0,)
    out.sum().backward()
    assert x.grad.shape == (0, 2)


def test_pdist_equal_rows_and_errors():
    x = rand(3, 2, seed=22)
    x[2] = x[0]
    check(lambda lib, a: lib.F.pdist(a), x, second_order=False)  # a zero distance: gradient 0 there (a kink:
    # torch has no second order for pdist, finite differences cannot check it there)
    with pytest.raises(ValueError, match=r"pdist: input must be 2-D \(N, M\). Got shape=\(3,\)"):
        F.pdist(cnnlab.ones(3))
    with pytest.raises(ValueError, match="pdist: p must be non-negative. Got p=-1"):
        F.pdist(cnnlab.ones(3, 2), p=-1)
    with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
        torch.pdist(torch.ones(3, 2), p=-1)


def test_top_level_names():
    check(lambda lib, a, b: lib.torch.cosine_similarity(a, b), rand(3, 4, seed=23), rand(3, 4, seed=24))
    check(lambda lib, a, b: lib.torch.pairwise_distance(a, b), rand(3, 4, seed=25), rand(3, 4, seed=26))
