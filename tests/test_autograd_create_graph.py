"""create_graph=True (issue 18): the engine's recording walk against PyTorch in float64: higher derivatives of
expressions built from the core formulas (add, sub, mul, div, neg, sum, mean, expand, view), mixed partials,
hooks, a leaf's .grad with a grad_fn, retain_graph defaulting to create_graph, custom Functions, module backward
hooks, linear_op, and the error an op without a formula gives when its gradient is differentiated."""
import numpy as np
import pytest

import cnnlab
from cnnlab.autograd.graph import linear_op, sum_to
from oracle import rand

torch = pytest.importorskip("torch")


def _pair(*arrays):
    return ([cnnlab.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _close(c, p, **kw):
    assert c is not None and p is not None
    np.testing.assert_allclose(c.detach().numpy(), p.detach().numpy(), rtol=1e-10, atol=1e-12, **kw)


def _cube(lib, x):  # x**3 from mul, with a broadcast constant, a division and a negation
    return (x * x * x - (x / 2) * 3 + (-x) * x).sum()


def test_third_derivative_of_a_polynomial_in_mul():
    (c,), (p,) = _pair(rand(5, seed=1))
    results = []
    for lib, x in ((cnnlab, c), (torch, p)):
        (g1,) = lib.autograd.grad(_cube(lib, x), x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad((g2 * g2).sum(), x)
        results.append((g1, g2, g3))
    for a, b in zip(*results):
        _close(a, b)
    assert results[0][0].grad_fn is not None and results[0][1].grad_fn is not None


def test_mixed_partials_of_a_product_with_broadcasting():
    (cx, cy), (px, py) = _pair(rand(3, 4, seed=2), rand(4, seed=3))
    out = []
    for lib, x, y in ((cnnlab, cx, cy), (torch, px, py)):
        gx, gy = lib.autograd.grad((x * y / (y * y + 1)).mean(), (x, y), create_graph=True)
        v = lib.tensor(rand(3, 4, seed=4))
        out.append(lib.autograd.grad((gx * v).sum() + gy.sum(), (x, y)))
    for a, b in zip(*out):
        _close(a, b)


def test_sum_mean_expand_view_second_order():
    (c,), (p,) = _pair(rand(2, 3, seed=5))
    out = []
    for lib, x in ((cnnlab, c), (torch, p)):
        y = x.sum(1, keepdim=True).expand(2, 3) * x.mean(0) + x.view(3, 2).reshape(6).sum() * x
        g = lib.tensor(rand(2, 3, seed=6))
        (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
        out.append(lib.autograd.grad((gx * gx).sum(), x))
    _close(out[0][0], out[1][0])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # PyTorch's reference-cycle note
def test_backward_create_graph_gives_leaf_grad_a_grad_fn_and_accumulates_out_of_place():
    (c,), (p,) = _pair(rand(4, seed=7))
    grads = []
    for x in (c, p):
        (x * x * x).sum().backward(create_graph=True)
        first = x.grad
        (x * x).sum().backward(create_graph=True)
        assert x.grad is not first  # out of place: the first .grad keeps its value
        grads.append((first.detach().clone() if x is p else first, x.grad))
        assert x.grad.grad_fn is not None
    _close(grads[0][0], grads[1][0])
    _close(grads[0][1], grads[1][1])
    for x in (c, p):
        g = x.grad
        x.grad = None
        g.sum().backward()
    _close(c.grad, p.grad)


def test_retain_graph_defaults_to_create_graph():
    (c,), (p,) = _pair(rand(3, seed=8))
    for x in (c, p):
        y = (x * x).sum()
        y.backward(create_graph=True)
        y.backward()  # the graph was kept: no error
        z = (x * 2).sum()
        z.backward()
        with pytest.raises(RuntimeError, match="second time"):
            z.backward()
    _close(c.grad, p.grad)


def test_tensor_hooks_get_and_return_tensors_in_the_recorded_walk():
    (c,), (p,) = _pair(rand(3, seed=9))
    out = []
    for lib, x in ((cnnlab, c), (torch, p)):
        y = x * x
        seen = []
        y.register_hook(lambda g: seen.append(type(g).__name__) or g * x)  # depends on x: differentiable
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        out.append((g, lib.autograd.grad(g.sum(), x)[0]))
        assert seen == ["Tensor"]
    _close(out[0][0], out[1][0])
    _close(out[0][1], out[1][1])


def test_an_op_without_a_formula_gives_first_order_values_and_raises_when_differentiated():
    x = cnnlab.tensor([0.5, 1.5], requires_grad=True)
    y = cnnlab.Tensor._from_op(x._data ** 2, (x,), lambda g: (2 * x._data * g,), "NoFormulaBackward0")
    (g,) = cnnlab.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [1.0, 3.0])
    assert g.grad_fn.name() == "NoFormulaBackwardBackward0"
    with pytest.raises(cnnlab.GradError, match=r"NoFormulaBackward0: double backward \(the derivative of this op's "
                                               r"gradient\) is not implemented"):
        cnnlab.autograd.grad(g.sum(), x)
    # the gradient does not depend on x through the upstream gradient alone: still recorded, never a silent zero
    assert g.requires_grad


def test_linear_op_is_closed_to_any_order():
    x = cnnlab.tensor(rand(4, seed=10), requires_grad=True)
    w = cnnlab.tensor(rand(4, seed=11), requires_grad=True)
    flip = lambda a: a[::-1].copy()  # noqa: E731
    y = linear_op("FlipBackward0", flip, flip, x * w)
    (gx,) = cnnlab.autograd.grad((y * y).sum(), x, create_graph=True)
    (gw,) = cnnlab.autograd.grad(gx.sum(), w)
    px, pw = torch.tensor(rand(4, seed=10), requires_grad=True), torch.tensor(rand(4, seed=11), requires_grad=True)
    (pgx,) = torch.autograd.grad((torch.flip(px * pw, (0,)) ** 2).sum(), px, create_graph=True)
    _close(gx, pgx)
    _close(gw, torch.autograd.grad(pgx.sum(), pw)[0])


def test_sum_to_reduces_broadcast_dims():
    t = cnnlab.tensor(rand(2, 3, 4, seed=12), requires_grad=True)
    r = sum_to(t, (3, 1))
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy().sum(axis=(0, 2)).reshape(3, 1))
    assert sum_to(t, (2, 3, 4)) is t


def test_custom_function_backward_written_in_tensor_ops_is_differentiable():
    class Cube(cnnlab.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    class TCube(torch.autograd.Function):
        forward, backward = staticmethod(Cube.forward), staticmethod(Cube.backward)

    (c,), (p,) = _pair(rand(3, seed=13))
    out = []
    for lib, fn, x in ((cnnlab, Cube, c), (torch, TCube, p)):
        (g,) = lib.autograd.grad(fn.apply(x).sum(), x, create_graph=True)
        out.append((g, lib.autograd.grad(g.sum(), x)[0]))
    _close(out[0][0], out[1][0])
    _close(out[0][1], out[1][1])


def test_custom_function_with_two_outputs_joins_in_the_recorded_walk():
    class Split(cnnlab.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x, x * 2

        @staticmethod
        def backward(ctx, ga, gb):
            (x,) = ctx.saved_tensors
            return 2 * x * ga + 2 * gb

    x = cnnlab.tensor(rand(3, seed=14), requires_grad=True)
    a, b = Split.apply(x)
    (g,) = cnnlab.autograd.grad((a * 3 + b).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 6 * x.detach().numpy() + 2)
    (h,) = cnnlab.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.full(3, 6.0))


def test_module_backward_hooks_pass_recorded_gradients_through():
    calls, out = [], []
    for lib in (cnnlab, torch):
        class Square(lib.nn.Module):
            def forward(self, x):
                return x * x

        sq = Square()
        sq.register_full_backward_hook(lambda m, gi, go: calls.append(type(gi[0]).__name__))
        x = lib.tensor(rand(2, 3, seed=16), requires_grad=True)
        w = lib.tensor(rand(3, seed=15), requires_grad=True)
        (g,) = lib.autograd.grad((sq(x) * w).sum(), x, create_graph=True)
        out.append((g, lib.autograd.grad(g.sum(), (x, w))))
    assert calls == ["Tensor", "Tensor"]
    _close(out[0][0], out[1][0])
    for a, b in zip(out[0][1], out[1][1]):
        _close(a, b)


def test_a_gradient_replaced_by_a_module_hook_raises_when_differentiated():
    class Square(cnnlab.nn.Module):
        def forward(self, x):
            return x * x

    sq = Square()
    sq.register_full_backward_hook(lambda m, gi, go: (gi[0] * 2,))
    x = cnnlab.tensor(rand(3, seed=17), requires_grad=True)
    (g,) = cnnlab.autograd.grad(sq(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 4 * x.detach().numpy())
    with pytest.raises(cnnlab.GradError, match="BackwardHookFunctionBackward: double backward"):
        cnnlab.autograd.grad(g.sum(), x)


def test_a_custom_function_whose_backward_returns_arrays_raises_when_differentiated():
    class Twice(cnnlab.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x.detach().numpy() * g.detach().numpy()  # values only: not differentiable

    x = cnnlab.tensor(rand(3, seed=18), requires_grad=True)
    (g,) = cnnlab.autograd.grad(Twice.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * x.detach().numpy())
    with pytest.raises(cnnlab.GradError, match="TwiceBackward: double backward"):
        cnnlab.autograd.grad(g.sum(), x)


def test_a_grad_output_that_requires_grad_stays_in_the_graph():  # the double-vjp trick behind jvp
    out = []
    for lib in (cnnlab, torch):
        x = lib.tensor(rand(3, seed=19), requires_grad=True)
        u = lib.tensor(rand(3, seed=20), requires_grad=True)
        (g,) = lib.autograd.grad(x * x * 3, x, u, create_graph=True)
        out.append(lib.autograd.grad(g.sum(), (u, x)))
    for c, p in zip(*out):
        _close(c, p)


def test_gradients_are_cast_to_their_tensors_dtype_inside_the_graph():
    out = []
    for lib in (cnnlab, torch):
        x = lib.tensor(rand(3, seed=21), requires_grad=True)
        w = lib.tensor(rand(3, seed=22), requires_grad=True, dtype=lib.float32)
        (gw,) = lib.autograd.grad((x * w * w).sum(), w, create_graph=True)
        assert gw.dtype == lib.float32
        out.append(lib.autograd.grad(gw.sum(), (x, w)))
    for c, p in zip(*out):
        np.testing.assert_allclose(c.detach().numpy(), p.detach().numpy(), rtol=1e-6)


def test_a_custom_function_that_saves_its_output_is_differentiated_through_it():
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    Exp = type("Exp", (cnnlab.autograd.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})
    TExp = type("TExp", (torch.autograd.Function,), {"forward": staticmethod(forward),
                                                     "backward": staticmethod(backward)})
    out = []
    for lib, fn in ((cnnlab, Exp), (torch, TExp)):
        x = lib.tensor(rand(3, seed=23), requires_grad=True)
        (g,) = lib.autograd.grad((fn.apply(x) * x).sum(), x, create_graph=True)
        out.append((g, lib.autograd.grad(g.sum(), x)[0]))
    _close(out[0][0], out[1][0])
    _close(out[0][1], out[1][1])


def test_grad_walks_only_the_branches_that_lead_to_its_inputs():
    x = cnnlab.tensor(rand(3, seed=24), requires_grad=True)
    w = cnnlab.tensor(rand(3, seed=25), requires_grad=True)
    calls = []
    flip = lambda a: calls.append(1) or a[::-1].copy()  # noqa: E731
    y = x * linear_op("FlipBackward0", flip, flip, w)  # the flip's gradient leads only to w
    calls.clear()
    (gx,) = cnnlab.autograd.grad(y.sum(), x, create_graph=True)
    assert calls == []
    np.testing.assert_allclose(gx.detach().numpy(), w.detach().numpy()[::-1])
    (gw,) = cnnlab.autograd.grad(y.sum(), w, create_graph=True)
    assert calls == [1]


def test_once_differentiable_gives_values_whose_derivative_raises():
    from cnnlab.autograd.function import once_differentiable

    class Square(cnnlab.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = cnnlab.tensor(rand(3, seed=26), requires_grad=True)
    Square.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    (g,) = cnnlab.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * x.detach().numpy())
    with pytest.raises(cnnlab.GradError, match="SquareBackward: double backward"):
        cnnlab.autograd.grad(g.sum(), x)


def test_non_reentrant_checkpoint_is_differentiable_twice():
    from cnnlab.utils.checkpoint import checkpoint

    w = cnnlab.tensor(rand(3, seed=27), requires_grad=True)
    segment = lambda t: t * t * w + t  # noqa: E731  (reads the leaf w from the enclosing scope)
    results = []
    for wrap in (lambda t: segment(t), lambda t: checkpoint(segment, t, use_reentrant=False)):
        x = cnnlab.tensor(rand(3, seed=28), requires_grad=True)
        h = x * 2  # a non-leaf input to the segment
        (gx,) = cnnlab.autograd.grad((wrap(h) * wrap(h)).sum(), x, create_graph=True)
        results.append((gx,) + cnnlab.autograd.grad(gx.sum(), (x, w)))
    for a, b in zip(*results):
        _close(a, b)


@pytest.mark.parametrize("shape,dim", [((0, 3), 0), ((0,), None)])
def test_mean_of_an_empty_tensor_has_a_zero_derivative_in_its_upstream_gradient(shape, dim):
    # PyTorch: the mean is NaN, its input gradient empty, and d(grad . v)/dg = 0 (a sum over nothing)
    results = []
    for lib in (cnnlab, torch):
        x = lib.zeros(*shape, dtype=lib.float64, requires_grad=True)
        y = x.mean() if dim is None else x.mean(dim)
        g = lib.ones(y.shape, dtype=lib.float64, requires_grad=True)
        (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
        (gg,) = lib.autograd.grad(gx.sum(), g, allow_unused=True, materialize_grads=True)
        results.append(gg.detach().numpy())
    np.testing.assert_array_equal(results[0], results[1])
