"""Folding an eval-mode batch norm into the convolution or linear layer before it.

In eval mode batch norm is a fixed affine map per channel, y = (x - mean) * s + beta with s = gamma / sqrt(var + eps),
so conv-then-BN is one convolution with weight w * s (per output channel) and bias (b - mean) * s + beta. The
`fuse_*` functions build those parameters or layers, as torch.nn.utils.fusion's (and are exported there:
cnnlab.nn.utils.fusion). `conv_bn` is what nn.Sequential and
the model zoo's blocks call for a conv followed by its batch norm: when no graph is recorded (inference) and folding
reads fewer bytes than the batch-norm pass it saves, it folds on the fly, from the current parameters on every call
(nothing is cached, so a changed weight or running statistic is never missed); otherwise it runs the two layers.
"""
import copy
import math
import sys

import numpy as np

from ...grad_mode import records
from ...tensor import Tensor
from ..functional.conv_affine import conv2d_affine
from ..parameter import Parameter
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .conv import Conv1d, Conv2d, Conv3d

_TENSOR_MODULE = sys.modules[Tensor.__module__]  # its _trace_hook is set while an ONNX export traces
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)
_CONV_BN = {Conv1d: BatchNorm1d, Conv2d: BatchNorm2d, Conv3d: BatchNorm3d}
FOLDS_INTO = frozenset(_CONV_BN)  # the layer types a following batch norm can be folded into
# a tuple (not the classes as globals): interop.to_torch maps a class a function reads to torch's, not a tuple's items
_AFFINE_TYPES = (Conv2d, BatchNorm2d)
_TENSOR_TYPES = (Tensor,)


def _bn_scale_shift(b, mean, var, eps, gamma, beta):
    """(s, (b - mean) * s + beta) with s = gamma / sqrt(var + eps): a bias b then an eval batch norm as one
    per-channel affine map; arrays in, out (None for an absent b, gamma or beta)."""
    scale = 1.0 / np.sqrt(var + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = ((0.0 if b is None else b) - mean) * scale + (0.0 if beta is None else beta)
    return scale, shift


def _folded_arrays(w, b, mean, var, eps, gamma, beta, channel_axis):
    """(w * s, (b - mean) * s + beta) with s = gamma / sqrt(var + eps) along channel_axis of w; arrays in, out."""
    scale, fused_b = _bn_scale_shift(b, mean, var, eps, gamma, beta)
    shape = [1] * w.ndim
    shape[channel_axis] = -1
    fused_w = (w * scale.reshape(shape)).astype(w.dtype, copy=False)
    return fused_w, fused_b.astype(w.dtype if b is None else b.dtype, copy=False)


def _array(t):
    return None if t is None else t._data


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The weight and bias of one convolution equal to conv(conv_w, conv_b) followed by an eval-mode batch norm.

    Args:
        conv_w (Tensor), conv_b (Tensor or None): the convolution's parameters.
        bn_rm, bn_rv (Tensor): the batch norm's running mean and variance; bn_eps (float).
        bn_w, bn_b (Tensor or None): the batch norm's affine weight and bias (None: 1 and 0).
        transpose (bool, default False): conv_w is a transposed convolution's (in, out/groups, ...) weight.
    Returns:
        (Parameter, Parameter): the fused weight and bias, requiring grad where conv_w and conv_b do. Matches
        torch.nn.utils.fusion.fuse_conv_bn_weights.

    >>> import cnnlab
    >>> w, b = fuse_conv_bn_weights(cnnlab.ones(2, 1, 3, 3), None, cnnlab.zeros(2), cnnlab.ones(2), 0.0,
    ...                             cnnlab.tensor([2.0, 3.0]), cnnlab.tensor([1.0, -1.0]))
    >>> w[:, 0, 0, 0].tolist(), b.tolist()
    ([2.0, 3.0], [1.0, -1.0])
    """
    fw, fb = _folded_arrays(conv_w._data, _array(conv_b), bn_rm._data, bn_rv._data, bn_eps, _array(bn_w),
                            _array(bn_b), 1 if transpose else 0)
    # a missing conv bias counts as zeros that need no gradient, as in PyTorch
    return (Parameter(Tensor._wrap(fw), conv_w.requires_grad),
            Parameter(Tensor._wrap(fb), conv_b is not None and conv_b.requires_grad))


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of conv whose output equals bn(conv(x)) for an eval-mode bn. Both must be in eval mode.

    Raises:
        ValueError: conv or bn is in training mode, or bn has no running statistics.
    Matches torch.nn.utils.fusion.fuse_conv_bn_eval.

    >>> import cnnlab, cnnlab.nn as nn
    >>> conv, bn = nn.Conv2d(3, 4, 3).eval(), nn.BatchNorm2d(4).eval()
    >>> x = cnnlab.randn(1, 3, 8, 8)
    >>> bool((fuse_conv_bn_eval(conv, bn)(x) - bn(conv(x))).abs().max() < 1e-5)
    True
    """
    _check_eval("fuse_conv_bn_eval", conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps,
                                                    bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The weight and bias of one linear layer equal to linear then an eval-mode BatchNorm1d over its features.
    Matches torch.nn.utils.fusion.fuse_linear_bn_weights.

    >>> import cnnlab
    >>> w, b = fuse_linear_bn_weights(cnnlab.eye(2), cnnlab.zeros(2), cnnlab.zeros(2), cnnlab.ones(2) * 4, 0.0,
    ...                               None, None)
    >>> w.tolist(), b.tolist()
    ([[0.5, 0.0], [0.0, 0.5]], [0.0, 0.0])
    """
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_linear_bn_eval(linear, bn):
    """A copy of linear whose output equals bn(linear(x)) for an eval-mode BatchNorm1d over the features.
    Matches torch.nn.utils.fusion.fuse_linear_bn_eval.

    >>> import cnnlab, cnnlab.nn as nn
    >>> lin, bn = nn.Linear(3, 4).eval(), nn.BatchNorm1d(4).eval()
    >>> x = cnnlab.randn(5, 3)
    >>> bool((fuse_linear_bn_eval(lin, bn)(x) - bn(lin(x))).abs().max() < 1e-5)
    True
    """
    _check_eval("fuse_linear_bn_eval", linear, bn)
    if linear.out_features != bn.num_features:
        raise ValueError(f"fuse_linear_bn_eval: the linear layer's out_features must equal the batch norm's "
                         f"num_features. Got out_features={linear.out_features}, num_features={bn.num_features}.")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(linear.weight, linear.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def _check_eval(op, layer, bn):
    if layer.training or bn.training:
        raise ValueError(f"{op}: fusion is only for eval mode (call .eval() first). Got "
                         f"{type(layer).__name__}.training={layer.training}, {type(bn).__name__}.training={bn.training}.")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"{op}: the batch norm has no running statistics to fold (track_running_stats=False).")


def foldable(conv, bn, input):
    """Whether conv_bn may fold: exact Conv/BatchNorm pair of one dimensionality in eval mode with running statistics,
    no hooks on either, a batched input, matching channels and dtypes, and no graph to record."""
    if _CONV_BN.get(type(conv)) is not type(bn) or bn.training or bn.running_mean is None or bn.running_var is None:
        return False
    if hooked(conv, bn):
        return False
    if not isinstance(input, Tensor) or input.dim() != conv._n + 2 or conv.out_channels != bn.num_features:
        return False
    dtype = input._data.dtype
    if conv.weight._data.dtype != dtype or bn.running_var._data.dtype != dtype:
        return False
    if records(input, *(p for p in (conv.weight, conv.bias, bn.weight, bn.bias) if p is not None)):
        return False
    return _fold_is_cheaper(conv, input)


def _fold_is_cheaper(conv, input):
    """Folding reads and writes the weight once; the batch norm pass it saves reads and writes the output once."""
    out_pixels = math.prod(input.shape[2:]) // max(1, math.prod(conv.stride))
    return conv.weight._data.size < input.shape[0] * conv.out_channels * out_pixels


def folded(conv, bn, input):
    """bn(conv(input)) as one convolution with the folded weight and bias; only where `foldable` allows it."""
    w, b = _folded_arrays(conv.weight._data, _array(conv.bias), bn.running_mean._data, bn.running_var._data, bn.eps,
                          _array(bn.weight), _array(bn.bias), 0)
    return conv._op(input, Tensor._wrap(w), Tensor._wrap(b), conv.stride, conv.padding, conv.dilation, conv.groups,
                    padding_mode=conv.padding_mode)


def conv_bn(conv, bn, input):
    """bn(conv(input)), computed as one folded convolution when `foldable` says so (inference), else layer by layer.

    >>> import cnnlab, cnnlab.nn as nn
    >>> conv, bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4).eval()
    >>> x = cnnlab.randn(2, 3, 8, 8)
    >>> with cnnlab.no_grad():
    ...     bool((conv_bn(conv, bn, x) - bn(conv(x))).abs().max() < 1e-5)
    True
    """
    return folded(conv, bn, input) if foldable(conv, bn, input) else bn(conv(input))


# ---- the inference path of a conv, its batch norm, a skip and ReLU as one op (the zoo's ResNet blocks) ---------
def hooked(*modules):
    """Whether any of the modules has a forward, forward-pre, backward or backward-pre hook."""
    return any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks
               for m in modules)


def inference_input(x, params):
    """Whether an inference-only path may take x with params: no graph to record, no ONNX trace, a non-empty
    float32/float64 (N, C, H, W) input of the parameters' dtype. The array dtypes are compared by identity (NumPy's
    float32 and float64 are single objects; bfloat16 storage is another, and any other dtype object says no)."""
    if not isinstance(x, _TENSOR_TYPES) or _TENSOR_MODULE._trace_hook is not None:
        return False
    data = x._data
    dt = data.dtype
    if data.ndim != 4 or data.size == 0 or not (dt is _FLOAT32 or dt is _FLOAT64) or \
            any(p._data.dtype is not dt for p in params):
        return False
    return not records(x, *params)


def affine_pair(conv, bn):
    """Whether conv_bn_affine may run conv then bn: an exact Conv2d with zero padding and an exact BatchNorm2d in
    eval mode with running statistics over its out_channels, neither hooked. The input is checked apart
    (inference_input with pair_params)."""
    return ((type(conv), type(bn)) == _AFFINE_TYPES and not bn.training and bn.running_mean is not None
            and bn.running_var is not None and conv.padding_mode == "zeros" and conv.out_channels == bn.num_features
            and not hooked(conv, bn))


def pair_params(conv, bn):
    """The tensors conv_bn_affine reads from conv and bn (for inference_input's dtype and grad checks)."""
    return [t for t in (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var) if t is not None]


def conv_bn_affine(conv, bn, input, residual=None, relu=False, max_val=None):
    """relu(bn(conv(input)) + residual) (ReLU when relu, the add when residual is a tensor; with max_val, ReLU's
    clamp to [0, max_val]: ReLU6) by conv2d_affine: the batch norm's affine map, the add and the ReLU in the
    convolution's output blocks. For inference, where affine_pair(conv, bn) and inference_input hold; the batch
    norm is folded into the weight where that reads fewer bytes than scaling the output (as conv_bn), else applied
    to the output blocks.

    >>> import cnnlab, cnnlab.nn as nn
    >>> conv, bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4).eval()
    >>> x = cnnlab.randn(2, 3, 8, 8)
    >>> with cnnlab.no_grad():
    ...     bool((conv_bn_affine(conv, bn, x, relu=True) - bn(conv(x)).relu()).abs().max() < 1e-5)
    True
    """
    w = conv.weight._data
    scale, shift = _bn_scale_shift(_array(conv.bias), bn.running_mean._data, bn.running_var._data, bn.eps,
                                   _array(bn.weight), _array(bn.bias))
    scale, shift = scale.astype(w.dtype, copy=False), shift.astype(w.dtype, copy=False)
    if _fold_is_cheaper(conv, input):
        w, scale = w * scale.reshape(-1, 1, 1, 1), None
    return conv2d_affine(input, Tensor._wrap(w), None if scale is None else Tensor._wrap(scale), Tensor._wrap(shift),
                         conv.stride, conv.padding, conv.dilation, conv.groups, residual=residual, relu=relu,
                         max_val=max_val)
