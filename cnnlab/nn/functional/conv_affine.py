"""A 2-d convolution followed by a per-channel affine map, a residual add and ReLU, as one op for inference.

    conv2d_affine(x, w, scale, shift, residual=r, relu=True) = relu(conv2d(x, w) * scale[c] + shift[c] + r)

This is an eval-mode conv + batch norm (+ skip) + ReLU of a ResNet block (ReLU6 with max_val=6: MobileNetV2's).
Where no graph is recorded and no ONNX export traces, the convolution's output goes through the rest in one pass
over cache blocks on the kernel threads (kernels/epilogue.py; a compiled depthwise conv applies the shift and the
clamps in its own loops) instead of one pass in memory per layer; else the same function is composed of the
differentiable ops. The geometry of a call is kept per (shapes, dtype, options), so a model's repeated calls skip
the argument checks (the shapes and options they read are the key).
"""
import sys

from ...errors import ShapeError, shape_str
from ...grad_mode import records
from ...kernels import conv as kconv, depthwise_compiled, epilogue
from ...kernels.geometry import ConvGeometry
from ...tensor import Tensor
from .activation import hardtanh as _hardtanh, relu as _relu
from .conv import checked_geometry, conv2d

__all__ = ["conv2d_affine"]

_TENSOR_MODULE = sys.modules[Tensor.__module__]  # its _trace_hook is set while an ONNX export traces
_GEOMETRIES = {}        # (x.shape, w.shape, dtypes, stride, padding, dilation, groups) -> ConvGeometry
_MAX_GEOMETRIES = 512   # a model has tens of distinct convolutions; the dict is emptied when it reaches this


def _geometry(input, weight, stride, padding, dilation, groups):
    """The ConvGeometry of conv2d(input, weight, ...) after conv2d's checks, kept for the next call of that key."""
    try:
        key = (input.shape, weight.shape, input.dtype, weight.dtype, stride, padding, dilation, groups)
        geom = _GEOMETRIES.get(key)
    except TypeError:                                       # a list among the options: not a key
        key, geom = None, None
    if geom is None:
        stride, dilation, groups, pads, out_size = checked_geometry(2, "conv2d_affine", input, weight, None, stride,
                                                                    padding, dilation, groups)
        geom = ConvGeometry.of(input._data.shape, weight._data.shape, stride, pads, dilation, groups, out_size)
        if key is not None:
            if len(_GEOMETRIES) >= _MAX_GEOMETRIES:
                _GEOMETRIES.clear()
            _GEOMETRIES[key] = geom
    return geom


def _check(input, weight, scale, shift, residual, out_shape):
    channels = weight.shape[0]
    for name, t in (("scale", scale), ("shift", shift)):
        if t is not None and (tuple(t.shape) != (channels,) or t.dtype != input.dtype):
            raise ShapeError(f"conv2d_affine: {name} must be a 1-d tensor of out_channels={channels} values of the "
                             f"input's dtype. Got {name}.shape={shape_str(t.shape)}, {name}.dtype={t.dtype}, "
                             f"input.dtype={input.dtype}.")
    if residual is not None and (tuple(residual.shape) != out_shape or residual.dtype != input.dtype):
        raise ShapeError(f"conv2d_affine: residual must have the output's shape and the input's dtype. Got "
                         f"residual.shape={shape_str(residual.shape)}, output shape={shape_str(out_shape)}, "
                         f"residual.dtype={residual.dtype}, input.dtype={input.dtype}.")


def _composed(input, weight, scale, shift, stride, padding, dilation, groups, residual, relu, max_val):
    """The same function from differentiable ops (a graph is recorded, or an export traces them)."""
    y = conv2d(input, weight, None, stride, padding, dilation, groups)
    if scale is not None:
        y = y * scale.reshape(-1, 1, 1)
    if shift is not None:
        y = y + shift.reshape(-1, 1, 1)
    if residual is not None:
        y = y + residual
    if max_val is not None:
        return _hardtanh(y, 0.0, max_val)
    return _relu(y) if relu else y


def conv2d_affine(input, weight, scale=None, shift=None, stride=1, padding=0, dilation=1, groups=1, residual=None,
                  relu=False, max_val=None):
    """relu(conv2d(input, weight) * scale + shift + residual): a convolution, a per-channel affine map (an eval-mode
    batch norm), a residual add and a ReLU, each optional.

    Args:
        input (Tensor): (N, C_in, H, W), float32 or float64.
        weight (Tensor): (C_out, C_in / groups, kH, kW).
        scale, shift (Tensor, default None): (C_out,) per-channel factor and offset (None: 1 and 0).
        stride, padding, dilation, groups: as conv2d's (zero padding).
        residual (Tensor, default None): the output's shape, added after the shift.
        relu (bool, default False): clamp the result at 0.
        max_val (float, default None): with relu, clamp the result to [0, max_val] as hardtanh(y, 0, max_val)
            (ReLU6: 6.0).

    Shape: output (N, C_out, H_out, W_out), sizes as conv2d's.

    Returns:
        Tensor of input's dtype: a new tensor without a graph when nothing records one (and no ONNX export traces),
        else the composition of conv2d, mul, add and relu with its gradients.

    Raises:
        conv2d's errors; ShapeError for a scale, shift or residual of the wrong shape or dtype; ValueError for a
        max_val without relu.

    Matches torch.relu(F.conv2d(input, weight, None, stride, padding, dilation, groups) * scale[:, None, None] +
    shift[:, None, None] + residual) up to rounding.

    >>> import cnnlab
    >>> x, w = cnnlab.ones(1, 1, 3, 3), cnnlab.ones(2, 1, 3, 3)
    >>> y = conv2d_affine(x, w, cnnlab.tensor([1.0, -1.0]), cnnlab.tensor([0.0, 1.0]), padding=1, relu=True)
    >>> y[:, :, 0].tolist()
    [[[4.0, 6.0, 4.0], [0.0, 0.0, 0.0]]]
    """
    if max_val is not None and not relu:
        raise ValueError(f"conv2d_affine: max_val clamps after the ReLU and needs relu=True. Got relu={relu}, "
                         f"max_val={max_val}.")
    operands = [t for t in (input, weight, scale, shift, residual) if t is not None]
    args = (input, weight, scale, shift, stride, padding, dilation, groups, residual, relu, max_val)
    if _TENSOR_MODULE._trace_hook is not None or records(*operands) or \
            not isinstance(input, Tensor) or not isinstance(weight, Tensor) or input.ndim != 4:
        return _composed(*args)
    geom = _geometry(input, weight, stride, padding, dilation, groups)
    _check(input, weight, scale, shift, residual, geom.y_shape)
    if input._data.size == 0:
        return _composed(*args)
    shift_ = None if shift is None else shift._data
    out = None
    if scale is None and residual is None:       # a depthwise conv computes the shift and clamps in its own loops
        out = depthwise_compiled.forward_affine(input._data, weight._data, geom, shift_, relu, max_val)
    if out is None:
        out = kconv.conv_forward(input._data, weight._data, geom)                   # (N, C_out, H_out, W_out)
        out = epilogue.affine(out, None if scale is None else scale._data, shift_,
                              None if residual is None else residual._data, relu, max_val)
    return Tensor._wrap(out)
