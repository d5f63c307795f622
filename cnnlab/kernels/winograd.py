"""Winograd F(2x2, 3x3): 3x3 stride-1 2-d convolutions with 16 multiplications per 2x2 output tile instead of 36.

Each 2x2 output tile reads a 4x4 input tile d (tiles overlap by 2). With the transforms of Lavin & Gray (2016),

    y = A^T [ (G w G^T) (.) (B^T d B) ] A       (.) elementwise over the 4x4 "transform points"
    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

and the sum over input channels happens at each transform point: 16 matmuls V[p] (tiles, C) @ U[p] (C, O), the
whole cost of the convolution when C and O are large (2.25x fewer multiplications than direct convolution).
B, G and A hold only 0, +-1 and 1/2, so float32 loses nothing noticeable (the tests compare against float64).

    forward           U = G w G^T (16, C, O); per block of tiles V = B^T d B (16, T, C), M = V @ U, y = A^T M A
    backward_input    the forward of g with the flipped, transposed kernel (at stride 1 the input gradient is a
                      convolution; its U comes straight from w with G's columns reversed)
    backward_weight   dU[p] = sum over tiles of (A g A^T)[p]^T (O, T) @ V[p] (T, C), then dw = G^T dU G

Layout: channels-last inside. A block (some images, or some rows of tiles of one image) is copied from NCHW
into a padded (n, rows, 2, W/2, C) buffer whose columns are split by parity, so the four columns of every tile
are unit-stride slices and every elementwise op runs over long (columns x channels) runs; the output comes
back through the same layout. The transforms of the blocks run in parallel threads (kernels/parallel.py), the
matmuls of a group of blocks as one matmul in the calling thread.
"""
import numpy as np

from . import parallel

BLOCK_BYTES = 2**20   # a block's transformed input V (16, T, C) stays about this size (cache) ...
MIN_TILES = 256       # ... unless that leaves fewer tiles than this for the matmuls

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_SIGN = np.array([1.0, 1.0, 1.0, -1.0])


def supports(x_shape, w_shape, stride, padding, dilation, groups):
    """Whether this algorithm applies: 2-d, 3x3 kernel, stride 1, dilation 1, groups 1, padding <= 2."""
    return len(x_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (1, 1) and \
        tuple(dilation) == (1, 1) and groups == 1 and all(0 <= v <= 2 for pair in padding for v in pair)


def _blocks(n_batch, th, tw, channels, itemsize):
    """(n0, n, t0, t) per block: images n0..n0+n, tile rows t0..t0+t (several whole images, or rows of one)."""
    per_row = 16 * tw * channels * itemsize
    rows = max(1, BLOCK_BYTES // per_row, -(-MIN_TILES // tw))
    if rows < th:
        return [(n0, 1, t0, min(rows, th - t0)) for n0 in range(n_batch) for t0 in range(0, th, rows)]
    step = max(1, rows // th)
    return [(n0, min(step, n_batch - n0), 0, th) for n0 in range(0, n_batch, step)]


class _Geometry:
    """Tiles of one call and the copies between NCHW arrays and a block's parity-split buffer."""

    def __init__(self, out_size, padding):
        self.out_size = tuple(out_size)
        self.th, self.tw = (out_size[0] + 1) // 2, (out_size[1] + 1) // 2
        self.top, self.left = padding[0][0], padding[1][0]

    def load(self, x, n0, n, row0, rows, left, buf):
        """buf[:n] (n, rows, 2, half, C) = rows row0.. of x (zero-padded: x's row i, column j sit at i + top,
        j + left), columns split by parity. Returns buf[:n]. Padding columns are never written (stay 0)."""
        dst = buf[:n, :rows]
        lo, hi = max(row0, self.top), min(row0 + rows, self.top + x.shape[2])
        if lo > row0:
            dst[:, :lo - row0] = 0
        if hi < row0 + rows:
            dst[:, max(hi, lo) - row0:] = 0
        if hi > lo:
            src = x[n0:n0 + n, :, lo - self.top:hi - self.top].transpose(0, 2, 3, 1)   # (n, rows', W, C)
            for parity in range(2):
                first = (parity - left) % 2                                  # first column of that parity
                j0, count = (left + first) // 2, len(range(first, x.shape[3], 2))
                np.copyto(dst[:, lo - row0:hi - row0, parity, j0:j0 + count], src[:, :, first::2])
        return dst


def _input_transform(xp, t, tw, v, tmp):
    """v (4, 4, n, t, tw, C) = B^T d B for every tile of the parity-split chunk xp (n, 2t + 2, 2, tw + 1, C)."""
    rows = [xp[:, a:a + 2 * t:2] for a in range(4)]                          # (n, t, 2, tw + 1, C) each
    r = tmp[:, :xp.shape[0], :t]
    np.subtract(rows[0], rows[2], out=r[0])
    np.add(rows[1], rows[2], out=r[1])
    np.subtract(rows[2], rows[1], out=r[2])
    np.subtract(rows[1], rows[3], out=r[3])
    for a in range(4):
        c = [r[a, :, :, b % 2, b // 2:b // 2 + tw] for b in range(4)]        # column b of every tile
        np.subtract(c[0], c[2], out=v[a, 0])
        np.add(c[1], c[2], out=v[a, 1])
        np.subtract(c[2], c[1], out=v[a, 2])
        np.subtract(c[1], c[3], out=v[a, 3])


def _output_transform(m, y, tmp):
    """y (n, 2t, 2, tw, O) (output columns split by parity) = A^T m A of m (4, 4, n, t, tw, O)."""
    p = tmp[:, :, :m.shape[2], :m.shape[3]]                                  # (2, 4, n, t, tw, O)
    np.add(m[0], m[1], out=p[0])
    p[0] += m[2]
    np.subtract(m[1], m[2], out=p[1])
    p[1] -= m[3]
    for r in range(2):
        q = p[r]
        np.add(q[0], q[1], out=y[:, r::2, 0])
        y[:, r::2, 0] += q[2]
        np.subtract(q[1], q[2], out=y[:, r::2, 1])
        y[:, r::2, 1] -= q[3]


def _kron(dtype, flip=False):
    """G (x) G (16, 9), with G's columns reversed when flip: U[p] = kron[p] . w[o, c].reshape(9)."""
    g = _G[:, ::-1] if flip else _G
    return np.kron(g, g).astype(dtype)


def _forward(x, u, out_size, padding):
    """The Winograd forward of x (N, C, H, W) with the transformed kernel u (16, C, O) into (N, O, *out_size)."""
    n_batch, channels = x.shape[:2]
    n_out = u.shape[2]
    out = np.empty((n_batch, n_out) + tuple(out_size), dtype=x.dtype)
    geo = _Geometry(out_size, padding)
    th, tw = geo.th, geo.tw
    blocks = _blocks(n_batch, th, tw, max(channels, n_out), x.itemsize)
    n_max, t_max = blocks[0][1], blocks[0][3]
    k = parallel.num_threads()
    tiles = n_max * t_max * tw
    v_all = np.empty((16, k * tiles, channels), dtype=x.dtype)
    m_all = np.empty((16, k * tiles, n_out), dtype=x.dtype)
    scratch = [dict(x=np.zeros((n_max, 2 * t_max + 2, 2, tw + 1, channels), dtype=x.dtype),
                    r=np.empty((4, n_max, t_max, 2, tw + 1, channels), dtype=x.dtype),
                    p=np.empty((2, 4, n_max, t_max, tw, n_out), dtype=x.dtype),
                    y=np.empty((n_max, 2 * t_max, 2, tw, n_out), dtype=x.dtype)) for _ in range(k)]

    for g0 in range(0, len(blocks), k):
        group = blocks[g0:g0 + k]
        starts = np.cumsum([0] + [n * t * tw for _, n, _, t in group])   # the group's blocks, back to back

        def points(buf, i, width):
            _, n, _, t = group[i]
            return buf[:, starts[i]:starts[i + 1]].reshape(4, 4, n, t, tw, width)

        def transform_in(i):
            n0, n, t0, t = group[i]
            xp = geo.load(x, n0, n, 2 * t0, 2 * t + 2, geo.left, scratch[i]["x"])
            _input_transform(xp, t, tw, points(v_all, i, channels), scratch[i]["r"])

        def transform_out(i):
            n0, n, t0, t = group[i]
            y = scratch[i]["y"][:n, :2 * t]
            _output_transform(points(m_all, i, n_out), y, scratch[i]["p"])
            rows = min(2 * t, out_size[0] - 2 * t0)
            for parity in range(2):                                          # (n, O, rows, columns)
                out[n0:n0 + n, :, 2 * t0:2 * t0 + rows, parity::2] = \
                    y[:, :rows, parity, :len(range(parity, out_size[1], 2))].transpose(0, 3, 1, 2)

        parallel.run(transform_in, range(len(group)))
        np.matmul(v_all[:, :starts[-1]], u, out=m_all[:, :starts[-1]])      # (16, T, O)
        parallel.run(transform_out, range(len(group)))
    return out


def forward(x, w, stride, padding, dilation, groups, out_size=None):
    """conv_forward for 3x3, stride 1, dilation 1, groups 1 (the output size is the natural one)."""
    out_size = tuple(s + b + a - 2 for s, (b, a) in zip(x.shape[2:], padding))
    u = np.matmul(_kron(x.dtype), w.reshape(-1, 9).T).reshape(16, w.shape[0], w.shape[1])   # (16, O, C)
    return _forward(x, u.swapaxes(1, 2), out_size, padding)


def backward_input(g, w, x_shape, stride, padding, dilation, groups):
    """conv_backward_input at stride 1: the forward of g with the flipped kernel w'[c, o] = w[o, c, ::-1, ::-1],
    padded by 2 - before in front and S - O + before behind (never negative for padding <= 2)."""
    pads = tuple((2 - b, s - o + b) for s, o, (b, _) in zip(x_shape[2:], g.shape[2:], padding))
    u = np.matmul(_kron(g.dtype, flip=True), w.reshape(-1, 9).T).reshape(16, w.shape[0], w.shape[1])
    return _forward(g, u, tuple(x_shape[2:]), pads)                              # u: (16, O, C) = (16, in, out)


def _grad_transform(gp, t, tw, dm, tmp):
    """dm (4, 4, n, t, tw, O) = A' g A'^T for every tile of the parity-split gradient chunk gp (n, 2t, 2, tw, O),
    with A' = [[1, 0], [1, 1], [1, -1], [0, 1]]: A with its last row's sign flipped (undone on dU)."""
    y0, y1 = gp[:, 0:2 * t:2], gp[:, 1:2 * t:2]                               # (n, t, 2, tw, O) each
    q = tmp[:, :gp.shape[0], :t]
    np.add(y0, y1, out=q[0])
    np.subtract(y0, y1, out=q[1])
    for a, rows in enumerate((y0, q[0], q[1], y1)):
        c0, c1 = rows[:, :, 0], rows[:, :, 1]
        np.copyto(dm[a, 0], c0)
        np.add(c0, c1, out=dm[a, 1])
        np.subtract(c0, c1, out=dm[a, 2])
        np.copyto(dm[a, 3], c1)


def backward_weight(x, g, w_shape, stride, padding, dilation, groups):
    """conv_backward_weight for 3x3, stride 1, dilation 1, groups 1: y = A^T (U (.) V) A per tile, so
    dU = sum over tiles of (A g A^T) (.) V (a matmul over tiles at each transform point) and dw = G^T dU G."""
    n_batch, channels = x.shape[:2]
    n_out = w_shape[0]
    geo = _Geometry(g.shape[2:], padding)
    th, tw = geo.th, geo.tw
    blocks = _blocks(n_batch, th, tw, max(channels, n_out), x.itemsize)
    n_max, t_max = blocks[0][1], blocks[0][3]
    k = parallel.num_threads()
    tiles = n_max * t_max * tw
    v_all = np.empty((16, k * tiles, channels), dtype=x.dtype)
    dm_all = np.empty((16, k * tiles, n_out), dtype=x.dtype)
    scratch = [dict(x=np.zeros((n_max, 2 * t_max + 2, 2, tw + 1, channels), dtype=x.dtype),
                    r=np.empty((4, n_max, t_max, 2, tw + 1, channels), dtype=x.dtype),
                    g=np.zeros((n_max, 2 * t_max, 2, tw, n_out), dtype=x.dtype),
                    q=np.empty((2, n_max, t_max, 2, tw, n_out), dtype=x.dtype)) for _ in range(k)]
    du = np.zeros((16, n_out, channels), dtype=x.dtype)
    geo_g = _Geometry(g.shape[2:], ((0, 0), (0, 0)))

    for g0 in range(0, len(blocks), k):
        group = blocks[g0:g0 + k]
        starts = np.cumsum([0] + [n * t * tw for _, n, _, t in group])   # the group's blocks, back to back

        def transform(i):
            n0, n, t0, t = group[i]
            v = v_all[:, starts[i]:starts[i + 1]].reshape(4, 4, n, t, tw, channels)
            dm = dm_all[:, starts[i]:starts[i + 1]].reshape(4, 4, n, t, tw, n_out)
            xp = geo.load(x, n0, n, 2 * t0, 2 * t + 2, geo.left, scratch[i]["x"])
            _input_transform(xp, t, tw, v, scratch[i]["r"])
            gp = geo_g.load(g, n0, n, 2 * t0, 2 * t, 0, scratch[i]["g"])    # rows past the output: 0
            _grad_transform(gp, t, tw, dm, scratch[i]["q"])

        parallel.run(transform, range(len(group)))
        used = starts[-1]
        du += np.matmul(dm_all[:, :used].swapaxes(1, 2), v_all[:, :used])  # (16, O, C)
    sign = np.outer(_SIGN, _SIGN).reshape(16, 1).astype(x.dtype)
    dw9 = np.matmul((_kron(x.dtype) * sign).T, du.reshape(16, -1))         # dw = G^T dU G: (9, O*C)
    return np.ascontiguousarray(dw9.reshape(3, 3, n_out, channels).transpose(2, 3, 0, 1))
