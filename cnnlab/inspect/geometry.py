"""The geometry of the spatial ops: which input positions [first, last] the output positions [lo, hi] of a
convolution, pooling, unpooling, resize, pixel shuffle or pad read, per spatial dim (no clipping: positions
before 0 or past the end are padding). Read from a layer (module_geometry) or from the arguments of a
functional call (functional_geometry); the summary also shows kernel, stride, padding and dilation from here.
"""
import inspect as _pyinspect
import math

from .. import nn
from ..nn.functional._args import resolve_padding, to_tuple

__all__ = ["Geometry", "module_geometry", "functional_geometry", "FUNCTIONAL_OPS"]


class Geometry:
    """back(dim, lo, hi) -> (first, last) input positions, or None when no input lands there; kernel, stride,
    padding ((before, after) per dim) and dilation where the op has them."""

    def __init__(self, back, kernel=None, stride=None, padding=None, dilation=None):
        self.back, self.kernel, self.stride, self.padding, self.dilation = back, kernel, stride, padding, dilation


def _window(lo, hi, k, s, pad_before, d):
    return lo * s - pad_before, hi * s - pad_before + d * (k - 1)


def _transposed(lo, hi, k, s, pad_before, d):
    """Input positions i with lo <= i*s - pad + j*d <= hi for some tap j; None when no tap lands."""
    firsts, lasts = [], []
    for j in range(k):
        a, b = -((-(lo + pad_before - j * d)) // s), (hi + pad_before - j * d) // s
        if a <= b:
            firsts.append(a)
            lasts.append(b)
    return (min(firsts), max(lasts)) if firsts else None


def _adaptive(lo, hi, size_in, size_out):
    return (lo * size_in) // size_out, -((-(hi + 1) * size_in) // size_out) - 1


def _resize(lo, hi, size_in, size_out, mode, align_corners, scale):
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        return math.floor((lo + offset) * scale), math.floor((hi + offset) * scale)
    taps = (-1, 2) if mode == "bicubic" else (0, 1)
    if align_corners:
        step = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        x0, x1 = lo * step, hi * step
    else:
        x0, x1 = max((lo + 0.5) * scale - 0.5, 0.0), max((hi + 0.5) * scale - 0.5, 0.0)
    last = math.floor(x1) + taps[1] if x1 != math.floor(x1) or mode == "bicubic" else math.floor(x1)
    return math.floor(x0) + taps[0], last


def _sliding(n, spatial_in, kernel, stride, padding, dilation, transposed=False):
    k = to_tuple(kernel, n, "kernel_size", "receptive_field")
    s = to_tuple(stride if stride is not None and stride != () else kernel, n, "stride", "receptive_field")
    d = to_tuple(dilation, n, "dilation", "receptive_field")
    pads = resolve_padding(padding, n, "receptive_field", k, s, d, spatial_in)
    step = _transposed if transposed else _window
    return Geometry(lambda i, lo, hi: step(lo, hi, k[i], s[i], pads[i][0], d[i]), k, s, pads, d)


def _resize_geometry(n, spatial_in, spatial_out, mode, align_corners, scale_factor, recompute):
    if scale_factor is not None and not recompute:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * n
        scales = tuple(1.0 / f for f in factors)
    else:
        scales = tuple(a / b for a, b in zip(spatial_in, spatial_out))
    return Geometry(lambda i, lo, hi: _resize(lo, hi, spatial_in[i], spatial_out[i], mode, align_corners, scales[i]))


def _pad_geometry(n, pad):
    befores = [pad[2 * j] if 2 * j < len(pad) else 0 for j in range(n)][::-1]  # F.pad lists the last dim first
    return Geometry(lambda i, lo, hi: (lo - befores[i], hi - befores[i]))


def module_geometry(module, input_shape, output_shape):
    """The Geometry of a layer that moves positions (conv, pool, unpool, adaptive pool, upsample, pixel
    shuffle), for one call's input and output shapes; None for every other layer."""
    n = len(input_shape) - 2
    spatial_in, spatial_out = tuple(input_shape[2:]), tuple(output_shape[2:])
    if n < 1 or len(output_shape) != len(input_shape):
        return None
    pooling = nn.modules.pooling
    if isinstance(module, nn.modules.conv._ConvNd):
        return _sliding(n, spatial_in, module.kernel_size, module.stride, module.padding, module.dilation,
                        module.transposed)
    if isinstance(module, (pooling._MaxPoolNd, pooling._AvgPoolNd, nn.AvgPool1d, pooling._LPPoolNd,
                           pooling._MaxUnpoolNd)):
        return _sliding(n, spatial_in, module.kernel_size, module.stride, getattr(module, "padding", 0),
                        getattr(module, "dilation", 1), isinstance(module, pooling._MaxUnpoolNd))
    if isinstance(module, pooling._AdaptivePool):
        return Geometry(lambda i, lo, hi: _adaptive(lo, hi, spatial_in[i], spatial_out[i]))
    if isinstance(module, nn.Upsample):
        return _resize_geometry(n, spatial_in, spatial_out, module.mode, module.align_corners, module.scale_factor,
                                module.recompute_scale_factor)
    if isinstance(module, nn.PixelShuffle):
        r = module.upscale_factor
        return Geometry(lambda i, lo, hi: (lo // r, hi // r))
    if isinstance(module, nn.PixelUnshuffle):
        r = module.downscale_factor
        return Geometry(lambda i, lo, hi: (lo * r, hi * r + r - 1))
    return None


_F = nn.functional
FUNCTIONAL_OPS = tuple(f"{kind}{n}d" for kind in ("conv", "conv_transpose", "max_pool", "min_pool", "avg_pool",
                                                 "lp_pool", "adaptive_avg_pool", "adaptive_max_pool", "max_unpool")
                       for n in (1, 2, 3)) + ("interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle", "pad")
_SIGNATURES = {name: _pyinspect.signature(getattr(_F, name)) for name in FUNCTIONAL_OPS if hasattr(_F, name)}


def functional_geometry(name, args, kwargs, input_shape, output_shape):
    """The Geometry of a call F.<name>(*args, **kwargs) that took input_shape to output_shape, or None."""
    n = len(input_shape) - 2
    if name not in _SIGNATURES or n < 1 or len(output_shape) != len(input_shape):
        return None
    a = _SIGNATURES[name].bind(*args, **kwargs)
    a.apply_defaults()
    a = a.arguments
    spatial_in, spatial_out = tuple(input_shape[2:]), tuple(output_shape[2:])
    if name.startswith(("conv_transpose", "conv")):
        kernel = tuple(a["weight"].shape[2:])
        return _sliding(n, spatial_in, kernel, a["stride"], a["padding"], a["dilation"], name.startswith("conv_t"))
    if name.startswith(("max_pool", "min_pool", "avg_pool", "lp_pool", "max_unpool")):
        return _sliding(n, spatial_in, a["kernel_size"], a["stride"], a.get("padding", 0), a.get("dilation", 1),
                        name.startswith("max_unpool"))
    if name.startswith("adaptive"):
        return Geometry(lambda i, lo, hi: _adaptive(lo, hi, spatial_in[i], spatial_out[i]))
    if name in ("interpolate", "upsample"):
        return _resize_geometry(n, spatial_in, spatial_out, a["mode"], a["align_corners"], a["scale_factor"],
                                a.get("recompute_scale_factor"))
    if name == "pixel_shuffle":
        r = a["upscale_factor"]
        return Geometry(lambda i, lo, hi: (lo // r, hi // r))
    if name == "pixel_unshuffle":
        r = a["downscale_factor"]
        return Geometry(lambda i, lo, hi: (lo * r, hi * r + r - 1))
    if name == "pad":
        return _pad_geometry(n, tuple(a["pad"]))
    return None
