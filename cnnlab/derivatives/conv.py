"""create_graph formula of the convolutions (conv1d/2d/3d and conv_transpose1d/2d/3d, one "ConvolutionBackward").

y = conv(x, w) + b is bilinear in (x, w), so both gradients are convolutions again, written here with the public
differentiable ops and therefore differentiable to any order:
    conv:            dx = conv_transpose(g, w)         (same stride, pads, dilation, groups; output_padding
                                                         restores x's size)
                     dw = conv of x with g as the kernel (see _weight_grad)
    conv_transpose:  dx = conv(g, w), cut to x's size;  dw = _weight_grad with the roles of x and g swapped
    both:            db = g summed over the batch and every position.
The geometry comes from the closure's `geom` (kernels/geometry.ConvGeometry). Padding modes other than zeros
run as F.pad before the convolution, so their derivative is pad's.
"""
from ..autograd.graph import register
from ..kernels.geometry import transposed_output_size
from ..nn.functional.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from .pooling import zero_grads

_CONV = (None, conv1d, conv2d, conv3d)
_CONV_T = (None, conv_transpose1d, conv_transpose2d, conv_transpose3d)


def _crop(t, size):
    """t (N, C, *S') cut to its first `size` positions along each spatial dim (a no-op when S' == size)."""
    if tuple(t.shape[2:]) == tuple(size):
        return t
    return t[(slice(None), slice(None)) + tuple(slice(0, s) for s in size)]


def _weight_grad(inp, gout, kernel, stride, pads, dilation, groups):
    """dL/dw of y = conv(inp, w) given gout = dL/dy: w[o, c, k] = sum_{n, p} gout[n, o, p] inp[n, c', p*s + k*d - pad]
    (c' = c in o's group) is itself a convolution of inp, read as a batch of channel planes, with gout as the
    kernel: stride and dilation trade places, and the groups stay groups once (group, batch) are the channels.
        inp (N, G*Cg, *S) -> (Cg, G*N, *S);  gout (N, G*Og, *O) -> (G*Og, N, *O);
        conv(.., stride=d, dilation=s, groups=G) -> (Cg, G*Og, *K') -> cut to K, transposed -> (G*Og, Cg, *K)."""
    n = len(kernel)
    N, C = inp.shape[:2]
    O = gout.shape[1]
    spatial = tuple(range(3, n + 3))
    x = inp.reshape((N, groups, C // groups) + tuple(inp.shape[2:])).permute((2, 1, 0) + spatial)
    x = x.reshape((C // groups, groups * N) + tuple(inp.shape[2:]))                      # (Cg, G*N, *S)
    k = gout.reshape((N, groups, O // groups) + tuple(gout.shape[2:])).permute((1, 2, 0) + spatial)
    k = k.reshape((O, N) + tuple(gout.shape[2:]))                                         # (G*Og, N, *O)
    out = _CONV[n](x, k, stride=dilation, padding=pads, dilation=stride, groups=groups)   # (Cg, G*Og, *K')
    return _crop(out, kernel).transpose(0, 1)                                             # (G*Og, Cg, *K)


@register("ConvolutionBackward")
def _convolution(ctx, grad):
    s = ctx.saved
    if "geom" not in s:
        return zero_grads(ctx) if "parents" in s else NotImplemented  # an empty input: every gradient is zero
    geom = s["geom"]
    x, w = ctx.inputs[:2]
    need = ctx.needs_input_grad
    gx = gw = gb = None
    n, stride, pads, dilation, groups = geom.n, geom.stride, geom.pads, geom.dilation, geom.groups
    if not geom.transposed:
        if need[0]:  # output_padding: the rows of x past the last window, which the floor rule dropped
            extra = tuple(size - transposed_output_size(o, k, st, pad, dl, 0) for size, o, k, st, pad, dl in
                          zip(geom.in_size, geom.out_size, geom.kernel, stride, pads, dilation))
            gx = _CONV_T[n](grad, w, stride=stride, padding=pads, output_padding=extra, groups=groups,
                            dilation=dilation)
        if need[1]:
            gw = _weight_grad(x, grad, geom.kernel, stride, pads, dilation, groups)
    else:
        if need[0]:
            gx = _crop(_CONV[n](grad, w, stride=stride, padding=pads, dilation=dilation, groups=groups), geom.in_size)
        if need[1]:
            gw = _weight_grad(grad, x, geom.kernel, stride, pads, dilation, groups)
    if len(ctx.inputs) == 3 and need[2]:
        gb = grad.sum(dim=(0,) + tuple(range(2, n + 2)))
    return (gx, gw) if len(ctx.inputs) == 2 else (gx, gw, gb)
