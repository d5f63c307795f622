"""Array helpers that several convolution algorithms share: zero padding, padded rows loaded channels last, one
kernel tap's strided view, the flipped kernel, and the input gradient of a stride-1 convolution written as a
forward convolution.

At stride 1, dx[c, i] = sum_{o, k} w[o, c, k] g[o, i + before - k*d] is a cross-correlation of g with the kernel
flipped and transposed (C, O/groups, *K per group), padded by d*(k-1) - before in front and S - O + before behind
(a negative padding crops g instead). So every algorithm with a fast forward has a fast input gradient there.

>>> g = ConvGeometry.of((1, 1, 5), (1, 1, 3), (1,), ((1, 1),), (1,), 1)
>>> input_gradient_geometry(g)[0].pads
((1, 1),)
"""
import numpy as np

from .geometry import ConvGeometry


def padded(x, pads, first=2):
    """x with zeros added around its spatial dims x.shape[first:first+n] (pads: n (before, after) pairs); x itself
    when there is no padding."""
    if not any(b or a for b, a in pads):
        return x
    n = len(pads)
    spatial = x.shape[first:first + n]
    xp = np.zeros(x.shape[:first] + tuple(s + b + a for s, (b, a) in zip(spatial, pads)) + x.shape[first + n:],
                  dtype=x.dtype)
    xp[(slice(None),) * first + tuple(slice(b, b + s) for s, (b, _) in zip(spatial, pads))] = x
    return xp


def overlap(p0, n, before, size):
    """(image slice, window slice) where the padded indices p0..p0+n-1 (image index = padded - before) meet
    the image 0..size-1; both empty where they do not.

    >>> overlap(0, 5, 2, 10)
    (slice(0, 3, None), slice(2, 5, None))
    """
    lo, hi = max(p0 - before, 0), min(p0 + n - before, size)
    hi = max(lo, hi)
    return slice(lo, hi), slice(lo + before - p0, hi + before - p0)


def load_rows(x, image, p0, n, top, cols, buf):
    """buf[:n] (n, columns, C) = the padded rows p0..p0+n-1 of image `image` of x (N, C, H, W), channels last:
    rows in the padding (top rows above the image, any below it) zeroed, cols = (image columns, buffer columns)
    copied. The buffer's other columns are the caller's to keep zero (a workspace buffer with their layout)."""
    src, dst = overlap(p0, n, top, x.shape[2])
    buf[:dst.start] = 0
    buf[dst.stop:n] = 0
    buf[dst, cols[1]] = x[image, :, src, cols[0]].transpose(1, 2, 0)


def tap_window(xp, off, out_size, stride, dilation):
    """The (N, C, *out_size) strided view of the padded xp that kernel tap `off` meets (distinct elements)."""
    return xp[(slice(None), slice(None)) + tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                                                 for k, o, s, d in zip(off, out_size, stride, dilation))]


def flipped_weight(w, groups):
    """The kernel of the input gradient as a convolution: w (O, Cg, *K) -> (C, Og, *K) per group, flipped."""
    g, (o, cg), kernel = groups, w.shape[:2], w.shape[2:]
    wt = w.reshape((g, o // g, cg) + kernel).swapaxes(1, 2)          # (G, Cg, Og, *K)
    return np.ascontiguousarray(wt[(Ellipsis,) + (slice(None, None, -1),) * len(kernel)]).reshape(
        (g * cg, o // g) + kernel)


def input_gradient_geometry(geom):
    """At stride 1: (the forward geometry whose convolution of g with the flipped kernel is the input gradient,
    the crop of g (a tuple of slices) its negative paddings ask for)."""
    crops, pads = [], []
    for s, o, (b, _), d, k in zip(geom.in_size, geom.out_size, geom.pads, geom.dilation, geom.kernel):
        front, back = d * (k - 1) - b, s - o + b
        crops.append(slice(max(0, -front), o - max(0, -back)))
        pads.append((max(0, front), max(0, back)))
    size = tuple(c.stop - c.start for c in crops)
    adjoint = ConvGeometry(geom.n, geom.batch, geom.out_channels, geom.in_channels, geom.groups, size, geom.kernel,
                           geom.stride, geom.dilation, tuple(pads), geom.in_size, False, geom.output_padding)
    return adjoint, tuple(crops)


def cropped(g, crops):
    """g (N, O, *S) cut to crops (one slice per spatial dim): a view, g itself when nothing is cut."""
    if any(c.start or c.stop != o for c, o in zip(crops, g.shape[2:])):
        return g[(slice(None), slice(None)) + crops]
    return g


def input_gradient_as_forward(g, w, geom):
    """At stride 1: (g', flipped_weight(w), geometry') such that the forward convolution of g' with the flipped
    kernel in geometry' is the input gradient."""
    adjoint, crops = input_gradient_geometry(geom)
    return cropped(g, crops), flipped_weight(w, geom.groups), adjoint
