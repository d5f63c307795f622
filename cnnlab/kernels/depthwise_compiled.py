"""Depthwise 2-d convolution compiled with numba ('depthwise_compiled'), where the optional numba is installed.

The loops are in cnnlab/kernels/jit/depthwise.py (its docstring has the formulation): per plane, the padded input
split into its stride phases, then one contiguous multiply-add over the plane per kernel tap, compiled to vector
code. Planes (forward, input gradient) or channels (weight gradient) are split into one contiguous share per
kernel thread, one compiled call each, run without the GIL (kernels/parallel.py).

Each output sums exactly the products of the direct convolution, padding zeros included, so inf and NaN come out
as PyTorch's (`exact_forward`), and so does the input gradient where w is finite (`exact_input_gradient`); the
weight gradient is checked by kernels/conv.py as usual. Without numba (or with CNNLAB_COMPILED=0, kernels/compiled.py)
`supports` is false and the NumPy algorithms take these shapes; a dtype the kernels are not compiled for (float16)
goes to kernels/depthwise.py, its result checked here since this algorithm declares itself exact.

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> geom = ConvGeometry.of((1, 2, 3, 3), (2, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 2)
>>> forward(np.ones((1, 2, 3, 3)), np.ones((2, 1, 3, 3)), geom)[0, 1].tolist()
[[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]
"""
import math

import numpy as np

from . import compiled, depthwise, epilogue, nonfinite, parallel, registry, select
from .common import input_gradient_geometry
from .depthwise_taps import THREADED_MACS   # the same measured hand-off threshold for both depthwise algorithms

DTYPES = (np.float32, np.float64)   # the dtypes the kernels are compiled for


def supports(geom):
    """The 'depthwise' algorithm's geometries (2-d, one input channel per group, any multiplier), where the
    compiled kernels are available."""
    return depthwise.supports(geom) and compiled.available()


def _kernels(a):
    """The compiled kernels module for arrays of a's dtype, or None (not installed, off, or another dtype)."""
    return compiled.kernels() if a.dtype in DTYPES else None


def _run(kernel, arrays, geom, count, serial=False):
    """kernel(*arrays, strides, dilations, top and left pads, lo, hi) over [0, count), one share per thread (one
    share in the calling thread under THREADED_MACS multiply-adds, or when serial)."""
    (sh, sw), (dh, dw), ((top, _), (left, _)) = geom.stride, geom.dilation, geom.pads
    arrays = tuple(a if a is None else np.ascontiguousarray(a) for a in arrays[:-1]) + arrays[-1:]   # last: output
    macs = geom.batch * geom.out_channels * geom.positions * math.prod(geom.kernel)
    parts = parallel.ranges(count, 1 if macs < THREADED_MACS or serial else None)
    parallel.run(lambda slot, part: kernel(*arrays, sh, sw, dh, dw, top, left, *part), parts)


def forward(x, w, geom):
    """conv_forward for depthwise 2-d convolutions (any stride, dilation, padding, multiplier)."""
    jit = _kernels(x)
    if jit is None:
        y = depthwise.forward(x, w, geom)
        return y if nonfinite.finite(y) else nonfinite.forward(x, w, geom)
    return _forward(jit, x, w, geom, None, None)


def _forward(jit, x, w, geom, shift, bounds, serial=False):
    """The compiled forward, with its epilogue unless shift is None: + shift, clamped to bounds (low, high)."""
    out = np.empty(geom.y_shape, dtype=x.dtype)
    bounds = None if bounds is None else np.array(bounds, x.dtype)
    _run(jit.forward, (x, w, shift, bounds, out), geom, out.shape[0] * out.shape[1], serial)
    return out


def forward_affine(x, w, geom, shift, relu, max_val):
    """conv_forward(x, w, geom) + shift[c] (None: 0), then max(., 0) when relu and min(., max_val) when given, as
    kernels/epilogue.py's affine without a scale or residual, in the compiled loops as each plane is stored; None
    where the selector would not run 'depthwise_compiled' for geom (or the kernels do not take x's dtype): the
    caller runs its own algorithm and epilogue. On a batch smaller than the threads it runs in the calling thread:
    the 1x1 convs around it in an inference block (MobileNetV2's) then run on BLAS's own threads
    (parallel.own_threads), which spin for a while after each product, and a kernel thread's share would compete
    with them for the other core (benchmarks/NOTES.md)."""
    if not supports(geom) or select.algorithm("forward", geom) != "depthwise_compiled":
        return None
    jit = _kernels(x)
    if jit is None or w.dtype != x.dtype or (shift is not None and shift.dtype != x.dtype):
        return None
    with np.errstate(all="ignore"), parallel.own_threads(geom.batch):   # as kernels/conv.py runs an algorithm
        shift = np.zeros(geom.out_channels, x.dtype) if shift is None else shift
        return _forward(jit, x, w, geom, shift, epilogue.clamp_bounds(relu, max_val),
                        serial=geom.batch < parallel.num_threads())


def backward_input(g, w, geom):
    """conv_backward_input for depthwise 2-d convolutions: at stride 1 without a multiplier the forward of g with
    the flipped filters (kernels/common.py), else each tap's adjoint added into the phase planes."""
    jit = _kernels(g)
    if jit is None:
        dx = depthwise.backward_input(g, w, geom)
        return dx if nonfinite.finite(dx) else nonfinite.backward_input(g, w, geom)
    if geom.stride == (1, 1) and geom.out_channels == geom.in_channels:
        adjoint, crops = input_gradient_geometry(geom)
        return forward(g[(slice(None), slice(None)) + crops], w[:, :, ::-1, ::-1], adjoint)
    dx = np.empty(geom.x_shape, dtype=g.dtype)
    _run(jit.backward_input, (g, w, dx), geom, dx.shape[0] * dx.shape[1])
    return dx


def backward_weight(x, g, geom):
    """conv_backward_weight for depthwise 2-d convolutions: per tap, the dot product of g with the phase plane."""
    jit = _kernels(x)
    if jit is None:
        return depthwise.backward_weight(x, g, geom)
    dw = np.empty(geom.w_shape, dtype=x.dtype)
    _run(jit.backward_weight, (x, g, dw[:, 0]), geom, geom.in_channels)
    return dw


def _wins(op, geom, precise):
    if supports(geom):
        return "a 2-d depthwise convolution, with numba installed: compiled loops, one vector multiply-add per " \
               "kernel tap over each plane"


ALGORITHMS = (registry.Algorithm("depthwise_compiled", supports, forward, backward_input, backward_weight,
                                 rules=((5, _wins),), exact_forward=True, exact_input_gradient=True),)
