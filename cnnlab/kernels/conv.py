"""Convolution and its two adjoints: the entry points that pick an algorithm (kernels/select.py) and run it.

Pure array code, no autograd. Three functions cover convolution and its two adjoints, and so the transposed
convolution too (its forward is `conv_backward_input`, its backward `conv_forward` and `conv_backward_weight`):

    conv_forward(x, w, geom)           y[n, o, p]  = sum_{c, k} w[o, c, k] * xpad[n, g(o)*Cg + c, p*s + k*d]
    conv_backward_input(g, w, geom)    dx = adjoint of conv_forward in x
    conv_backward_weight(x, g, geom)   dw[o, c, k] = sum_{n, p} g[n, o, p] * xpad[n, g(o)*Cg + c, p*s + k*d]

`geom` is the convolution's geometry (kernels/geometry.py: sizes, per-side pads, stride, dilation, groups).
Inputs are float arrays of one dtype; the result keeps it (float32 stays float32). The algorithms are declared
by their own modules (kernels/registry.py); inf and NaN come out as PyTorch's (kernels/nonfinite.py).

>>> import numpy as np
>>> from cnnlab.kernels.geometry import ConvGeometry
>>> geom = ConvGeometry.of((1, 1, 4), (1, 1, 3), (1,), ((1, 1),), (1,), 1)
>>> conv_forward(np.ones((1, 1, 4)), np.ones((1, 1, 3)), geom).tolist()
[[[2.0, 3.0, 3.0, 2.0]]]
"""
import numpy as np

from . import nonfinite, parallel, registry, select


def _call(algorithm, which, *args, seen=None):
    """The algorithm's forward, backward_input or backward_weight (`which`) on (*args, geom); seen: the list a
    watched algorithm reports its blocks' finiteness to. Algorithms run on the kernel threads with BLAS held at
    one thread, except those that declare blas_threads (a few large matmuls: BLAS's own spinning threads hand
    over faster there)."""
    with parallel.own_threads(0 if algorithm.blas_threads else args[-1].batch):
        fn = getattr(algorithm, which)
        return fn(*args) if seen is None else fn(*args, seen=seen)


def _finite(result, operands, seen):
    """Whether a fast algorithm's result is PyTorch's: every block finite (a watched algorithm's `seen`), else
    the smaller of the operands (all finite: nothing for the algorithm to get wrong) and the result finite."""
    if seen is not None:
        return all(seen)
    if sum(a.size for a in operands) < result.size:           # LeNet's conv1 forward: 50K inputs, 301K outputs
        return all(nonfinite.finite(a) for a in operands)
    return nonfinite.finite(result)


# inf and NaN: an `exact_forward` algorithm sums PyTorch's products as they are (a flat grid's extra positions
# are dropped), and so does its input gradient where w is finite (a non-finite w meets the zeros of g on the flat
# grid or in the padding). Any other result that is not finite is computed again by kernels/nonfinite.py.
# NumPy's floating-point warnings are off: PyTorch gives inf and NaN silently (the kernel threads take the
# caller's setting, kernels/parallel.py).
def conv_forward(x, w, geom, precise=False):
    """Cross-correlation of x (N, C, *S) with w (O, C/groups, *K) in the convolution geometry `geom`
    (kernels/geometry.py; its out_size may be smaller than the largest that fits): returns (N, O, *out_size).

    precise: the result is an activation a gradient will flow back through (training): no F(4x4) Winograd,
    whose rounding flips more ReLU masks downstream (kernels/select.py).
    """
    algorithm = registry.get(select.algorithm("forward", geom, precise=precise))
    with np.errstate(all="ignore"):
        seen = [] if algorithm.watched else None
        y = _call(algorithm, "forward", x, w, geom, seen=seen)
        if algorithm.exact_forward or _finite(y, (x, w), seen):
            return y
        return nonfinite.forward(x, w, geom)


def conv_backward_input(g, w, geom, precise=False):
    """d(sum(conv_forward(x) * g))/dx for the input of the convolution geometry `geom`: returns (N, C, *S).
    precise: as for conv_forward, where this is a forward pass (conv_transpose's)."""
    algorithm = registry.get(select.algorithm("backward_input", geom, precise=precise))
    with np.errstate(all="ignore"):
        seen = [] if algorithm.watched else None
        dx = _call(algorithm, "backward_input", g, w, geom, seen=seen)
        # the cheaper check: a finite w (these algorithms are exact for any g), else the result itself
        if algorithm.exact_input_gradient and w.size <= dx.size:
            if nonfinite.finite(w):
                return dx
        elif _finite(dx, (g, w), seen):
            return dx
        return nonfinite.backward_input(g, w, geom)


def conv_backward_weight(x, g, geom):
    """d(sum(conv_forward(x) * g))/dw in the convolution geometry `geom`: returns (O, C/groups, *K)."""
    algorithm = registry.get(select.algorithm("backward_weight", geom))
    with np.errstate(all="ignore"):
        dw = _call(algorithm, "backward_weight", x, g, geom)
        if _finite(dw, (x, g), None):
            return dw
        return nonfinite.backward_weight(x, g, geom)
