"""cnnlab's gradcheck (cnnlab/autograd/finite_differences.py) against torch.autograd.gradcheck: the same verdicts."""
import numpy as np
import pytest

import cnnlab
from cnnlab.autograd import Function, GradcheckError, gradcheck
from oracle import rand

torch = pytest.importorskip("torch")


def wrong_double(base):
    class WrongDouble(base):  # forward doubles, backward claims a factor 3
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3
    return WrongDouble


FUNCS = {
    "sigmoid sum": (lambda lib, t: (t.sigmoid() * t).sum(dim=1), True),
    "two inputs": (lambda lib, a, b: (a @ b).tanh(), True),
    "tuple output": (lambda lib, t: (t.exp(), t.sin().sum()), True),
    "wrong backward": (lambda lib, t: wrong_double(Function if lib is cnnlab else torch.autograd.Function).apply(t),
                       False),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradcheck_verdicts_match_torch(name):
    fn, ok = FUNCS[name]
    shapes = [(2, 3), (3, 2)] if name == "two inputs" else [(2, 3)]
    for lib, check in ((cnnlab, gradcheck), (torch, torch.autograd.gradcheck)):
        ins = tuple(lib.tensor(rand(*s, seed=k + 1), requires_grad=True) for k, s in enumerate(shapes))
        assert check(lambda *t: fn(lib, *t), ins, eps=1e-6, atol=1e-4, raise_exception=False) is ok
        if not ok:
            with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
                check(lambda *t: fn(lib, *t), ins, eps=1e-6, atol=1e-4)


def test_gradcheck_non_contiguous_input_and_errors():
    x = cnnlab.tensor(rand(3, 2, seed=4), requires_grad=True)
    xt = cnnlab.Tensor._wrap(x.detach().numpy().T).requires_grad_()  # a transposed (non-contiguous) leaf
    assert not xt.is_contiguous() and gradcheck(lambda t: (t * t).sum(0), (xt,))
    with pytest.raises(ValueError, match="gradcheck: expected at least one input tensor to require gradient"):
        gradcheck(lambda t: t * 2, (cnnlab.ones(2, dtype=cnnlab.float64),))
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        gradcheck(lambda t: t * 2, (cnnlab.ones(2, requires_grad=True),), eps=1e-2, atol=1e-2)
    assert issubclass(GradcheckError, RuntimeError)
    np.testing.assert_array_equal(xt.detach().numpy(), x.detach().numpy().T)  # the input is restored
