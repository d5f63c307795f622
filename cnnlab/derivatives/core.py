"""create_graph formulas of the core ops: add, sub, mul, div, neg (the elementwise binary/unary closures),
sum and mean, expand, view/reshape. The worked example of the formula API (cnnlab/autograd/graph.py)."""
import numpy as np

from ..autograd.graph import register, sum_to


def binary_op(ctx):
    """The name of the elementwise op (ops/elementwise.py binary_op: 'add', 'mul', 'div', 'pow'...) that
    recorded ctx's node, read from its gradient lambdas' defining function; None for other closures."""
    saved = ctx.saved
    if "grad_b" not in saved or "xa" not in saved or "tb" not in saved:
        return None
    return saved["grad_b"].__qualname__.split(".")[0]


def unary_op(ctx):
    """The name of the elementwise unary op (ops/elementwise.py unary_op: 'neg', 'exp'...) that recorded
    ctx's node; None for other closures."""
    saved = ctx.saved
    if "grad" not in saved or "xa" not in saved or not callable(saved["grad"]):
        return None
    return getattr(saved["grad"], "__qualname__", "").split(".")[0]


def operands(ctx):
    """The two operands of a binary node as (a, b): the Tensor parents, or the constants (numbers/arrays) the op
    took in their place."""
    saved = ctx.saved
    a = saved["ta"] if saved["ta"] is not None else saved["xa"]
    b = saved["tb"] if saved["tb"] is not None else saved["xb"]
    return a, b


def per_parent(ctx, grad_a, grad_b):
    """The parents' gradients from the two operands' (callables, run only when that parent needs one), summed
    to each parent's shape."""
    saved, out = ctx.saved, []
    for t, fn in ((saved["ta"], grad_a), (saved["tb"], grad_b)):
        if t is not None:
            out.append(sum_to(fn(), t.shape) if ctx.needs_input_grad[len(out)] else None)
    return tuple(out)


@register("AddBackward0")
def _add(ctx, grad):
    if binary_op(ctx) != "add":
        return NotImplemented
    return per_parent(ctx, lambda: grad, lambda: grad)


@register("SubBackward0")
def _sub(ctx, grad):
    if binary_op(ctx) != "sub":
        return NotImplemented
    return per_parent(ctx, lambda: grad, lambda: -grad)


@register("MulBackward0")
def _mul(ctx, grad):
    op = binary_op(ctx)
    if op == "div":  # 2 / x is recorded as MulBackward0, as in PyTorch
        return _div(ctx, grad)
    if op != "mul":
        return NotImplemented
    a, b = operands(ctx)
    return per_parent(ctx, lambda: grad * b, lambda: grad * a)


@register("DivBackward0")
def _div(ctx, grad):
    if binary_op(ctx) != "div":
        return NotImplemented
    a, b = operands(ctx)
    return per_parent(ctx, lambda: grad / b, lambda: -grad * a / (b * b))


@register("NegBackward0")
def _neg(ctx, grad):
    if unary_op(ctx) != "neg":
        return NotImplemented
    return (-grad,)


def _reduced_back(ctx, grad):
    """A sum/mean's gradient put back into the input's shape: grad expanded over the reduced axes."""
    saved = ctx.saved
    shape, axes = saved["x"].shape, saved["axes"]
    if not saved["keepdim"] and axes:
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        grad = grad.reshape(tuple(kept))
    return grad.expand(shape)


@register("SumBackward0")
@register("SumBackward1")
def _sum(ctx, grad):
    if not {"x", "axes", "keepdim"} <= ctx.saved.keys():
        return NotImplemented
    return (_reduced_back(ctx, grad),)


@register("MeanBackward0")
@register("MeanBackward1")
def _mean(ctx, grad):
    if not {"x", "axes", "keepdim", "count"} <= ctx.saved.keys():
        return NotImplemented
    # expand, then divide: with count == 0 the expanded gradient is empty, so d/dgrad is 0 (as PyTorch's), not
    # the NaN of grad / 0
    return (_reduced_back(ctx, grad) / ctx.saved["count"],)


@register("ExpandBackward")
def _expand(ctx, grad):
    if "shape" not in ctx.saved or len(ctx.inputs) != 1:
        return NotImplemented
    return (sum_to(grad, ctx.saved["shape"]),)


@register("ViewBackward0")
@register("UnsafeViewBackward0")
def _view(ctx, grad):
    saved, (x,) = ctx.saved, ctx.inputs if len(ctx.inputs) == 1 else (None,)
    if x is None:
        return NotImplemented
    if saved.keys() == {"x"} and isinstance(saved["x"], np.ndarray):  # reshape/view: g.reshape(x.shape)
        return (grad.reshape(saved["x"].shape),)
    if not saved and tuple(grad.shape) == tuple(x.shape):  # a same-dtype view(dtype): the identity
        return (grad,)
    return NotImplemented
