"""unfold (im2col) and fold (col2im) with gradients, for any number of spatial dims.

PyTorch has them for 2-d only; here the number of spatial dims n comes from the first tuple among the
geometry arguments (fold: output_size first), and every other tuple must have that length. When every argument
is an int, n is 2 and the rules are PyTorch's (a 3-d input is an unbatched image, a 4-d one a batch). Other n
need a batched (n+2)-d input, so that a tuple of the wrong length can never silently read the batch as a
spatial dim. The array work is in cnnlab.kernels.im2col; each op's backward is the other op's kernel.
"""
import numpy as np

from ..._memory import check_allocation
from ...errors import ShapeError, shape_str
from ...kernels.im2col import col2im, im2col
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor
from ._args import check_output_size, check_positive, resolve_padding, to_tuple
from ._args import output_size as _blocks_along  # fold() has a parameter named output_size

__all__ = ["unfold", "fold"]


def _num_spatial(op, **args):
    """n = the length of the first tuple/list argument (2, PyTorch's only case, when all are ints); every other
    tuple must have n entries (PyTorch: "It is expected kernel_size equals to 2")."""
    n = next((len(a) for a in args.values() if isinstance(a, (tuple, list))), 2)
    for name, a in args.items():
        pairs = name == "padding" and isinstance(a, (tuple, list)) and all(isinstance(p, (tuple, list)) for p in a)
        if isinstance(a, (tuple, list)) and len(a) != n and not (pairs and len(a) == n):
            given = ", ".join(f"{k}={v!r}" for k, v in args.items())
            raise ShapeError(f"{op}: every geometry tuple must have one entry per spatial dim ({n}, from the "
                             f"first tuple). Got {given}.")
    return n


def _geometry(op, n, kernel_size, dilation, stride):
    k = to_tuple(kernel_size, n, "kernel_size", op)
    d = to_tuple(dilation, n, "dilation", op)
    s = to_tuple(stride, n, "stride", op)
    check_positive(k, "kernel_size", op)
    check_positive(d, "dilation", op)
    check_positive(s, "stride", op)
    return k, d, s


def _pad_str(pads):
    return str(tuple(p[0] if p[0] == p[1] else p for p in pads))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: every kernel-sized window of the (padded) input becomes a column.

    Args:
        input (Tensor): (N, C, *S) with n spatial dims, or unbatched (C, H, W) when n = 2 (PyTorch has n = 2
            only; any n here, batched).
        kernel_size (int or tuple): the window size; a tuple's length sets n, and every other tuple argument
            must have that length. When all geometry arguments are ints, n = 2 (as PyTorch).
        dilation (int or tuple, default 1): spacing between window elements.
        padding (int, tuple, or (before, after) pairs, default 0): implicit zeros on both sides of each dim.
        stride (int or tuple, default 1): step between windows.

    Shape:
        (N, C, *S) -> (N, C * prod(kernel_size), L), L = prod(O), O = floor((S + 2p - d*(k-1) - 1)/s) + 1 per
        dim. Rows are channel-major, kernel-offset-minor (c * prod(k) + flat kernel index); columns run over
        the windows in row-major order. Unbatched input gives (C * prod(kernel_size), L).

    Returns:
        Tensor: the columns; the gradient scatter-adds back onto the input (col2im).

    Raises:
        TypeError: a geometry argument that is not an int or a tuple of ints.
        ShapeError: geometry tuples of different lengths, an input that is not (n+2)-d (or 3-d for n = 2), a
            zero-size channel or spatial dim, a non-positive kernel_size/stride/dilation, negative padding, or an
            output size below 1.

    Matches torch.nn.functional.unfold.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> x = cnnlab.arange(9.0).reshape(1, 1, 3, 3)
    >>> F.unfold(x, 2).tolist()
    [[[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]]
    """
    t = as_tensor_arg(input, "unfold", "input")
    n = _num_spatial("unfold", kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
    k, d, s = _geometry("unfold", n, kernel_size, dilation, stride)
    x = t._data
    ranks = (n + 1, n + 2) if n == 2 else (n + 2,)  # unbatched only where PyTorch has it: no guessing
    if x.ndim not in ranks or any(v == 0 for v in x.shape[-n - 1:]):
        want = "a 3-d (unbatched) or 4-d (batched)" if n == 2 else f"a {n + 2}-d (batched)"
        raise ShapeError(f"unfold: expects {want} input (N, C, *spatial) with non-empty channel and spatial "
                         f"dims, for {n} spatial dims (kernel_size={k}). Got input.shape={shape_str(x.shape)}.")
    unbatched = x.ndim == n + 1
    xb = x[None] if unbatched else x  # (N, C, *S)
    spatial = xb.shape[2:]
    pads = resolve_padding(padding, n, "unfold", k, s, d, spatial)
    out = tuple(_blocks_along(size, kk, ss, p, dd) for size, kk, ss, p, dd in zip(spatial, k, s, pads, d))
    check_output_size("unfold", spatial, k, pads, s, d, out)

    N, C = xb.shape[:2]
    K, L = int(np.prod(k)), int(np.prod(out))
    check_allocation("unfold", (N, C * K, L), x.dtype)
    cols = im2col(xb, k, s, pads, d).reshape(N, C * K, L)  # (N, C, *K, *O) -> (N, C*K, L), no copy
    if unbatched:
        cols = cols[0]

    # d cols[n, c*K + j, l] / d x = 1 at the one input position window l reads at offset j (0 in padding),
    # so the gradient adds every column entry back onto that position: col2im.
    def backward(g):
        gx = col2im(g.reshape(N, C * K, L), xb.shape, k, s, pads, d)  # (N, C, *S)
        return (gx[0] if unbatched else gx,)

    return Tensor._from_op(cols, (t,), backward, "Im2ColBackward")


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into a tensor, adding up where blocks overlap (the adjoint of unfold).

    Args:
        input (Tensor): (N, C * prod(kernel_size), L) or unbatched (C * prod(kernel_size), L).
        output_size (int or tuple): the spatial size S of the result; a tuple's length sets n.
        kernel_size, dilation (default 1), padding (default 0), stride (default 1): as for unfold.

    Shape:
        (N, C * prod(k), L) -> (N, C, *output_size); L must equal prod(O), O = floor((S + 2p - d*(k-1) - 1)/s)
        + 1 per dim. Unbatched input gives (C, *output_size).

    Returns:
        Tensor: the folded tensor; its gradient is unfold of the incoming gradient.

    Raises:
        TypeError: a geometry argument that is not an int or a tuple of ints.
        ShapeError: geometry tuples of different lengths, an input that is not 2-d or 3-d, input.shape[-2] not divisible by prod(kernel_size), L not
            equal to the number of blocks, a non-positive kernel_size/stride/dilation, or no block fits.

    Matches torch.nn.functional.fold.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> cols = cnnlab.ones(1, 4, 4)  # 2x2 blocks of ones at the 4 positions of a 3x3 output
    >>> F.fold(cols, (3, 3), 2).tolist()
    [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    t = as_tensor_arg(input, "fold", "input")
    n = _num_spatial("fold", output_size=output_size, kernel_size=kernel_size, dilation=dilation, padding=padding,
                     stride=stride)
    size = to_tuple(output_size, n, "output_size", "fold")
    k, d, s = _geometry("fold", n, kernel_size, dilation, stride)
    y = t._data
    if y.ndim not in (2, 3) or any(v == 0 for v in y.shape[-2:]):
        raise ShapeError(f"fold: expects a 2-d (unbatched) or 3-d (batched) input (N, C * prod(kernel_size), L) "
                         f"with non-empty dims. Got input.shape={shape_str(y.shape)}.")
    unbatched = y.ndim == 2
    yb = y[None] if unbatched else y  # (N, C*K, L)
    N, CK, L = yb.shape
    K = int(np.prod(k))
    if CK % K:
        raise ShapeError(f"fold: input.shape[{y.ndim - 2}] must be divisible by the product of kernel_size. "
                         f"Got input.shape={shape_str(y.shape)}, kernel_size={k} (product {K}).")
    pads = resolve_padding(padding, n, "fold", k, s, d, size)
    blocks = tuple(_blocks_along(sz, kk, ss, p, dd) for sz, kk, ss, p, dd in zip(size, k, s, pads, d))
    check_output_size("fold", size, k, pads, s, d, blocks)
    if L != int(np.prod(blocks)):
        raise ShapeError(f"fold: input.shape[{y.ndim - 1}] must equal the number of sliding blocks. Got "
                         f"input.shape={shape_str(y.shape)}, output_size={size}, kernel_size={k}, dilation={d}, "
                         f"padding={_pad_str(pads)}, stride={s} (blocks: {' * '.join(map(str, blocks))} = "
                         f"{int(np.prod(blocks))}).")
    C = CK // K
    x_shape = (N, C) + size
    check_allocation("fold", x_shape, y.dtype)
    out = col2im(yb, x_shape, k, s, pads, d)  # (N, C*K, L) read as (N, C, *K, *O) -> (N, C, *S)
    if unbatched:
        out = out[0]

    # fold is unfold's adjoint, so its gradient is unfold (im2col) of the incoming gradient.
    def backward(g):
        gb = g[None] if unbatched else g  # (N, C, *S)
        gy = im2col(gb, k, s, pads, d).reshape(N, CK, L)  # (N, C, *K, *O) -> (N, C*K, L)
        return (gy[0] if unbatched else gy,)

    return Tensor._from_op(out, (t,), backward, "Col2ImBackward")

