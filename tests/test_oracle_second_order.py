"""The oracle's second-order mode can fail: a missing double-backward formula, a wrong one, and wrong numbers
where PyTorch refuses are all caught; a right one passes. (check(..., second_order=True), issue 18.)"""
import numpy as np
import pytest

import cnnlab
from cnnlab import Tensor

torch = pytest.importorskip("torch")
import oracle  # noqa: E402
from oracle import check, rand  # noqa: E402


def _square_without_formula(x):
    """x ** 2 as an op the formula registry does not know: first order works, its gradient is not differentiable
    (the engine records a node that raises GradError when differentiated)."""
    return Tensor._from_op(x._data ** 2, (x,), lambda g: (2 * g * x._data,), "OracleSelfTestSquareBackward0")


class SquareFirstOrderOnly(cnnlab.autograd.Function):
    """x ** 2 whose backward is written in tensor ops but treats x as a constant: the first derivative is right,
    the second (2 * g) is lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x.detach()


class _TorchOnceDifferentiable(torch.autograd.Function):
    """PyTorch's way to refuse a second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x


def _torch_square(lib, x):
    return x * x


def test_right_formulas_pass():
    check(lambda lib, x, y: (x * y * x - x / y).sum(dim=1), rand(3, 4), rand(3, 4, seed=1, low=0.5, high=2),
          second_order=True)


def test_missing_formula_fails():
    with pytest.raises(AssertionError, match="cnnlab raised where torch computes it"):
        check(lambda lib, x: _square_without_formula(x), rand(5), torch_fn=_torch_square, second_order=True,
              variants=False)


def test_wrong_formula_fails():
    with pytest.raises(AssertionError, match="second derivative"):
        check(lambda lib, x: SquareFirstOrderOnly.apply(x), rand(5), torch_fn=_torch_square, second_order=True,
              variants=False)


def test_torch_refusal_needs_a_cnnlab_refusal_or_right_numbers():
    """Where PyTorch has no double backward, cnnlab may refuse too (GradError) or do better: then its numbers
    must agree with finite differences of its own gradient."""
    refuse = lambda lib, x: _TorchOnceDifferentiable.apply(x)  # noqa: E731
    check(lambda lib, x: _square_without_formula(x), rand(5), torch_fn=refuse, second_order=True, variants=False)
    check(_torch_square, rand(5), torch_fn=refuse, second_order=True, variants=False)
    with pytest.raises((AssertionError, cnnlab.autograd.GradcheckError)):
        check(lambda lib, x: SquareFirstOrderOnly.apply(x), rand(5), torch_fn=refuse, second_order=True,
              variants=False)


def test_derivative_in_the_upstream_gradient_is_compared():
    """A linear op's second derivative lives only in g's direction (d/dg of J^T g . v = J v): a backward that
    gives the right first-order numbers but is not a function of g would pass a check of x's direction alone."""
    class Detached(cnnlab.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g.detach() * 3

    with pytest.raises(AssertionError, match="upstream gradient of output 0"):
        check(lambda lib, x: Detached.apply(x), rand(4), torch_fn=lambda lib, x: x * 3, second_order=True,
              variants=False)


def test_default_follows_the_environment(monkeypatch):
    monkeypatch.setattr(oracle, "SECOND_ORDER", True)
    with pytest.raises(AssertionError):
        check(lambda lib, x: SquareFirstOrderOnly.apply(x), rand(5), torch_fn=_torch_square, variants=False)
    monkeypatch.setattr(oracle, "SECOND_ORDER", False)
    check(lambda lib, x: SquareFirstOrderOnly.apply(x), rand(5), torch_fn=_torch_square, variants=False)
    check(lambda lib, x: x * x, np.array([1.5, -2.0]), second_order=False)
