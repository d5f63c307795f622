"""cnnlab's autograd.Function (custom ops with a hand-written backward) against torch.autograd.Function."""
import numpy as np
import pytest

import cnnlab
from cnnlab.autograd import Function, FunctionCtx
from oracle import rand

torch = pytest.importorskip("torch")


def make(base):
    """The same custom Functions written against either library's Function base class."""
    class MyReLU(base):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class ScaledMul(base):  # a non-tensor argument, a second input that may not need grad, a ctx attribute
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None

    class SplitExp(base):  # two outputs, backward gets both gradients at once
        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            ctx.save_for_backward(e)
            return e, x * 2

        @staticmethod
        def backward(ctx, g_exp, g_double):
            e, = ctx.saved_tensors
            return g_exp * e + 2 * g_double

    class BiasSum(base):  # backward returns a gradient of the broadcast shape: summed to the input's
        @staticmethod
        def forward(ctx, x, bias):
            return x + bias

        @staticmethod
        def backward(ctx, g):
            return g, g

    class Cube(base):  # the newer style: forward without ctx, setup_context
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    class ArgMaxValue(base):  # an integer output marked non-differentiable
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax(1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return x.max(1)[0], idx

        @staticmethod
        def backward(ctx, g, g_idx):
            x, idx = ctx.saved_tensors
            out = x.new_zeros(x.shape)
            out[range(x.shape[0]), idx] = g
            return out

    return dict(relu=MyReLU, mul=ScaledMul, split=SplitExp, bias=BiasSum, cube=Cube, argmax=ArgMaxValue)


CN, PT = make(Function), make(torch.autograd.Function)


def _run(lib, fns, case):
    x = lib.tensor(rand(2, 3, seed=1), requires_grad=True)
    y = lib.tensor(rand(2, 3, seed=2), requires_grad=True)
    w = lib.tensor(rand(2, 3, seed=3))
    if case == "relu":
        out = fns["relu"].apply(x)
        loss = (out * w).sum()
    elif case == "mul":
        out = fns["mul"].apply(x, y, 2.5)
        loss = (out * w).sum()
    elif case == "mul_one_grad":
        out = fns["mul"].apply(x, y.detach(), 2.5)
        loss = (out * w).sum()
    elif case == "split_both":
        e, d = fns["split"].apply(x)
        out, loss = e, (e * w).sum() + (d * d).sum()
    elif case == "split_one":
        e, d = fns["split"].apply(x)
        out, loss = d, (d * w).sum()
    elif case == "bias":
        b = lib.tensor(rand(3, seed=4), requires_grad=True)
        out = fns["bias"].apply(x, b)
        loss = (out * w).sum()
        loss.backward()
        return [out.detach().numpy(), x.grad.numpy(), b.grad.numpy()]
    elif case == "cube":
        out = fns["cube"].apply(x)
        loss = (out * w).sum()
    elif case == "argmax":
        out, idx = fns["argmax"].apply(x)
        assert not idx.requires_grad and idx.grad_fn is None
        loss = (out * w[:, 0]).sum()
    loss.backward()
    return [out.detach().numpy(), x.grad.numpy(), None if y.grad is None else y.grad.numpy()]


@pytest.mark.parametrize("case", ["relu", "mul", "mul_one_grad", "split_both", "split_one", "bias", "cube", "argmax"])
def test_custom_function_matches_torch(case):
    got, want = _run(cnnlab, CN, case), _run(torch, PT, case)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12)


def test_grad_fn_name_autograd_grad_and_no_grad():
    x = cnnlab.tensor(rand(4, seed=5), requires_grad=True)
    y = CN["relu"].apply(x)
    assert y.grad_fn.name() == PT["relu"].apply(torch.ones(1, requires_grad=True)).grad_fn.name() == "MyReLUBackward"
    assert repr(y).endswith("grad_fn=<MyReLUBackward>)")
    (g,) = cnnlab.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(g.numpy(), (x.detach().numpy() > 0).astype(np.float64))
    with cnnlab.no_grad():
        assert CN["relu"].apply(x).grad_fn is None
    assert CN["relu"].apply(x.detach()).grad_fn is None


def test_backward_may_write_into_its_gradient():
    class Halve(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            g.mul_(0.5)
            return g

    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    z = Halve.apply(x)
    (z * 2 + z).sum().backward()  # the incoming gradient is shared by two paths upstream
    assert x.grad.tolist() == [1.5, 1.5]


def test_custom_function_errors():
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    x = cnnlab.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function TooManyBackward returned an incorrect number of gradients "
                                           r"\(expected 1, got 2\)"):
        TooMany.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward returned an invalid gradient at index 0: got shape "
                                           r"\(1,\)"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(TypeError, match="legacy autograd functions"):
        TooMany()(x)
    with pytest.raises(TypeError, match="save_for_backward: can only save tensors"):
        FunctionCtx().save_for_backward(1.0)
    for lib, base in ((cnnlab, Function), (torch, torch.autograd.Function)):
        class NoBackward(base):
            @staticmethod
            def forward(ctx, x):
                return x * 2
        with pytest.raises(NotImplementedError):
            NoBackward.apply(lib.ones(2, requires_grad=True)).sum().backward()
