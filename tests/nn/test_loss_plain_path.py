"""cross_entropy's common training case ((N, C) logits, every class index valid, no weight, no label smoothing,
'mean' or 'sum') takes loss._plain_cross_entropy, the same math in fewer NumPy calls: checked against PyTorch
in float64 and float32, its errors, and every case that must keep the general path."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.nn.functional import loss as loss_module
from oracle import check, check_float32, rand


def _labels(n, C, seed=0):
    return np.random.default_rng(seed).integers(0, C, n).astype(np.int64)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(64, 10), (1, 3), (7, 1)])
def test_plain_cross_entropy_matches_torch(reduction, shape):
    x, y = rand(*shape, seed=1, low=-4, high=4), _labels(shape[0], shape[1])
    check(lambda lib, x, y: lib.F.cross_entropy(x, y, reduction=reduction), x, y, grad=[True, False])
    check_float32(lambda lib, x, y: lib.F.cross_entropy(x, y, reduction=reduction), x, y)


def _spy(monkeypatch):
    calls = []
    plain = loss_module._plain_cross_entropy
    monkeypatch.setattr(loss_module, "_plain_cross_entropy", lambda *a: calls.append(1) or plain(*a))
    return calls


def test_the_common_case_takes_the_plain_path(monkeypatch):
    calls = _spy(monkeypatch)
    x = cnnlab.tensor(rand(8, 5, seed=2), requires_grad=True)
    F.cross_entropy(x, cnnlab.tensor(_labels(8, 5))).backward()
    assert calls == [1]
    assert x.grad is not None


@pytest.mark.parametrize("kwargs,xshape", [
    ({"reduction": "none"}, (6, 4)), ({"weight": np.ones(4)}, (6, 4)), ({"label_smoothing": 0.1}, (6, 4)),
    ({"ignore_index": 2}, (6, 4)), ({}, (6, 4, 3)), ({}, (4,)), ({}, (0, 4))])
def test_other_cases_keep_the_general_path(monkeypatch, kwargs, xshape):
    calls = _spy(monkeypatch)
    kwargs = {k: cnnlab.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    x = cnnlab.tensor(rand(*xshape, seed=3), requires_grad=True)
    yshape = xshape[:1] + xshape[2:] if len(xshape) > 1 else ()
    y = np.arange(int(np.prod(yshape))).reshape(yshape) % xshape[-1 if len(xshape) == 1 else 1]
    F.cross_entropy(x, cnnlab.tensor(y.astype(np.int64)), **kwargs)
    assert calls == []


@pytest.mark.parametrize("bad", [-1, 5])
def test_plain_path_refuses_targets_out_of_range(bad):
    y = _labels(4, 5)
    y[2] = bad
    with pytest.raises(IndexError, match=r"cross_entropy: target values must be in \[0, C\) or ignore_index\. "
                                         rf"Got C=5, min target={min(bad, y.min())}, max target={max(bad, y.max())}"):
        F.cross_entropy(cnnlab.tensor(rand(4, 5)), cnnlab.tensor(y))


def test_plain_path_without_input_gradient():
    x, w = cnnlab.tensor(rand(4, 3, seed=4)), cnnlab.tensor(rand(3, 3, seed=5), requires_grad=True)
    F.cross_entropy(x @ w, cnnlab.tensor(_labels(4, 3))).backward()
    F.cross_entropy(x, cnnlab.tensor(_labels(4, 3)))    # no graph at all
    assert w.grad.shape == (3, 3)
