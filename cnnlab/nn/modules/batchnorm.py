"""BatchNorm1d/2d/3d and InstanceNorm1d/2d/3d: per-channel normalisation with optional running statistics.

Both keep PyTorch's buffers (running_mean, running_var, num_batches_tracked as an int64 0-d tensor) so their
state_dicts match PyTorch's key for key. momentum=None means a cumulative average: the k-th training batch
updates the running statistics with factor 1/k (k = num_batches_tracked), as PyTorch.
"""
import numpy as np

from .. import functional as F
from .. import init
from ...errors import ShapeError, shape_str
from ...tensor import Tensor
from ._utils import check_count, factory_dtype, new_parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _NormBase(Module):
    """The parameters, buffers, initialisation and repr shared by BatchNorm and InstanceNorm."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features = check_count(num_features, "num_features", type(self).__name__)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = new_parameter((num_features,), device, dtype)
            if bias:
                self.bias = new_parameter((num_features,), device, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            np_dtype = factory_dtype(device, dtype)
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, np_dtype)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, np_dtype)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.zeros((), np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            self.running_mean._data.fill(0)
            self.running_var._data.fill(1)
            self.num_batches_tracked._data.fill(0)

    def reset_parameters(self):
        """Running statistics reset; weight = 1 and bias = 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs,
                              assign=False):
        # Checkpoints from before num_batches_tracked existed (PyTorch < 0.4.1) lack it: keep the current value.
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs,
                                      assign)


class _BatchNorm(_NormBase):
    _dims = (4,)
    _layout = ""

    def _check_input_dim(self, input):
        if input.dim() not in self._dims:
            want = " or ".join(f"{d}-d" for d in self._dims)
            raise ShapeError(f"{type(self).__name__}: expects a {want} input ({self._layout}). "
                             f"Got input.shape={shape_str(input.shape)}.")

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
        # Batch statistics in training mode, and in eval mode when there are no running statistics.
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)


_BN_DOC = """Batch normalisation over a {what} input: y = (x - mean) / sqrt(var + eps) * weight + bias per channel.

    In training mode mean and var are the batch's (biased var for normalising; the running_var update uses the
    unbiased one) and the running statistics move toward them: running = (1 - momentum) * running +
    momentum * batch. In eval mode the running statistics are used.

    Args:
        num_features (int): C.
        eps (float, default 1e-5), momentum (float or None, default 0.1; None = cumulative average).
        affine (bool, default True): learnable weight (init 1) and bias (init 0).
        track_running_stats (bool, default True): keep running_mean, running_var, num_batches_tracked buffers.
        bias (bool, keyword, default True): with affine, whether there is a bias.

    Shape:
        {shape}; output of the same shape.

    Raises:
        ShapeError (ValueError, RuntimeError): an input with another number of dims.

    Matches torch.nn.{cls}.

    >>> import cnnlab, cnnlab.nn as nn
    >>> bn = nn.{cls}(3)
    >>> bn
    {cls}(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> y = bn(cnnlab.randn({ex}))
    >>> int(bn.num_batches_tracked)
    1
"""


class BatchNorm1d(_BatchNorm):
    __doc__ = _BN_DOC.format(what="(N, C) or (N, C, L)", shape="(N, C) or (N, C, L)", cls="BatchNorm1d", ex="4, 3")
    _dims, _layout = (2, 3), "N, C or N, C, L"


class BatchNorm2d(_BatchNorm):
    __doc__ = _BN_DOC.format(what="(N, C, H, W)", shape="(N, C, H, W)", cls="BatchNorm2d", ex="4, 3, 5, 5")
    _dims, _layout = (4,), "N, C, H, W"


class BatchNorm3d(_BatchNorm):
    __doc__ = _BN_DOC.format(what="(N, C, D, H, W)", shape="(N, C, D, H, W)", cls="BatchNorm3d", ex="2, 3, 2, 4, 4")
    _dims, _layout = (5,), "N, C, D, H, W"


class _InstanceNorm(_NormBase):
    _n = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        name, n = type(self).__name__, self._n
        if input.dim() not in (n + 1, n + 2):
            raise ShapeError(f"{name}: expects a {n + 1}-d (unbatched) or {n + 2}-d (batched) input. "
                             f"Got input.shape={shape_str(input.shape)}.")
        channel_dim = input.dim() - n - 1
        if self.affine and input.shape[channel_dim] != self.num_features:
            raise ShapeError(f"{name}: the input's channel count must equal num_features. Got "
                             f"input.shape={shape_str(input.shape)}, num_features={self.num_features}.")
        unbatched = input.dim() == n + 1
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each sample over L: (N, C, L) or (C, L). Args as BatchNorm1d but
    affine=False, track_running_stats=False by default. Matches torch.nn.InstanceNorm1d."""
    _n = 1


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each sample over H, W: (N, C, H, W) or (C, H, W). Matches
    torch.nn.InstanceNorm2d.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.InstanceNorm2d(3)
    InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """
    _n = 2


class InstanceNorm3d(_InstanceNorm):
    """Normalise each channel of each sample over D, H, W. Matches torch.nn.InstanceNorm3d."""
    _n = 3
