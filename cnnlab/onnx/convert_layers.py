"""Converters for the layer ops: convolution, pooling (window, adaptive), normalization, padding, resizing,
linear, softmax. Each reads the resolved geometry from the op function's locals (see trace.py)."""
import numpy as np

from .trace import converter, spatial_pairs


@converter("Convolution")
def conv(ctx):
    loc, g = ctx.loc, ctx.g
    n = loc["n"]
    inputs = [ctx.input(i) for i in range(len(ctx.parents))]
    attrs = dict(kernel_shape=list(loc["kernel"]), strides=list(loc["stride"]), dilations=list(loc["dilation"]),
                 group=int(loc["groups"]), pads=spatial_pairs(loc["pads"]))
    if loc["op"].startswith("conv_transpose"):
        return g.node("ConvTranspose", inputs, loc["op"], output_padding=list(loc["out_pad"]), **attrs)
    if len(loc["pads"]) != n:
        ctx.refuse("unexpected padding form")
    return g.node("Conv", inputs, loc["op"], **attrs)


def _window(ctx):
    """kernel, stride, per-side pads, dilation of a window pool, from the kernel's Windows object."""
    win = ctx.loc["win"]
    pads = [tuple(p) if isinstance(p, (tuple, list)) else (int(p), int(p)) for p in win.padding]
    return list(win.kernel), list(win.stride), pads, list(win.dilation), bool(ctx.loc.get("ceil_mode"))


@converter("fn:_extreme_pool")
def extreme_pool(ctx):
    g = ctx.g
    kernel, stride, pads, dilation, ceil = _window(ctx)
    x = ctx.input(0)
    largest = ctx.loc["largest"]
    if not largest:  # min pool = -max_pool(-x)
        x = g.node("Neg", [x])
    y = g.node("MaxPool", [x], ctx.loc["op"], kernel_shape=kernel, strides=stride, pads=spatial_pairs(pads),
               dilations=dilation, ceil_mode=int(ceil))
    return y if largest else g.node("Neg", [y])


@converter("fn:_avg_pool")
def avg_pool(ctx):
    g, loc = ctx.g, ctx.loc
    kernel, stride, pads, dilation, ceil = _window(ctx)
    attrs = dict(kernel_shape=kernel, strides=stride, pads=spatial_pairs(pads), ceil_mode=int(ceil),
                 count_include_pad=int(bool(loc["count_include_pad"])))
    if any(d != 1 for d in dilation):
        if g.opset < 19:
            ctx.refuse(f"average pooling with dilation needs opset 19 or later (AveragePool's dilations). Got "
                       f"dilation={tuple(dilation)}, opset_version={g.opset}")
        attrs["dilations"] = dilation
    if ceil and loc["count_include_pad"] and any(p for pr in pads for p in pr):
        ctx.refuse("average pooling with ceil_mode, padding and count_include_pad has no matching ONNX form "
                   "(PyTorch and ONNX count the window's padded cells differently)")
    override = loc.get("divisor_override")
    if override:
        attrs["count_include_pad"] = 1
    y = g.node("AveragePool", [ctx.input(0)], loc["op"], **attrs)
    if override:
        y = g.node("Mul", [y, g.const(np.asarray(np.prod(kernel) / override, ctx.out._data.dtype))])
    return y


def _adaptive(ctx, reduce_op, global_op, pool_op):
    """Adaptive pooling at static spatial sizes: a global pool, a plain pool where the bins tile evenly, or the
    bins written out axis by axis (both mean and max are separable over axes)."""
    g, loc = ctx.g, ctx.loc
    spatial, out_size = tuple(loc["spatial"]), tuple(loc["out_size"])
    x = ctx.input(0)
    rank = ctx.parents[0].ndim
    n = len(spatial)
    if all(o == 1 for o in out_size):
        return g.node(global_op, [x], loc["op"])
    if all(s % o == 0 for s, o in zip(spatial, out_size)):
        k = [s // o for s, o in zip(spatial, out_size)]
        return g.node(pool_op, [x], loc["op"], kernel_shape=k, strides=k)
    for i, (s, o) in enumerate(zip(spatial, out_size)):
        axis = rank - n + i
        if s == o:
            continue
        bins = []
        for j in range(o):
            start, end = (j * s) // o, -((-(j + 1) * s) // o)  # floor(j*s/o), ceil((j+1)*s/o)
            piece = g.node("Slice", [x, g.ints([start]), g.ints([end]), g.ints([axis])])
            bins.append(reduce(ctx, reduce_op, piece, [axis], keepdims=1))
        x = g.node("Concat", bins, loc["op"], axis=axis)
    return x


def reduce(ctx, op_type, x, axes, keepdims):
    """ReduceX over axes (axes is an attribute before opset 18 and an input from 18, ReduceSum's from 13)."""
    g = ctx.g
    if op_type == "ReduceSum" or g.opset >= 18:
        return g.node(op_type, [x, g.ints(axes, "axes")], keepdims=keepdims)
    return g.node(op_type, [x], axes=list(axes), keepdims=keepdims)


@converter("fn:_adaptive_avg_pool")
def adaptive_avg(ctx):
    return _adaptive(ctx, "ReduceMean", "GlobalAveragePool", "AveragePool")


@converter("fn:_adaptive_max_pool")
def adaptive_max(ctx):
    if ctx.loc.get("return_indices"):
        ctx.refuse("adaptive max pooling with return_indices has no ONNX form")
    return _adaptive(ctx, "ReduceMax", "GlobalMaxPool", "MaxPool")


@converter("NativeBatchNorm")
def batch_norm(ctx):
    g, loc = ctx.g, ctx.loc
    if loc.get("training"):
        ctx.refuse("batch norm in training mode (batch statistics) is not exported; call model.eval() first")
    x = ctx.tracer.name_of(loc["input"])
    C = loc["input"].shape[1]
    dt = ctx.out._data.dtype
    w = ctx.tracer.name_of(loc["weight"]) if loc["weight"] is not None else g.const(np.ones(C, dt), "ones")
    b = ctx.tracer.name_of(loc["bias"]) if loc["bias"] is not None else g.const(np.zeros(C, dt), "zeros")
    mean, var = ctx.tracer.name_of(loc["running_mean"]), ctx.tracer.name_of(loc["running_var"])
    return g.node("BatchNormalization", [x, w, b, mean, var], "batch_norm", epsilon=float(loc["eps"]))


@converter("NativeLayerNorm")
def layer_norm(ctx):
    g = ctx.g
    if ctx.loc.get("op") != "layer_norm":
        ctx.refuse(f"{ctx.loc.get('op')} has no ONNX converter yet")
    shape = tuple(ctx.find("normalized_shape"))
    if isinstance(shape, int):
        shape = (shape,)
    dt = ctx.out._data.dtype
    w_t, b_t = ctx.loc["w_t"], ctx.loc["b_t"]
    x = ctx.tracer.name_of(ctx.loc["x_t"])
    w = ctx.tracer.name_of(w_t) if w_t is not None else g.const(np.ones(shape, dt), "ones")
    b = ctx.tracer.name_of(b_t) if b_t is not None else g.const(np.zeros(shape, dt), "zeros")
    return g.node("LayerNormalization", [x, w, b], "layer_norm", axis=-len(shape),
                  epsilon=float(ctx.find("eps", 1e-5)))


def _pads_by_dim(ctx):
    """F.pad's (left, right) pairs, last dim first -> ONNX pads over every dim."""
    pad, rank = tuple(int(p) for p in ctx.loc["pad_"]), ctx.parents[0].ndim
    begin, end = [0] * rank, [0] * rank
    for k in range(len(pad) // 2):
        begin[rank - 1 - k], end[rank - 1 - k] = pad[2 * k], pad[2 * k + 1]
    return begin, end


@converter("ConstantPadNd", "ReflectionPad", "ReplicationPad")
def pad(ctx):
    g = ctx.g
    begin, end = _pads_by_dim(ctx)
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[ctx.loc["mode"]]
    inputs = [ctx.input(0), g.ints(begin + end, "pads")]
    if mode == "constant":
        inputs.append(g.const(np.asarray(ctx.loc["value"] or 0, ctx.out._data.dtype), "value"))
    return g.node("Pad", inputs, "pad", mode=mode)


@converter("torch::autograd::CopySlices")
def circular_pad(ctx):
    """Circular padding: each padded dim is the input's tail, the input, and its head, concatenated."""
    g = ctx.g
    if ctx.loc.get("mode") != "circular":
        ctx.refuse("this op has no ONNX converter")
    begin, end = _pads_by_dim(ctx)
    x = ctx.input(0)
    for axis, (b, e) in enumerate(zip(begin, end)):
        if b < 0 or e < 0:
            ctx.refuse(f"circular padding with negative pads has no ONNX converter. Got pad={ctx.loc['pad_']}")
        if not (b or e):
            continue
        size = ctx.parents[0].shape[axis]
        parts = ([g.node("Slice", [x, g.ints([size - b]), g.ints([size]), g.ints([axis])])] if b else []) + [x] + \
            ([g.node("Slice", [x, g.ints([0]), g.ints([e]), g.ints([axis])])] if e else [])
        x = g.node("Concat", parts, "circular_pad", axis=axis)
    return x


@converter("UpsampleNearest", "UpsampleBilinear", "UpsampleLinear", "UpsampleTrilinear", "UpsampleBicubic",
           "UpsampleNearestExact")
def resize(ctx):
    g, loc = ctx.g, ctx.loc
    mode = loc["mode"]
    if loc.get("antialias"):
        ctx.refuse("interpolate with antialias=True has no ONNX converter")
    x = ctx.input(0)
    out_size = list(loc["out_size"])
    scales = loc.get("scales")
    attrs = {}
    if mode in ("nearest", "nearest-exact"):
        attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric" if mode == "nearest" else
                     "half_pixel", nearest_mode="floor" if mode == "nearest" else "round_prefer_ceil")
    else:
        attrs = dict(mode="cubic" if mode == "bicubic" else "linear",
                     coordinate_transformation_mode="align_corners" if loc.get("align_corners") else
                     "pytorch_half_pixel")
        if mode == "bicubic":
            attrs["cubic_coeff_a"] = -0.75
    use_scales = scales is not None and all(s is not None for s in scales) and \
        not loc.get("recompute_scale_factor") and not loc.get("align_corners")
    if use_scales:  # PyTorch maps coordinates by 1/scale_factor: the same scales keep the same mapping
        return g.node("Resize", [x, "", g.const(np.asarray([1.0, 1.0] + list(scales), np.float32), "scales")],
                      "interpolate", **attrs)
    # sizes: the batch and channels from the input at run time (dynamic batch), the spatial sizes as traced
    lead = g.node("Slice", [g.node("Shape", [x]), g.ints([0]), g.ints([2]), g.ints([0])])
    sizes = g.node("Concat", [lead, g.ints(out_size)], "sizes", axis=0)
    return g.node("Resize", [x, "", "", sizes], "interpolate", **attrs)


@converter("fn:linear")
def linear(ctx):
    g, loc = ctx.g, ctx.loc
    x, w = ctx.tracer.name_of(loc["input"]), ctx.tracer.name_of(loc["weight"])
    b = loc["bias"]
    if loc["input"].ndim == 2:
        inputs = [x, w] + ([ctx.tracer.name_of(b)] if b is not None else [])
        return g.node("Gemm", inputs, "linear", transB=1)
    y = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])], "linear")
    return g.node("Add", [y, ctx.tracer.name_of(b)], "linear") if b is not None else y


@converter("fn:matmul")
def matmul(ctx):
    return ctx.g.node("MatMul", [ctx.input(0), ctx.input(1)], "matmul")


@converter("Softmax", "LogSoftmax")
def softmax(ctx):
    return ctx.g.node("LogSoftmax" if ctx.loc["log"] else "Softmax", [ctx.input(0)], ctx.loc["op"],
                      axis=int(ctx.loc["d"]))

