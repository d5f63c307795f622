"""Normalisation layers: batch, layer, group and instance norm, local response norm, and Lp normalize.

All four standardise x over some axes (xhat = (x - mean) / sqrt(var + eps), biased variance), then apply a
per-channel or per-element affine map, with the closed-form backward
dx = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), not autograd through the forward's small ops.
batch_norm, the one in every CNN's training step, runs on the fused kernels of cnnlab/kernels/batchnorm.py;
layer, group and instance norm share the plain NumPy core below.
"""
import numpy as np

from ...errors import DTypeError, ShapeError, shape_str
from ...autograd import grad_owned
from ...grad_mode import records
from ...kernels import batchnorm as _bn
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "normalize"]


# ---- the shared core ----------------------------------------------------------------------------------------
def _standardize(x, axes, eps):
    """(xhat, mean, biased var, invstd) with the statistics over `axes` (kept as size-1 dims). float16 is
    computed in float32, as PyTorch does (the caller rounds the output once)."""
    if x.dtype == np.float16:
        x = x.astype(np.float32)
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(var + eps)
    return xc * invstd, mean, var, invstd


def _standardize_grad(gxhat, xhat, invstd, axes):
    """Gradient through xhat = (x - mean(x)) * invstd(x) with batch statistics over `axes`.

    d mean / dx = 1/M and d invstd / dx = -invstd^3 (x - mean) / M give
    dx = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)).
    """
    return invstd * (gxhat - gxhat.mean(axis=axes, keepdims=True)
                     - xhat * (gxhat * xhat).mean(axis=axes, keepdims=True))


def _affine(op, x_t, w_t, b_t, xhat, param_shape, xhat_grad_to_x, name):
    """out = xhat * weight + bias (weight and bias viewed as param_shape, which broadcasts against x); records
    the op with xhat_grad_to_x(gxhat) as the input's gradient and the parameters' gradients summed over the
    broadcast axes."""
    w = None if w_t is None else w_t._data.reshape(param_shape)
    b = None if b_t is None else b_t._data.reshape(param_shape)
    out = xhat if w is None else xhat * w
    if b is not None:
        out = out + b
    red = tuple(i for i, s in enumerate(param_shape) if s == 1)  # the axes the parameters are broadcast over
    parents = tuple(t for t in (x_t, w_t, b_t) if t is not None)

    # out = xhat * w + b  =>  dxhat = g * w, dw = sum(g * xhat), db = sum(g) over the broadcast axes
    def backward(g):
        grads = [xhat_grad_to_x(g if w is None else g * w) if x_t.requires_grad else None]
        if w_t is not None:
            grads.append((g * xhat).sum(axis=red).reshape(w_t.shape) if w_t.requires_grad else None)
        if b_t is not None:
            grads.append(g.sum(axis=red).reshape(b_t.shape) if b_t.requires_grad else None)
        return grads

    return Tensor._from_op(out.astype(x_t._data.dtype, copy=False), parents, backward, name)


def _empty(t, w, b, name="NativeBatchNormBackward"):
    """The result for an input with no elements (a 0 batch, channel or spatial dim), as PyTorch gives it: an
    empty output, zero gradients for weight and bias, and no running-statistics update."""
    parents = tuple(p for p in (t, w, b) if p is not None)
    return Tensor._from_op(np.zeros(t._data.shape, t._data.dtype), parents,
                           lambda g: tuple(np.zeros(p._data.shape, p._data.dtype) for p in parents),
                           name)


def _param(value, name, op, numel, what, x_shape):
    """A tensor argument (or None) that must hold `numel` values, one per `what`."""
    if value is None:
        return None
    t = as_tensor_arg(value, op, name)
    if t._data.size != numel:
        raise ShapeError(f"{op}: {name} must have one value per {what} ({numel}). Got {name}.shape="
                         f"{shape_str(t.shape)}, input.shape={shape_str(x_shape)}.")
    return t


def _update_running(running, momentum, batch_value):
    """running <- (1 - momentum) * running + momentum * batch_value, in place in the running tensor's dtype."""
    r = running._data
    r[...] = ((1.0 - momentum) * r + momentum * batch_value.reshape(r.shape)).astype(r.dtype, copy=False)


def _check_momentum(momentum, op):
    if momentum is None or isinstance(momentum, bool):
        raise TypeError(f"{op}: momentum must be a number. (momentum=None, a cumulative average, is computed by "
                        f"the nn module, which passes 1 / num_batches_tracked.) Got momentum={momentum!r}.")


def _float_input(input, op, min_dim, layout):
    t = as_tensor_arg(input, op, "input")
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be a floating-point tensor. Got dtype={t.dtype}.")
    if t.ndim < min_dim:
        raise ShapeError(f"{op}: expects an input of at least {min_dim} dims {layout}. Got "
                         f"input.shape={shape_str(t.shape)}.")
    return t


# ---- batch norm -------------------------------------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel over the batch and spatial dims, then scale and shift it.
    Matches torch.nn.functional.batch_norm.

    In training, the batch mean and biased batch variance normalise the input, and running_mean / running_var
    (when given) are updated in place: running = (1 - momentum) * running + momentum * batch_stat, with the
    unbiased variance (n / (n - 1)) for running_var. In evaluation the running statistics normalise the input.

    Args:
        input (Tensor): (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W).
        running_mean, running_var (Tensor or None): (C,) buffers; None means batch statistics only (and then
            training must be True).
        weight, bias (Tensor, default None): (C,) per-channel scale and shift.
        training (bool, default False): use (and update) batch statistics.
        momentum (float, default 0.1): the running-average factor. The cumulative average that nn.BatchNorm
            uses for momentum=None is the module's job: it passes momentum = 1 / num_batches_tracked.
        eps (float, default 1e-5): added to the variance.
    Shape: output has the input's shape.
    Raises: ValueError when training with one value per channel; ShapeError for parameters of the wrong size
        or missing running statistics in evaluation.

    >>> import cnnlab
    >>> x = cnnlab.tensor([[1.0], [3.0]])
    >>> rm, rv = cnnlab.zeros(1), cnnlab.ones(1)
    >>> [round(v, 4) for v in batch_norm(x, rm, rv, training=True).flatten().tolist()]
    [-1.0, 1.0]
    >>> rm.tolist(), [round(v, 4) for v in rv.tolist()]  # 0.9 * 0 + 0.1 * 2;  0.9 * 1 + 0.1 * 2
    ([0.20000000298023224], [1.1])
    """
    t = _float_input(input, "batch_norm", 2, "(N, C, *)")
    x = t._data
    C = x.shape[1]
    rm = _param(running_mean, "running_mean", "batch_norm", C, "channel (input.shape[1])", x.shape)
    rv = _param(running_var, "running_var", "batch_norm", C, "channel (input.shape[1])", x.shape)
    w = _param(weight, "weight", "batch_norm", C, "channel (input.shape[1])", x.shape)
    b = _param(bias, "bias", "batch_norm", C, "channel (input.shape[1])", x.shape)
    if training:
        n = x.size // C if C else 0
        if n == 1:  # 0 values is an empty batch, which PyTorch passes through
            raise ValueError(f"batch_norm: Expected more than 1 value per channel when training. Got "
                             f"input.shape={shape_str(x.shape)}.")
        if rm is not None or rv is not None:
            _check_momentum(momentum, "batch_norm")
    elif rm is None or rv is None:
        raise ShapeError("batch_norm: running_mean and running_var must be given in evaluation mode "
                         f"(training=False). Got running_mean={'None' if rm is None else 'a tensor'}, "
                         f"running_var={'None' if rv is None else 'a tensor'}.")
    if x.size == 0:
        return _empty(t, w, b)
    x3 = np.ascontiguousarray(x).reshape(x.shape[0], C, int(np.prod(x.shape[2:])))  # (N, C, L), L = prod(spatial)
    wd = None if w is None else w._data.reshape(C)
    bd = None if b is None else b._data.reshape(C)
    if x.dtype == np.float16:  # computed in float32 and rounded once, as PyTorch does (float16 stats drift)
        x3, wd, bd = (None if a is None else a.astype(np.float32) for a in (x3, wd, bd))
    parents = tuple(p for p in (t, w, b) if p is not None)
    record = records(*parents)
    if training:
        out, mean, var, invstd = _bn.train_forward(x3, wd, bd, eps)
        if rm is not None:
            _update_running(rm, momentum, mean)
        if rv is not None:
            _update_running(rv, momentum, var * (n / (n - 1)))
    else:  # constants in evaluation: out = (x - running_mean) * (weight * invstd) + bias
        invstd = 1.0 / np.sqrt(rv._data.reshape(C).astype(np.float64) + eps)
        out = _bn.normalize(x3, rm._data.reshape(C).astype(np.float64), invstd, wd, bd)
    out = out.astype(x.dtype, copy=False)
    if not record:
        return Tensor._wrap(out.reshape(x.shape))

    # training: the closed form in kernels/batchnorm.py; evaluation: xhat = (x - running_mean) * invstd is
    # linear in x, so dx = g * weight * invstd, dweight = sum(g * xhat), dbias = sum(g)
    def backward(g):
        own = grad_owned()
        g3 = np.ascontiguousarray(g, dtype=x3.dtype).reshape(x3.shape)  # (N, C, L)
        need = (t.requires_grad, w is not None and w.requires_grad, b is not None and b.requires_grad)
        if training:  # dx into g's own memory when nothing else holds it
            into = g3 if g3.flags.writeable and (own or not np.may_share_memory(g3, g)) else None
            dx, dw, db = _bn.train_backward(g3, x3, mean, invstd, wd, *need, out=into)
        else:
            scale = invstd if wd is None else invstd * wd.astype(np.float64)
            dx = _bn.affine(g3, scale, None) if need[0] else None
            dw = _bn.row_dots(g3, x3 - rm._data.reshape(C, 1).astype(x3.dtype)) * invstd if need[1] else None
            db = _bn.row_sums(g3) if need[2] else None
        grads = [None if dx is None else dx.reshape(x.shape)]
        for p, gp in ((w, dw), (b, db)):
            if p is not None:
                grads.append(None if gp is None else gp.astype(p._data.dtype).reshape(p.shape))
        return grads

    return Tensor._from_op(out.reshape(x.shape), parents, backward, "NativeBatchNormBackward")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) over its spatial dims, then scale and shift per channel.
    Matches torch.nn.functional.instance_norm.

    Args:
        input (Tensor): (N, C, *spatial) with at least one spatial dim.
        running_mean, running_var (Tensor, default None): (C,) buffers, updated in place with the batch average
            of the per-instance statistics when use_input_stats (unbiased variance for running_var).
        weight, bias (Tensor, default None): (C,).
        use_input_stats (bool, default True): normalise with each instance's statistics; False uses the
            running statistics.
        momentum (float, default 0.1), eps (float, default 1e-5): as batch_norm.
    Raises: ValueError when use_input_stats with one spatial element.

    >>> import cnnlab
    >>> y = instance_norm(cnnlab.tensor([[[1.0, 3.0]]]))
    >>> [round(v, 4) for v in y.flatten().tolist()]
    [-1.0, 1.0]
    """
    t = _float_input(input, "instance_norm", 3, "(N, C, *spatial)")
    x = t._data
    C = x.shape[1]
    rm = _param(running_mean, "running_mean", "instance_norm", C, "channel (input.shape[1])", x.shape)
    rv = _param(running_var, "running_var", "instance_norm", C, "channel (input.shape[1])", x.shape)
    w = _param(weight, "weight", "instance_norm", C, "channel (input.shape[1])", x.shape)
    b = _param(bias, "bias", "instance_norm", C, "channel (input.shape[1])", x.shape)
    param_shape = (1, C) + (1,) * (x.ndim - 2)
    if not use_input_stats:
        return batch_norm(t, rm, rv, w, b, training=False, eps=eps)
    axes = tuple(range(2, x.ndim))
    n = int(np.prod(x.shape[2:]))
    if n == 1:
        raise ValueError(f"instance_norm: Expected more than 1 spatial element when training. Got "
                         f"input.shape={shape_str(x.shape)}.")
    if rm is not None or rv is not None:
        _check_momentum(momentum, "instance_norm")
    if x.size == 0:
        return _empty(t, w, b)
    xhat, mean, var, invstd = _standardize(x, axes, eps)
    if rm is not None:
        _update_running(rm, momentum, mean.mean(axis=0))
    if rv is not None:
        _update_running(rv, momentum, (var * (n / (n - 1))).mean(axis=0))
    return _affine("instance_norm", t, w, b, xhat, param_shape,
                   lambda gxhat: _standardize_grad(gxhat, xhat, invstd, axes), "NativeBatchNormBackward")


# ---- layer and group norm -------------------------------------------------------------------------------------
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims, then scale and shift elementwise.
    Matches torch.nn.functional.layer_norm.

    Args:
        input (Tensor): (*, *normalized_shape).
        normalized_shape (int or tuple of ints): the trailing shape to normalise over.
        weight, bias (Tensor, default None): of shape normalized_shape.
        eps (float, default 1e-5): added to the variance.
    Raises: ShapeError when input's trailing dims or the parameters' shapes differ from normalized_shape.

    >>> import cnnlab
    >>> [round(v, 4) for v in layer_norm(cnnlab.tensor([[1.0, 3.0]]), (2,)).flatten().tolist()]
    [-1.0, 1.0]
    """
    t = _float_input(input, "layer_norm", 0, "")
    x = t._data
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: the last dims of input must equal normalized_shape. Got normalized_shape="
                         f"{shape_str(shape)}, input.shape={shape_str(x.shape)}.")
    w = None if weight is None else as_tensor_arg(weight, "layer_norm", "weight")
    b = None if bias is None else as_tensor_arg(bias, "layer_norm", "bias")
    for p, name in ((w, "weight"), (b, "bias")):
        if p is not None and tuple(p.shape) != shape:
            raise ShapeError(f"layer_norm: {name} must have shape normalized_shape. Got {name}.shape="
                             f"{shape_str(p.shape)}, normalized_shape={shape_str(shape)}.")
    if x.size == 0:
        return _empty(t, w, b, "NativeLayerNormBackward")
    axes = tuple(range(x.ndim - k, x.ndim))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a row with an infinity: NaN, as PyTorch's
        xhat, _, _, invstd = _standardize(x, axes, eps)
    return _affine("layer_norm", t, w, b, xhat, (1,) * (x.ndim - k) + shape,
                   lambda gxhat: _standardize_grad(gxhat, xhat, invstd, axes), "NativeLayerNormBackward")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over groups of C / num_groups channels (and all spatial positions), then scale
    and shift per channel. Matches torch.nn.functional.group_norm.

    Args:
        input (Tensor): (N, C, *).
        num_groups (int): divides C.
        weight, bias (Tensor, default None): (C,).
        eps (float, default 1e-5): added to the variance.
    Raises: ShapeError when C is not divisible by num_groups or the parameters have the wrong size.

    >>> import cnnlab
    >>> y = group_norm(cnnlab.tensor([[1.0, 3.0, 5.0, 5.0]]), 2)
    >>> [round(v, 4) for v in y.flatten().tolist()]
    [-1.0, 1.0, 0.0, 0.0]
    """
    t = _float_input(input, "group_norm", 2, "(N, C, *)")
    x = t._data
    N, C = x.shape[:2]
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or C % num_groups:
        raise ShapeError(f"group_norm: the number of channels (input.shape[1]) must be divisible by num_groups. "
                         f"Got input.shape={shape_str(x.shape)}, num_groups={num_groups}.")
    w = _param(weight, "weight", "group_norm", C, "channel (input.shape[1])", x.shape)
    b = _param(bias, "bias", "group_norm", C, "channel (input.shape[1])", x.shape)
    G = int(num_groups)
    if x.size == 0:
        return _empty(t, w, b, "NativeGroupNormBackward")
    xg = x.reshape(N, G, -1)  # (N, G, C/G * spatial)
    xhat_g, _, _, invstd = _standardize(xg, (2,), eps)

    def to_x(gxhat):
        return _standardize_grad(gxhat.reshape(N, G, -1), xhat_g, invstd, (2,)).reshape(x.shape)

    return _affine("group_norm", t, w, b, xhat_g.reshape(x.shape), (1, C) + (1,) * (x.ndim - 2), to_x,
                   "NativeGroupNormBackward")


# ---- local response norm and normalize ----------------------------------------------------------------------------
def channel_window_sum(a, before, after):
    """out[:, c] = sum of a[:, c - before : c + after + 1] along dim 1, zero outside [0, C)."""
    C = a.shape[1]
    out = np.zeros_like(a)
    for o in range(-before, after + 1):  # a loop over the window's few offsets
        lo, hi = max(0, -o), min(C, C - o)
        if lo < hi:
            out[:, lo:hi] += a[:, lo + o:hi + o]
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each value by (k + alpha * mean of squares over `size` neighbouring channels) ** beta, as in
    AlexNet. Matches torch.nn.functional.local_response_norm.

    With s_c = (1 / size) * sum of x_j^2 for j in [c - size // 2, c + (size - 1) // 2] (zero padded):
    out_c = x_c / (k + alpha * s_c) ** beta.

    Args:
        input (Tensor): (N, C, *) with at least 3 dims.
        size (int): channels in the window. alpha (float, default 1e-4), beta (float, default 0.75),
        k (float, default 1.0).
    Raises: ValueError for inputs of fewer than 3 dims.

    >>> import cnnlab
    >>> local_response_norm(cnnlab.ones(1, 3, 2), size=3, alpha=1.0, beta=1.0).tolist()[0][1]  # (1 + 3/3) ** 1
    [0.5, 0.5]
    """
    t = _float_input(input, "local_response_norm", 0, "")
    x = t._data
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (N, C, *). Got "
                         f"input.shape={shape_str(x.shape)}.")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ShapeError(f"local_response_norm: size must be a positive int. Got size={size!r}.")
    if x.size == 0:
        return t
    q = channel_window_sum(x * x, size // 2, (size - 1) // 2) / size * alpha + k  # (N, C, *)
    d = q ** beta
    out = x / d

    # out_c = x_c q_c^-beta with dq_c / dx_j = 2 alpha x_j / size for j in c's window, so
    # dx_j = g_j / d_j - (2 alpha beta / size) x_j * sum over the windows containing j of g_c x_c / (d_c q_c)
    def backward(g):
        u = g * x / (d * q)
        return (g / d - (2.0 * alpha * beta / size) * x * channel_window_sum(u, (size - 1) // 2, size // 2),)

    return Tensor._from_op(out, (t,), backward, "LocalResponseNormBackward")


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along dim. Matches torch.nn.functional.normalize.

    Args:
        input (Tensor): any shape, floating point.
        p (float, default 2.0): the norm's exponent (float('inf') for the max norm; 0 counts the nonzeros and
            negative p are accepted as torch's vector_norm takes them).
        dim (int, default 1): the dim to normalise along.
        eps (float, default 1e-12): lower bound of the denominator.
        out (Tensor, default None): write the result here (outside the graph) and return it.

    >>> import cnnlab
    >>> normalize(cnnlab.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    t = _float_input(input, "normalize", 0, "")
    d = t._dim(dim, "normalize")
    x = t._data if t.ndim else t._data.reshape(1)
    ax = np.abs(x)
    # p <= 0 as torch's vector_norm: p = 0 counts the nonzeros (no gradient), -inf is the smallest |x|,
    # other negative p the same power sum as positive p (a zero entry makes it 0)
    if p == float("inf"):
        n = ax.max(axis=d, keepdims=True)
    elif p == float("-inf"):
        n = ax.min(axis=d, keepdims=True)
    elif p == 0:
        n = (x != 0).sum(axis=d, keepdims=True).astype(x.dtype)
    elif p == 2:
        n = np.sqrt((x * x).sum(axis=d, keepdims=True))
    elif p == 1:
        n = ax.sum(axis=d, keepdims=True)
    else:
        with np.errstate(divide="ignore"):  # 0 ** p for p < 0 is inf, silently as in torch
            n = (ax ** p).sum(axis=d, keepdims=True) ** (1.0 / p)
    denom = np.maximum(n, eps).astype(x.dtype, copy=False)
    result = x / denom

    # y = x / max(n, eps): dx = g / denom - [n >= eps] * sum(g * x) / denom^2 * dn/dx, where
    # dn/dx = sign(x) |x|^(p-1) / n^(p-1) (p = 2: x / n; p = inf: sign(x) on the ties for the max, shared)
    def backward(g):
        g = g.reshape(x.shape)
        safe_n = np.where(n > 0, n, 1)
        if p in (float("inf"), float("-inf")):
            hit = ax == n
            dn = np.sign(x) * hit / hit.sum(axis=d, keepdims=True)
        elif p == 0:
            dn = np.zeros_like(x)
        elif p == 2:
            dn = x / safe_n
        elif p == 1:
            dn = np.sign(x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                dn = np.where(x == 0, 0, np.sign(x) * (ax / safe_n) ** (p - 1))  # torch: 0 at zeros for p < 1
        coef = np.where(n >= eps, (g * x).sum(axis=d, keepdims=True) / (denom * denom), 0)
        corr = np.where(n >= eps, coef * dn, 0)  # p < 1: dn is nan at zeros (0 * inf), where n = 0 is possible
        return ((g / denom - corr).astype(x.dtype, copy=False).reshape(t.shape),)

    res = Tensor._from_op(result.reshape(t.shape), (t,), backward, "NormalizeBackward")
    if out is not None:
        out._data[...] = res._data
        return out
    return res
