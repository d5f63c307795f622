"""Converters for the tensor ops: elementwise arithmetic, activations, reductions, shapes and indexing."""
import numpy as np

from .convert_layers import reduce
from .trace import converter

_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "maximum": "Max",
           "minimum": "Min"}


@converter("fn:binary_op")
def binary(ctx):
    loc, g = ctx.loc, ctx.g
    op_type = _BINARY.get(loc["op"])
    if op_type is None:
        ctx.refuse(f"the elementwise op {loc['op']} has no ONNX converter")
    dt = ctx.out._data.dtype

    def operand(t, x):
        return ctx.tracer.name_of(t) if t is not None else g.const(np.asarray(x, dt), "scalar")
    a, b = operand(loc["ta"], loc["xa"]), operand(loc["tb"], loc["xb"])
    if loc["op"] == "div" and dt.kind != "f":
        ctx.refuse("integer division has no converter")
    return g.node(op_type, [a, b], loc["op"])


_UNARY = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "neg": "Neg", "reciprocal": "Reciprocal",
          "sin": "Sin", "cos": "Cos", "floor": "Floor", "ceil": "Ceil", "sign": "Sign", "round": "Round"}


@converter("fn:unary_op")
def unary(ctx):
    g, op = ctx.g, ctx.loc["op"]
    x = ctx.input(0)
    if op == "clamp":
        return clamp(ctx)
    if op == "rsqrt":
        return g.node("Reciprocal", [g.node("Sqrt", [x])], "rsqrt")
    if op not in _UNARY:
        ctx.refuse(f"the elementwise op {op} has no ONNX converter")
    return g.node(_UNARY[op], [x], op)


@converter("Erf")
def erf(ctx):
    if ctx.op.startswith("Erfc"):
        ctx.refuse("erfc has no ONNX converter")
    return ctx.g.node("Erf", [ctx.input(0)], "erf")


@converter("Relu")
def relu(ctx):
    return ctx.g.node("Relu", [ctx.input(0)], "relu")


def _scalar(ctx, v):
    return ctx.g.const(np.asarray(v, ctx.out._data.dtype), "scalar")


def _gelu(ctx, x):
    g, c = ctx.g, lambda v: _scalar(ctx, v)
    if ctx.find("approximate", "none") == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        inner = g.node("Mul", [g.node("Add", [x, g.node("Mul", [g.node("Pow", [x, c(3.0)]), c(0.044715)])]),
                               c(np.sqrt(2 / np.pi))])
        return g.node("Mul", [g.node("Mul", [x, c(0.5)]), g.node("Add", [g.node("Tanh", [inner]), c(1.0)])], "gelu")
    # x (1 + erf(x / sqrt 2)) / 2 in the node order torch.onnx writes, the one ONNX Runtime fuses into Gelu (its
    # fusion of the order 0.5 x * (1 + erf(x / sqrt 2)) dropped a value the graph still used)
    erf = g.node("Erf", [g.node("Div", [x, c(np.sqrt(2.0))])])
    return g.node("Mul", [g.node("Mul", [x, g.node("Add", [erf, c(1.0)])]), c(0.5)], "gelu")


@converter("fn:_pointwise")
def pointwise(ctx):
    g, op = ctx.g, ctx.loc["op"]
    x = ctx.input(0)
    c = lambda v: _scalar(ctx, v)  # noqa: E731
    simple = {"sigmoid": "Sigmoid", "tanh": "Tanh", "hardswish": "HardSwish", "softsign": "Softsign"}
    if op in simple:
        return g.node(simple[op], [x], op)
    if op == "gelu":
        return _gelu(ctx, x)
    if op == "hardtanh":
        return g.node("Clip", [x, c(ctx.find("min_val")), c(ctx.find("max_val"))], "hardtanh")
    if op == "leaky_relu":
        return g.node("LeakyRelu", [x], op, alpha=float(ctx.find("negative_slope")))
    if op == "elu":
        return g.node("Elu", [x], op, alpha=float(ctx.find("alpha")))
    if op == "selu":
        return g.node("Selu", [x], op)
    if op == "celu":
        return g.node("Celu", [x], op, alpha=float(ctx.find("alpha")))
    if op == "silu":
        return g.node("Mul", [x, g.node("Sigmoid", [x])], op)
    if op == "mish":
        return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])], op)
    if op == "hardsigmoid":
        return g.node("HardSigmoid", [x], op, alpha=1 / 6, beta=0.5)
    if op == "logsigmoid":
        return g.node("Neg", [g.node("Softplus", [g.node("Neg", [x])])], op)
    if op == "softplus":
        beta, threshold = float(ctx.find("beta")), float(ctx.find("threshold"))
        bx = g.node("Mul", [x, c(beta)])
        soft = g.node("Div", [g.node("Softplus", [bx]), c(beta)])
        return g.node("Where", [g.node("Greater", [bx, c(threshold)]), x, soft], op)  # linear above threshold
    if op == "threshold":
        return g.node("Where", [g.node("Greater", [x, c(ctx.find("threshold"))]), x, c(ctx.find("value"))], op)
    ctx.refuse(f"the activation {op} has no ONNX converter")


@converter("Prelu")
def prelu(ctx):
    g = ctx.g
    x, w = ctx.parents
    slope = ctx.input(1)
    if x.ndim > 2 and w.numel() > 1:  # one slope per channel: shape (C, 1, ..., 1) to broadcast over dim 1
        slope = g.node("Reshape", [slope, g.ints([w.numel()] + [1] * (x.ndim - 2))])
    return g.node("PRelu", [ctx.input(0), slope], "prelu")


@converter("fn:sum", "fn:mean")
def sum_mean(ctx):
    loc = ctx.loc
    rank = ctx.parents[0].ndim
    axes = loc.get("axes")
    axes = list(range(rank)) if axes is None else [a % rank for a in axes]
    name = ctx.frame.f_code.co_name
    return reduce(ctx, "ReduceSum" if name == "sum" else "ReduceMean", ctx.input(0), axes,
                  keepdims=int(bool(loc.get("keepdim"))))


@converter("fn:_extreme")
def max_min(ctx):
    """max/min over all elements or over one dim (the values; indices are not traced)."""
    loc = ctx.loc
    op = loc["op"]
    if op not in ("max", "min"):
        ctx.refuse(f"{op} has no ONNX converter")
    rank = ctx.parents[0].ndim
    if loc.get("dim") is None:
        axes, keep = list(range(rank)), 0
    else:
        axes, keep = [int(loc["axis"])], int(bool(loc.get("keepdim")))
    return reduce(ctx, "ReduceMax" if op == "max" else "ReduceMin", ctx.input(0), axes, keepdims=keep)


@converter("fn:reshape", "fn:view")
def reshape(ctx):
    """The traced shape, with the batch dim copied from the input at run time when it is kept (dynamic batch)."""
    src, dst = ctx.parents[0].shape, ctx.out.shape
    shape = list(dst)
    if len(src) and len(dst) and dst[0] == src[0]:
        shape[0] = 0 if len(dst) > 1 else -1  # Reshape's 0: this dim as the input's (-1: all of it)
    return ctx.g.node("Reshape", [ctx.input(0), ctx.g.ints(shape)], "reshape")


@converter("Permute")
def permute(ctx):
    return ctx.g.node("Transpose", [ctx.input(0)], "permute", perm=[int(a) for a in ctx.loc["axes"]])


@converter("Transpose")
def transpose(ctx):
    perm = list(range(ctx.parents[0].ndim))
    a, b = ctx.loc["a"], ctx.loc["b"]
    perm[a], perm[b] = perm[b], perm[a]
    return ctx.g.node("Transpose", [ctx.input(0)], "transpose", perm=perm)


@converter("Cat")
def cat(ctx):
    inputs = [ctx.input(i) for i in range(len(ctx.parents))]
    return ctx.g.node("Concat", inputs, "cat", axis=int(ctx.loc["axis"]))


@converter("Stack")
def stack(ctx):
    g, axis = ctx.g, int(ctx.loc["axis"])
    parts = [g.node("Unsqueeze", [ctx.input(i), g.ints([axis])]) for i in range(len(ctx.parents))]
    return g.node("Concat", parts, "stack", axis=axis)


@converter("Clone", "Alias")
def clone(ctx):
    return ctx.g.node("Identity", [ctx.input(0)], "clone")


@converter("fn:_pieces")
def piece(ctx):
    """One piece of split/chunk: a Slice along the split axis."""
    index, axis = ctx.loc["index"], ctx.loc["axis"]
    sl = index[axis]
    g = ctx.g
    return g.node("Slice", [ctx.input(0), g.ints([sl.start]), g.ints([sl.stop]), g.ints([axis])], "split")


@converter("Clamp")
def clamp(ctx):
    g, loc = ctx.g, ctx.loc
    if len(ctx.parents) != 1:
        ctx.refuse("clamp with tensor bounds has no ONNX converter")
    dt = ctx.out._data.dtype
    lo, hi = ctx.find("min"), ctx.find("max")
    bound = lambda v: "" if v is None else g.const(np.asarray(v, dt), "bound")  # noqa: E731
    return g.node("Clip", [ctx.input(0), bound(lo), bound(hi)], "clamp")


@converter("fn:getitem")
def getitem(ctx):
    """Basic indexing (ints, slices, None, ...) as one Slice, then Squeeze for the ints and Unsqueeze for None."""
    g, loc = ctx.g, ctx.loc
    if loc.get("advanced"):
        ctx.refuse("advanced (tensor or list) indexing has no ONNX converter")
    parts = list(loc["parts"])
    shape = ctx.parents[0].shape
    if any(p is Ellipsis for p in parts):
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        used = sum(p is not None and p is not Ellipsis for p in parts)
        parts[at:at + 1] = [slice(None)] * (len(shape) - used)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim, out_dim = 0, 0
    for p in parts:
        if p is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(p, slice):
            start, stop, step = p.indices(shape[dim])
            if (start, stop, step) != (0, shape[dim], 1):
                if step < 0 and stop < 0:
                    stop = -(2 ** 62)  # a slice running to the front: past the start, as ONNX reads it
                starts.append(start), ends.append(stop), axes.append(dim), steps.append(step)
            out_dim += 1
        elif isinstance(p, (int, np.integer)):
            i = int(p) % shape[dim]
            starts.append(i), ends.append(i + 1), axes.append(dim), steps.append(1)
            squeeze.append(dim)
        else:
            ctx.refuse(f"indexing with {type(p).__name__} has no ONNX converter")
        dim += 1
    x = ctx.input(0)
    if axes:
        x = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)], "slice")
    if squeeze:
        x = g.node("Squeeze", [x, g.ints(squeeze)], "select")
    if unsqueeze:
        x = g.node("Unsqueeze", [x, g.ints(unsqueeze)], "unsqueeze")
    if x == ctx.input(0):
        x = g.node("Identity", [x], "index")
    return x


@converter("Expand")
def expand(ctx):
    # Expand broadcasts both ways: a 1 where the input already has the size keeps that dim (a dynamic batch)
    src, dst = ctx.parents[0].shape, ctx.out.shape
    src = (1,) * (len(dst) - len(src)) + tuple(src)
    shape = [1 if s == d else d for s, d in zip(src, dst)]
    return ctx.g.node("Expand", [ctx.input(0), ctx.g.ints(shape)], "expand")


@converter("Flip")
def flip(ctx):
    g = ctx.g
    axes = [int(a) % ctx.parents[0].ndim for a in np.atleast_1d(ctx.loc["axes"])]
    n = len(axes)
    return g.node("Slice", [ctx.input(0), g.ints([-1] * n), g.ints([-(2 ** 62)] * n), g.ints(axes),
                            g.ints([-1] * n)], "flip")


@converter("fn:_apply")
def dropout(ctx):
    if ctx.frame.f_code.co_filename.endswith("dropout.py"):
        ctx.refuse(f"{ctx.loc['op']} in training mode (a random mask) is not exported; call model.eval() first")
    ctx.refuse("this op has no ONNX converter")
