"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d, all from one N-d implementation.

Each public function only names its number of spatial dims; `_conv` and `_conv_transpose` check the arguments
and compute the geometry once (kernels/geometry.py); cnnlab/kernels/conv.py picks the algorithm that does the
arithmetic. The transposed convolution is the adjoint of the convolution, so the same three kernel functions
serve both: conv's forward is conv_transpose's input gradient and the other way round.
"""
import numbers

import numpy as np

from ... import _dtypes
from ..._memory import check_allocation
from ...errors import DTypeError, ShapeError, shape_str
from ...grad_mode import records
from ...kernels import conv as kconv
from ...kernels.geometry import ConvGeometry, output_sizes
from ...ops.shape import squeeze, unsqueeze
from ...tensor import Tensor
from ._args import (check_input_dims, check_output_size, check_positive, resolve_padding, spatial_names, to_tuple,
                    transposed_output_size)
from .padding import pad

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


# ---- argument checks shared by both directions -------------------------------------------------------------
def _check_operands(op, n, input, weight, bias):
    """Types, dtypes and numbers of dims of input, weight and bias (bias shape is checked by the caller)."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a tensor. Got {type(t).__name__}.")
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and t._data.dtype.kind != "f":
            raise DTypeError(f"{op}: {name} must be a floating-point tensor. Got {name}.dtype={t.dtype}.")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.dtype != input._data.dtype or (_dtypes.bf16_in_use and t.dtype != input.dtype)):
            raise DTypeError(f"{op}: input and {name} must have the same dtype. Got input.dtype={input.dtype}, "
                             f"{name}.dtype={t.dtype}.")
    check_input_dims(input.shape, n, op)
    transposed = op.startswith("conv_transpose")
    if weight.ndim != n + 2:
        layout = ("in_channels, out_channels/groups, " if transposed else "out_channels, in_channels/groups, ") + \
            ", ".join("k" + s for s in spatial_names(n))
        raise ShapeError(f"{op}: weight must be {n + 2}-d ({layout}). Got weight.shape={shape_str(weight.shape)}.")
    if min(weight.shape[2:]) < 1:
        raise ShapeError(f"{op}: the kernel sizes weight.shape[2:] must be positive. "
                         f"Got weight.shape={shape_str(weight.shape)}.")
    if weight.shape[0] < 1 or (transposed and weight.shape[1] < 1):
        what = "weight.shape[0] (in_channels) and weight.shape[1] (out_channels / groups) must be" if transposed \
            else "weight.shape[0] (out_channels) must be"
        raise ShapeError(f"{op}: {what} at least 1. Got weight.shape={shape_str(weight.shape)}.")
    if 0 in input.shape[-n:]:
        raise ShapeError(f"{op}: only the batch and channel dims of the input may be 0, not a spatial dim (as in "
                         f"PyTorch). Got input.shape={shape_str(input.shape)}.")


def _check_groups(op, groups, weight, divided):
    """groups is a positive int dividing weight.shape[0] (out_channels for conv, in_channels for transposed)."""
    if not isinstance(groups, (numbers.Integral, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int. Got groups={groups!r}.")
    if groups < 1:
        raise ShapeError(f"{op}: groups must be positive. Got groups={groups}.")
    if weight.shape[0] % groups:
        raise ShapeError(f"{op}: {divided} (weight.shape[0]) must be divisible by groups. "
                         f"Got weight.shape={shape_str(weight.shape)}, groups={groups}.")
    return int(groups)


def _check_bias(op, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise ShapeError(f"{op}: bias must be a 1-d tensor of out_channels={channels} values. "
                         f"Got bias.shape={shape_str(bias.shape)}.")


def bias_gradient(g):
    """The gradient of a per-channel bias: g (N, C, *S) summed over every dim but C. For float32/float64 one
    np.einsum reduction (~3x faster than NumPy's sum over axes (0, 2, 3) on LeNet's conv outputs, with no BLAS
    call that could wake BLAS's threads).

    >>> import numpy as np
    >>> bias_gradient(np.ones((2, 3, 4, 4), np.float32)).tolist()
    [32.0, 32.0, 32.0]
    """
    if g.dtype.type not in (np.float32, np.float64) or g.ndim < 2 or g.size == 0:
        return g.sum(axis=(0,) + tuple(range(2, g.ndim)))
    return np.einsum("ncp->c", g.reshape(g.shape[0], g.shape[1], -1))   # (N, C, positions) -> (C,)


def _batched(n, input):
    """(input as (N, C, *S), unbatched flag): an unbatched (C, *S) input gets a batch of one."""
    return (unsqueeze(input, 0), True) if input.ndim == n + 1 else (input, False)


def _pad_mode(input, pads, mode):
    """input padded by `pads` ((before, after) per spatial dim) in a non-zero padding mode, through F.pad."""
    flat = tuple(v for pair in reversed(pads) for v in pair)  # F.pad order: last dim first
    return pad(input, flat, mode=mode)


def _empty_result(x_t, weight, bias, shape):
    """The result for an empty input (a 0 batch, or 0 input channels), without calling a kernel: shape is
    (C_out, *out_size), C_out = 0 when the input has no channels (PyTorch's empty-convolution rule). Every
    gradient is zero (nothing was summed)."""
    out = np.zeros((x_t.shape[0],) + shape, x_t._data.dtype)
    parents = (x_t, weight) + ((bias,) if bias is not None else ())
    return Tensor._from_op(out, parents, lambda g: tuple(np.zeros(p._data.shape, g.dtype) for p in parents),
                           "ConvolutionBackward")


# ---- convolution ----------------------------------------------------------------------------------------------
def checked_geometry(n, op, input, weight, bias, stride, padding, dilation, groups, padding_mode="zeros"):
    """Every check of conv{n}d's arguments, then (stride, dilation, groups, pads, out_size) as ints and tuples
    (pads: (before, after) per spatial dim). Shared with the inference-only conv2d_affine."""
    _check_operands(op, n, input, weight, bias)
    groups = _check_groups(op, groups, weight, "out_channels")
    if input.shape[-n - 1] != weight.shape[1] * groups:
        raise ShapeError(f"{op}: input channels must equal weight.shape[1] * groups. Got input.shape="
                         f"{shape_str(input.shape)}, weight.shape={shape_str(weight.shape)}, groups={groups}.")
    _check_bias(op, bias, weight.shape[0])
    stride, dilation = to_tuple(stride, n, "stride", op), to_tuple(dilation, n, "dilation", op)
    check_positive(stride, "stride", op)
    check_positive(dilation, "dilation", op)
    kernel, spatial = tuple(weight.shape[2:]), tuple(input.shape[-n:])
    pads = resolve_padding(padding, n, op, kernel, stride, dilation, spatial)
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: padding_mode must be one of {PADDING_MODES}. Got padding_mode={padding_mode!r}.")
    out_size = output_sizes(spatial, kernel, stride, pads, dilation)
    check_output_size(op, spatial, kernel, pads, stride, dilation, out_size)
    check_allocation(op, (input.shape[0] if input.ndim == n + 2 else 1, weight.shape[0]) + out_size,
                     input._data.dtype)
    return stride, dilation, groups, pads, out_size


def _conv(n, op, input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Checks, then the autograd op; n is the number of spatial dims."""
    stride, dilation, groups, pads, out_size = checked_geometry(n, op, input, weight, bias, stride, padding,
                                                                dilation, groups, padding_mode)
    kernel = tuple(weight.shape[2:])
    x_t, unbatched = _batched(n, input)
    if x_t._data.size == 0:
        y = _empty_result(x_t, weight, bias, (weight.shape[0] if x_t.shape[1] else 0,) + out_size)
        return squeeze(y, 0) if unbatched else y
    if padding_mode != "zeros" and any(v for pair in pads for v in pair):
        x_t, pads = _pad_mode(x_t, pads, padding_mode), ((0, 0),) * n
    x, w = x_t._data, weight._data
    # the convolution's geometry, computed once: the kernels and the backward (and its derivative) read it
    geom = ConvGeometry(n, x.shape[0], x.shape[1], w.shape[0], groups, x.shape[2:], kernel, stride, dilation, pads,
                        out_size, False, (0,) * n)
    parents = (x_t, weight) + ((bias,) if bias is not None else ())
    precise = records(*parents)  # a gradient will flow back: no F(4x4) Winograd (kernels/select.py)
    out = kconv.conv_forward(x, w, geom, precise=precise)  # (N, O, *out_size)
    if bias is not None:
        out += bias._data.reshape((-1,) + (1,) * n)

    # y = conv(x, w) + b is linear in each argument: dx and dw are the adjoints of the convolution in x and
    # in w (kernels/conv.py), and db sums g over the batch and every output position.
    def backward(g):
        gx = kconv.conv_backward_input(g, w, geom) if x_t.requires_grad else None
        gw = kconv.conv_backward_weight(x, g, geom) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (bias_gradient(g) if bias.requires_grad else None)

    y = Tensor._from_op(out, parents, backward, "ConvolutionBackward")
    return squeeze(y, 0) if unbatched else y


_CONV_DOC = """{n}-d convolution (cross-correlation) of a batch of {what} with a bank of filters.

    Args:
        input (Tensor): (N, C_in, {sp}) or unbatched (C_in, {sp}).
        weight (Tensor): (C_out, C_in / groups, {ks}); any kernel size, odd or even.
        bias (Tensor, default None): (C_out,).
        stride (int or tuple, default 1), dilation (int or tuple, default 1): per spatial dim, positive.
        padding (default 0): an int, a tuple of {n} ints, a tuple of {n} (before, after) pairs (asymmetric),
            'valid' (none), 'same' (output size ceil(input / stride); at stride 1 exactly PyTorch's 'same',
            the odd pixel after), 'same_lower' (the odd pixel before){causal}.
        groups (int, default 1): split the channels into groups convolved separately (C_in = depthwise).
        padding_mode (str, default 'zeros'): 'zeros', 'reflect', 'replicate' or 'circular'; non-zero modes pad
            with F.pad first, as torch.nn.Conv{n}d does (an extension: PyTorch's functional has no such argument).

    Shape:
        output (N, C_out, {osp}) with {o}_out = floor(({o} + before + after - dilation*(k-1) - 1) / stride) + 1.

    Returns:
        Tensor of input's dtype; differentiable in input, weight and bias.

    Raises:
        ShapeError (ValueError, RuntimeError): wrong number of dims, channels not matching weight.shape[1] *
            groups, groups not dividing the channels, a bias of the wrong shape, non-positive stride or dilation,
            negative padding, or an input smaller than the dilated kernel.
        ValueError: an unknown padding string or padding_mode{causal_err}.
        TypeError / DTypeError: non-tensor arguments, non-float or mismatched dtypes.

    Matches torch.nn.functional.conv{n}d.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.conv{n}d(cnnlab.ones({ex_in}), cnnlab.ones({ex_w}), padding=1){ex_idx}.tolist()
    {ex_out}
"""


def _conv_doc(n, what, ex_in, ex_w, ex_idx, ex_out):
    sp = ", ".join(spatial_names(n))
    return _CONV_DOC.format(
        n=n, what=what, sp=sp, ks=", ".join("k" + s for s in spatial_names(n)),
        osp=", ".join(s + "_out" for s in spatial_names(n)), o=spatial_names(n)[-1],
        causal=", or 'causal' (dilation*(k-1) before, none after: output t sees inputs up to t)" if n == 1 else "",
        causal_err="" if n == 1 else ", or padding='causal' (1-d only)",
        ex_in=ex_in, ex_w=ex_w, ex_idx=ex_idx, ex_out=ex_out)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    return _conv(1, "conv1d", input, weight, bias, stride, padding, dilation, groups, padding_mode)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    return _conv(2, "conv2d", input, weight, bias, stride, padding, dilation, groups, padding_mode)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    return _conv(3, "conv3d", input, weight, bias, stride, padding, dilation, groups, padding_mode)


conv1d.__doc__ = _conv_doc(1, "sequences", "1, 1, 4", "1, 1, 3", "[0, 0]", "[2.0, 3.0, 3.0, 2.0]")
conv2d.__doc__ = _conv_doc(2, "images", "1, 1, 3, 3", "1, 1, 3, 3", "[0, 0]",
                           "[[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]")
conv3d.__doc__ = _conv_doc(3, "volumes", "1, 1, 2, 2, 2", "1, 1, 3, 3, 3", "[0, 0, 0]",
                           "[[8.0, 8.0], [8.0, 8.0]]")


# ---- transposed convolution ---------------------------------------------------------------------------------
def _conv_transpose(n, op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    """Checks, then the autograd op: the adjoint of conv{n}d with the same weight, stride, padding, dilation."""
    _check_operands(op, n, input, weight, bias)
    groups = _check_groups(op, groups, weight, "in_channels")
    if input.shape[-n - 1] != weight.shape[0]:
        raise ShapeError(f"{op}: input channels must equal weight.shape[0]. Got input.shape="
                         f"{shape_str(input.shape)}, weight.shape={shape_str(weight.shape)}, groups={groups}.")
    out_channels = weight.shape[1] * groups
    _check_bias(op, bias, out_channels)
    stride, dilation = to_tuple(stride, n, "stride", op), to_tuple(dilation, n, "dilation", op)
    check_positive(stride, "stride", op)
    check_positive(dilation, "dilation", op)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple (string paddings are for conv only). "
                         f"Got padding={padding!r}.")
    kernel, spatial = tuple(weight.shape[2:]), tuple(input.shape[-n:])
    pads = resolve_padding(padding, n, op, kernel, stride, dilation, spatial)
    # out_pad stays a local: the ONNX exporter reads the op's resolved geometry from its locals (onnx/trace.py)
    out_size, out_pad = transposed_output_size(op, spatial, kernel, pads, stride, dilation, output_padding)

    check_allocation(op, (input.shape[0] if input.ndim == n + 2 else 1, out_channels) + out_size,
                     input._data.dtype)
    x_t, unbatched = _batched(n, input)
    if x_t._data.size == 0:  # a 0 batch (a 0-channel input is refused above, since weight.shape[0] == 0)
        y = _empty_result(x_t, weight, bias, (out_channels,) + out_size)
        return squeeze(y, 0) if unbatched else y
    x, w = x_t._data, weight._data
    # the geometry, computed once (in_size: this op's input, out_size: its output); geom.conv() is the
    # convolution it is the adjoint of, which the kernels compute with
    geom = ConvGeometry(n, x.shape[0], x.shape[1], out_channels, groups, x.shape[2:], kernel, stride, dilation, pads,
                        out_size, True, out_pad)
    parents = (x_t, weight) + ((bias,) if bias is not None else ())
    precise = records(*parents)  # a gradient will flow back: no F(4x4) Winograd (kernels/select.py)
    out = kconv.conv_backward_input(x, w, geom.conv(), precise=precise)
    if bias is not None:
        out += bias._data.reshape((-1,) + (1,) * n)

    # y = C_w^T x + b where C_w is conv{n}d with this weight (it maps y's space to x's), so
    # dx = C_w g (a convolution of g, cut to x's size) and dw = the conv weight gradient with the roles of input
    # and output gradient swapped; db sums g over the batch and every output position.
    def backward(g):
        conv = geom.conv()
        gx = kconv.conv_forward(g, w, conv) if x_t.requires_grad else None
        gw = kconv.conv_backward_weight(g, x, conv) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (bias_gradient(g) if bias.requires_grad else None)

    y = Tensor._from_op(out, parents, backward, "ConvolutionBackward")
    return squeeze(y, 0) if unbatched else y


_CONV_T_DOC = """{n}-d transposed convolution ("deconvolution"): the adjoint (gradient) of conv{n}d, upsampling by stride.

    Args:
        input (Tensor): (N, C_in, {sp}) or unbatched (C_in, {sp}).
        weight (Tensor): (C_in, C_out / groups, {ks}), the layout of the conv{n}d it is the adjoint of.
        bias (Tensor, default None): (C_out,).
        stride (int or tuple, default 1), dilation (int or tuple, default 1): per spatial dim, positive.
        padding (int or tuple, default 0): removed from both sides of the output (a tuple of (before, after)
            pairs removes asymmetrically, an extension).
        output_padding (int or tuple, default 0): added to one side of the output to pick among the input
            sizes that a strided conv maps to the same size; must be smaller than stride or dilation.
        groups (int, default 1): C_in and C_out split into groups.

    Shape:
        output (N, C_out, {osp}) with {o}_out = ({o} - 1)*stride - 2*padding + dilation*(k-1) + output_padding + 1.

    Returns:
        Tensor of input's dtype; differentiable in input, weight and bias.

    Raises:
        ShapeError (ValueError, RuntimeError): wrong number of dims, input channels != weight.shape[0], groups
            not dividing weight.shape[0], a bias of the wrong shape, non-positive stride or dilation, negative
            padding, output_padding not smaller than stride or dilation, or an output size below 1.
        ValueError: a string padding.
        TypeError / DTypeError: non-tensor arguments, non-float or mismatched dtypes.

    Matches torch.nn.functional.conv_transpose{n}d.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.conv_transpose{n}d(cnnlab.ones({ex_in}), cnnlab.ones({ex_w}), stride=2){ex_idx}.tolist()
    {ex_out}
"""


def _conv_t_doc(n, ex_in, ex_w, ex_idx, ex_out):
    names = spatial_names(n)
    return _CONV_T_DOC.format(n=n, sp=", ".join(names), ks=", ".join("k" + s for s in names),
                              osp=", ".join(s + "_out" for s in names), o=names[-1],
                              ex_in=ex_in, ex_w=ex_w, ex_idx=ex_idx, ex_out=ex_out)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


conv_transpose1d.__doc__ = _conv_t_doc(1, "1, 1, 3", "1, 1, 3", "[0, 0]", "[1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 1.0]")
conv_transpose2d.__doc__ = _conv_t_doc(2, "1, 1, 2, 2", "1, 1, 2, 2", "[0, 0]",
                                       "[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], "
                                       "[1.0, 1.0, 1.0, 1.0]]")
conv_transpose3d.__doc__ = _conv_t_doc(3, "1, 1, 1, 1, 2", "1, 1, 1, 1, 2", "[0, 0, 0, 0]", "[1.0, 1.0, 1.0, 1.0]")
