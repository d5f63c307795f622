"""Issue 19, item 1: scalar (0-d) autograd, the first example of every autograd tutorial, against PyTorch.

Gradients of 0-d tensors are NumPy scalars after arithmetic; where two of them met in the graph the engine
tried to add in place into a scalar (TypeError: return arrays must be of ArrayType)."""
import warnings

import numpy as np
import pytest

import cnnlab
from oracle import check, rand

torch = pytest.importorskip("torch")

TUTORIAL = {
    "x*x+x": lambda x: x * x + x,
    "(x+x)*x": lambda x: (x + x) * x,
    "x**2+3x+1": lambda x: x ** 2 + 3 * x + 1,
    "exp*sin+x": lambda x: x.exp() * x.sin() + x,
    "(x*x+x)*(x+1)": lambda x: (x * x + x) * (x + 1),
    "stack used twice": lambda x: (x * 2).sum() + x,
    "tanh chain": lambda x: (x.tanh() * x).relu() + x.sigmoid() * x,
    "mean of itself": lambda x: (x + x).mean() * x.abs(),
}


@pytest.mark.parametrize("name", sorted(TUTORIAL))
def test_scalar_autograd_tutorial_examples_match_torch(name):
    f = TUTORIAL[name]
    x = cnnlab.tensor(2.0, requires_grad=True)
    f(x).backward()
    xt = torch.tensor(2.0, requires_grad=True)
    f(xt).backward()
    assert x.grad.shape == () and x.grad.dtype == cnnlab.float32
    np.testing.assert_allclose(x.grad.item(), xt.grad.item(), rtol=1e-6)


def test_scalar_grads_accumulate_over_two_backwards_and_through_retain_grad():
    x = cnnlab.tensor(3.0, requires_grad=True)
    y = x * x
    y.retain_grad()
    (y + y).backward()
    (x * x + x).backward()
    assert isinstance(x.grad.numpy(), np.ndarray) and x.grad.item() == 12.0 + 7.0
    assert y.grad.item() == 2.0


def test_scalar_intermediate_used_by_three_ops_float64():
    check(lambda lib, a, b: (a * b + a) * (b - a) + a / b, np.array(0.7), np.array(-1.3))


def test_overflowing_sum_of_two_gradients_gives_inf_without_warning():
    x = cnnlab.tensor(1.0, dtype=cnnlab.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * 1.5e308 + x * 1.5e308).backward()
    assert x.grad.item() == np.inf


# dim-taking ops on 0-d tensors, found by the oracle's 0-d variant: torch treats dim 0/-1 as the tensor itself
ZERO_D = {
    "flip": lambda lib, x: x.flip(0),
    "flip -1": lambda lib, x: lib.torch.flip(x, (-1,)),
    "movedim": lambda lib, x: x.movedim(0, -1),
    "mT": lambda lib, x: x.mT * 1,
    "unfold": lambda lib, x: x.unfold(0, 1, 1),
    "gather": lambda lib, x: x.gather(0, lib.torch.tensor(0)),
    "index_select": lambda lib, x: x.index_select(0, lib.torch.tensor([0])),
    "scatter": lambda lib, x, s: x.scatter(0, lib.torch.tensor(0), s),
}


@pytest.mark.parametrize("name", sorted(ZERO_D))
def test_dim_ops_on_0d_tensors_match_torch(name):
    fn = ZERO_D[name]
    args = [np.array(0.25), np.array(-2.0)][:fn.__code__.co_argcount - 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation warning for mT on 0-d
        check(fn, *args, variants=False)


def test_flip_takes_dims_as_varargs_like_torch():
    check(lambda lib, x: x.flip(0, 1), rand(2, 3))
