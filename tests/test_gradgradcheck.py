"""cnnlab.autograd.gradgradcheck: second derivatives against finite differences of the first, as
torch.autograd.gradgradcheck; it passes on right formulas and fails on wrong ones."""
import numpy as np
import pytest

import cnnlab
from cnnlab.autograd import GradcheckError, gradgradcheck

from test_oracle_second_order import SquareFirstOrderOnly  # a backward that loses the second derivative


def _t(*shape, seed=0, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return cnnlab.tensor(rng.uniform(low, high, shape), requires_grad=True)


def test_passes_on_right_formulas():
    x, y = _t(3, 2), _t(3, 2, seed=1, low=0.5, high=2.0)
    assert gradgradcheck(lambda a, b: (a * b * a - a / b, (a * b).sum(dim=0)), (x, y))
    assert gradgradcheck(lambda a: a * a * a, x, seed=3)
    assert gradgradcheck(lambda a, b: a * b, (x, y), grad_outputs=_t(3, 2, seed=4))


def test_only_inputs_that_require_grad_are_checked():
    x = _t(4)
    c = cnnlab.tensor(np.arange(4.0))
    assert gradgradcheck(lambda a, k: a * a * k, (x, c))


def test_fails_on_a_lost_second_derivative():
    x = _t(4, seed=5)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(SquareFirstOrderOnly.apply, (x,))
    assert gradgradcheck(SquareFirstOrderOnly.apply, (x,), raise_exception=False) is False


def test_missing_formula_raises():
    x = _t(3, seed=7)

    def square(t):
        return cnnlab.Tensor._from_op(t._data ** 2, (t,), lambda g: (2 * g * t._data,), "GradgradSelfTestBackward0")
    with pytest.raises(cnnlab.GradError, match="double backward .* is not implemented"):
        gradgradcheck(square, (x,))


def test_needs_a_differentiable_input():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradgradcheck(lambda a: a * a, (cnnlab.ones(2, dtype=cnnlab.float64),))


def test_matches_pytorch_verdicts():
    """The same functions pass in both libraries (PyTorch's gradgradcheck as a cross-check of the tool)."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(9).uniform(-1, 1, (2, 3))
    for lib, check in ((torch, torch.autograd.gradgradcheck), (cnnlab, gradgradcheck)):
        x = lib.tensor(a, requires_grad=True)
        assert check(lambda t: (t * t * t).sum(dim=1), (x,))
