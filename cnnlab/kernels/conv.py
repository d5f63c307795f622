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

from . import nonfinite, parallel, registry, select, workspace


def _run(op, geom, args, precise=False):
    """(the result, the chosen Algorithm, its blocks' finiteness flags or None) of op ('forward', 'backward_input'
    or 'backward_weight') on (*args, geom). Algorithms run on the kernel threads with BLAS held at one thread
    (kernels/parallel.py own_threads); a watched one reports each block's finiteness (seen) while the block is in
    cache. NumPy's floating-point warnings are off: PyTorch gives inf and NaN silently (the kernel threads take
    the caller's setting, kernels/parallel.py)."""
    algorithm = registry.get(select.algorithm(op, geom, precise=precise))
    fn = getattr(algorithm, op)
    seen = [] if algorithm.watched and op != "backward_weight" else None
    with np.errstate(all="ignore"), parallel.own_threads(geom.batch), \
            workspace.scope():                        # its scratch is let go after the call (kernels/workspace.py)
        result = fn(*args, geom) if seen is None else fn(*args, geom, seen=seen)
    return result, algorithm, seen


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
def conv_forward(x, w, geom, precise=False):
    """Cross-correlation of x (N, C, *S) with w (O, C/groups, *K) in the convolution geometry `geom`
    (kernels/geometry.py; its out_size may be smaller than the largest that fits): returns (N, O, *out_size).

    precise: the result is an activation a gradient will flow back through (training): no F(4x4) Winograd,
    whose rounding flips more ReLU masks downstream (kernels/select.py).
    """
    y, algorithm, seen = _run("forward", geom, (x, w), precise)
    if algorithm.exact_forward or _finite(y, (x, w), seen):
        return y
    return nonfinite.forward(x, w, geom)


def conv_backward_input(g, w, geom, precise=False):
    """d(sum(conv_forward(x) * g))/dx for the input of the convolution geometry `geom`: returns (N, C, *S).
    precise: as for conv_forward, where this is a forward pass (conv_transpose's)."""
    dx, algorithm, seen = _run("backward_input", geom, (g, w), precise)
    # the cheaper check: a finite w (these algorithms are exact for any g), else the result itself
    if algorithm.exact_input_gradient and w.size <= dx.size:
        if nonfinite.finite(w):
            return dx
    elif _finite(dx, (g, w), seen):
        return dx
    return nonfinite.backward_input(g, w, geom)


def conv_backward_weight(x, g, geom):
    """d(sum(conv_forward(x) * g))/dw in the convolution geometry `geom`: returns (O, C/groups, *K)."""
    dw, _, _ = _run("backward_weight", geom, (x, g))
    if _finite(dw, (x, g), None):
        return dw
    return nonfinite.backward_weight(x, g, geom)
