"""Winograd convolution for 3x3 stride-1 2-d layers: F(2x2, 3x3) and F(4x4, 3x3) from one code path.

F(m x m, 3x3) computes an m x m output tile from an a x a input tile d (a = m + 2; tiles overlap by 2) with a*a
multiplications instead of 9*m*m. With the transforms of Lavin & Gray (2016),

    y = A^T [ (G w G^T) (.) (B^T d B) ] A       (.) elementwise over the a x a "transform points"

F(2x2): 16 points per 4 outputs (2.25x fewer multiplications than direct convolution), B, G, A hold only 0, +-1
and 1/2; float32 results are as close to float64 as direct convolution's.
F(4x4): 36 points per 16 outputs (4x fewer), transformed tensors 2.25x the activation instead of 4x. Its finite
points 0, 1, -1, 2, -1/2 (and infinity) gave float32 errors ~2.5e-6 of the largest value, half those of the
textbook 0, +-1, +-2 (7-11e-6) and ~5x direct convolution's (the price of F(4x4) wherever it is used; the
tests bound it). The matrices were derived for those points (Toom-Cook) and checked exact to 1e-15.

The sum over input channels happens at each transform point: a*a matmuls V[p] (tiles, C) @ U[p] (C, O), the
whole cost of the convolution when C and O are large.

    forward           U = G w G^T (P, C, O); per block of images V = (B^T (x) B^T) D, M = V @ U, Y = (A^T (x) A^T) M
    backward_input    the forward of g with the flipped, transposed kernel (at stride 1 the input gradient is a
                      convolution; its U comes straight from w with G's columns reversed)
    backward_weight   dU[p] = sum over tiles of ((A (x) A) g)[p]^T (O, T) @ V[p] (T, C), then dw = G^T dU G

Every transform is a matmul too: the a x a tiles of a block are gathered channels-last into D (P, tiles * C)
(one strided copy), and B^T d B for all of them is (B^T (x) B^T) (P, P) @ D; likewise (A^T (x) A^T) (m*m, P) @ M
for the outputs, then one copy puts the m x m output tiles back into NCHW (one per output phase where the
tiles overhang the output). So a block costs three copies (in, gather, out) and four matmuls; elementwise NumPy
would need ~30 single-threaded passes instead. Blocks are whole images, about BLOCK_TILES tiles each, as many
blocks as threads (or a multiple), or bands of tile rows of an image larger than that; they run on parallel
threads with single-threaded BLAS (kernels/parallel.py); each block's point matmuls are one batched matmul (one
Python call: many small calls made the two threads queue for the GIL). A forward whose transformed kernel U holds
more than WHOLE_MIN_KERNEL_BYTES is one block of every image instead, whose copies and point matmuls are split
over the threads: per-thread blocks would each read all of U. Likewise a weight gradient on few tiles with many
channels (`by_points`): one block, each thread the sums of its own transform points (the tiles, blocks and
bands, and their copies: kernels/winograd_tiles.py). Two algorithms, 'winograd4' (F(4x4)) and 'winograd'
(F(2x2)); `tile` says which wins where.
"""
import functools
import math

import numpy as np

from .. import _settings
from . import blas, nonfinite, parallel, registry, workspace
from .winograd_tiles import Tiles

WHOLE_MIN_KERNEL_BYTES = 12 * 2**20  # a larger U makes the forward one block with split matmuls (F(4x4) at 512
                           # channels: 37.7 MB, F(2x2) at 512: 16.8 MB; F(2x2) at 256, 4.2 MB, ties)
BLOCK_TILES = 256          # tiles per block (whole images, at least one): the point matmuls keep ~256 rows while
                           # a block's transform points stay near L2-sized, and the threads' blocks interleave
BLOCK_MAX_BYTES = 8 * 2**20  # and at most this much per transformed tensor (D, V, M: P x tiles x channels), so
                           # that a thread's scratch stays ~25 MB on wide layers (VGG's 14x14x512: 57 MB without)
WEIGHT_BLOCK_SHARE = 0.5   # weight gradients take blocks of this share of BLOCK_TILES: a block's D, V and dM then
                           # stay near L2-sized while it adds its dU (64-128 channels: 0.85-0.95x the time)
WEIGHT_IN_PLACE_BYTES = 8 * 2**20  # a dU (P x O x C) from this size takes each block's sums in place, point by point
                           # (no product array and pass to add it: 256 channels and up; smaller ones lose to the
                           # per-point calls)

_F2 = dict(G=np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]]),
           BT=np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]]),
           AT=np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]]))
_F4 = dict(G=np.array([[1, 0, 0], [-1/3, -1/3, -1/3], [1/3, -1/3, 1/3], [1/15, 2/15, 4/15], [-16/15, 8/15, -4/15],
                       [0, 0, 1]]),
           BT=np.array([[1, 3/2, -2, -3/2, 1, 0], [0, -1, -5/2, -1/2, 1, 0], [0, 1, 1/2, -5/2, 1, 0],
                        [0, -1/2, -1, 1/2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 1, 3/2, -2, -3/2, 1]]),
           AT=np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -1/2, 0], [0, 1, 1, 4, 1/4, 0], [0, 1, -1, 8, -1/8, 1]]))
_MATRICES = {2: _F2, 4: _F4}   # output tile size m -> its transforms (B^T: a x a, G: a x 3, A^T: m x a)


# where Winograd wins (`tile`; the measurements are in benchmarks/NOTES.md)
MIN_CHANNELS = 128           # input channels from which Winograd's matmuls outweigh its transforms
MIN_ROWS = 512               # N * output positions from which F(2x2) pays
MAX_POSITIONS = 784          # output positions per image up to which F(2x2) computes weight gradients (28x28)
F2_MAX_POSITIONS = 256       # and forwards / input gradients (16x16: 'shift' wins at 28x28x128) ...
F2_WIDE_CHANNELS = 256       # ... or up to F2_WIDE_MAX_POSITIONS (32x32) where the in or out channels reach this
F2_WIDE_MAX_POSITIONS = 1024
F4_POSITIONS = 49            # output positions per image from which F(4x4) is used (7x7)
F4_MIN_ROWS = 1536           # N * output positions from which F(4x4) beats F(2x2)
F4_MIN_CHANNELS = 64         # with 64..127 channels F(4x4) pays on large batches of positions only:
F4_MIN_ROWS_FEW_CHANNELS = 16384
WEIGHT_POSITIONS = 64        # output positions per image from which F(4x4) computes weight gradients (F(2x2)
WEIGHT_POSITIONS_F2 = 16     # from this many, with more than MIN_CHANNELS channels)
F4_MAX_WEIGHT_BYTES = 24 * 2**20  # F(4x4)'s per-thread weight-gradient sums dU (36 x O x C) up to this size
                           # (F(2x2)'s 16 x O x C above: 512 x 512 channels), unless by_points (one dU)
BANDS = True               # an image larger than a block goes in bands of tile rows (outputs of whole tiles)
WEIGHT_POINTS_RATIO = 1.0  # weight gradients split the sums over the transform points (one dU) where the
                           # batch's transformed tiles, T x (C + O), are at most this times the threads' dU copies


def supports(geom):
    """Whether this algorithm applies: 2-d, 3x3 kernel, stride 1, dilation 1, groups 1, padding <= 2, and the
    natural output size."""
    return geom.n == 2 and geom.kernel == (3, 3) and geom.stride == (1, 1) and geom.dilation == (1, 1) and \
        geom.groups == 1 and all(0 <= v <= 2 for pair in geom.pads for v in pair) and geom.natural


def tile(op, geom, precise):
    """4 for F(4x4, 3x3), 2 for F(2x2, 3x3), 0 for neither. Never on one image (its blocks are images: one thread
    would do all the work); F(4x4) is off for a precise forward (its larger rounding flips more ReLU masks
    downstream in training), when CNNLAB_WINOGRAD4=0, and for a forward or input gradient where one image's tiles
    overflow a block; F(4x4) weight gradients from 8x8 maps (from 7x7 where the threads share one dU: by_points),
    F(2x2) ones from 4x4 maps on more than MIN_CHANNELS channels (benchmarks/NOTES.md)."""
    if geom.batch < 2 or not supports(geom):
        return 0
    channels, positions = geom.in_channels, math.prod(geom.out_size)
    rows = geom.batch * positions
    if op == "backward_weight":
        # on any map (large images in bands of tile rows: faster than 'gemm' there, benchmarks/NOTES.md)
        # a large dU is no obstacle where it is one array whose points the threads share (by_points): 7x7x512
        if _settings.WINOGRAD4 and rows >= F4_MIN_ROWS and (
                positions >= WEIGHT_POSITIONS and 36 * channels * geom.out_channels * 4 <= F4_MAX_WEIGHT_BYTES or
                positions >= F4_POSITIONS and by_points(geom, 4)):
            return 4
        return 2 if channels > MIN_CHANNELS and WEIGHT_POSITIONS_F2 <= positions <= MAX_POSITIONS and \
            rows >= MIN_ROWS else 0
    many_tiles = channels >= MIN_CHANNELS and positions >= F4_POSITIONS and rows >= F4_MIN_ROWS
    if _settings.WINOGRAD4 and not precise and _image_fits(geom, 4) and \
            (many_tiles or channels >= F4_MIN_CHANNELS and rows >= F4_MIN_ROWS_FEW_CHANNELS):
        return 4
    wide = max(channels, geom.out_channels) >= F2_WIDE_CHANNELS
    return 2 if channels >= MIN_CHANNELS and 16 <= positions <= (F2_WIDE_MAX_POSITIONS if wide else F2_MAX_POSITIONS) \
        and rows >= MIN_ROWS else 0


def _image_fits(geom, m):
    """Whether one image's transformed tiles (a*a x tiles x the wider channel count, float32) fit a block
    (BLOCK_MAX_BYTES): on U-Net's 128x128 and 256x256 maps 'shift' wins, against whole images as blocks and
    against bands of tile rows (BANDS) alike (benchmarks/NOTES.md)."""
    tiles = math.prod(-(-s // m) for s in geom.out_size)
    return (m + 2) ** 2 * tiles * max(geom.in_channels, geom.out_channels) * 4 <= BLOCK_MAX_BYTES


def _scratch(name, slot, size, dtype):
    """A reusable flat scratch buffer of `size` values (kernels/workspace.py), one per name and thread slot."""
    return workspace.empty(f"winograd.{name}{slot}", (size,), dtype)


def _weights(w, dtype, m, flip=False):
    """U = G w G^T for every (o, c) as matmuls (P, 9) @ (9, O*C), P = (m + 2)^2, over ranges of o on the threads:
    w (O, C, 3, 3) -> (P, O, C) (G's columns reversed: the transform of the flipped kernel)."""
    g = _MATRICES[m]["G"][:, ::-1] if flip else _MATRICES[m]["G"]
    k, (o, c) = np.kron(g, g).astype(dtype), w.shape[:2]
    P = k.shape[0]
    u = np.empty((P, o * c), dtype)
    w = np.ascontiguousarray(w, dtype=dtype)

    def work(_, rng):  # output channels o0..o1: w read in place as the transposed operand (9, (o1-o0)*C)
        blas.gemm(k, w[rng[0]:rng[1]].reshape(-1, 9).T, u[:, rng[0] * c:rng[1] * c])

    parallel.run(work, parallel.ranges(o, min(parallel.num_threads(), o * c // 4096)))
    return u.reshape(P, o, c)


def _forward(x, u, out_size, padding, m, seen=None):
    """The Winograd forward of x (N, C, H, W) with the transformed kernel u (P, C, O) into (N, O, *out_size).
    seen: a list that gets, per block, whether its output tiles are all finite (checked while in cache)."""
    n_out = u.shape[2]
    out = np.empty((x.shape[0], n_out) + tuple(out_size), dtype=x.dtype)
    geo = Tiles(x.shape, out_size, padding, m, n_out, BLOCK_TILES, BLOCK_MAX_BYTES, BANDS,
                 whole=u.nbytes > WHOLE_MIN_KERNEL_BYTES)
    M = _MATRICES[m]
    bt, at = np.kron(M["BT"], M["BT"]).astype(x.dtype), np.kron(M["AT"], M["AT"]).astype(x.dtype)
    P, Q = bt.shape[0], at.shape[0]
    size = geo.tiles
    slots = [dict(x=geo.buffer(i, x.dtype), d=_scratch("d", i, P * size * geo.c, x.dtype),
                  v=_scratch("v", i, P * size * geo.c, x.dtype), m=_scratch("m", i, P * size * n_out, x.dtype),
                  y=_scratch("y", i, Q * size * n_out, x.dtype)) for i in range(min(parallel.num_threads(),
                                                                                   len(geo.blocks)))]

    def work(slot, block):  # a block on a thread; a lone block splits its matmuls over the threads instead
        n0, n, r0, r1 = block
        buf, tiles = slots[slot], n * (r1 - r0) * geo.tw
        d = buf["d"][:P * tiles * geo.c].reshape(P, -1)
        geo.load(x, block, buf["x"], d.reshape(geo.a, geo.a, n, r1 - r0, geo.tw, geo.c))
        v = parallel.matmul(bt, d, buf["v"][:P * tiles * geo.c].reshape(P, -1))          # (P, T*C)
        v, mm = v.reshape(P, tiles, geo.c), buf["m"][:P * tiles * n_out].reshape(P, tiles, n_out)
        parallel.run(lambda _, r: np.matmul(v[r[0]:r[1]], u[r[0]:r[1]], out=mm[r[0]:r[1]]),  # per point: (T, O)
                     parallel.ranges(P))
        y = parallel.matmul(at, mm.reshape(P, -1), buf["y"][:Q * tiles * n_out].reshape(Q, -1))
        if seen is not None:
            seen.append(nonfinite.finite(y))
        if geo.band:
            geo.scatter_band(y, out, n0, r0, r1)
        else:
            parallel.run(lambda _, r: geo.scatter(y, out, n0, *r), parallel.ranges(n))

    parallel.run(work, geo.blocks)
    return out


def forward(x, w, geom, m=2, seen=None):
    """conv_forward for 3x3, stride 1, dilation 1, groups 1 (the output size is the natural one), with
    F(m x m, 3x3), m = 2 or 4; seen as for _forward."""
    return _forward(x, _weights(w, x.dtype, m).swapaxes(1, 2), geom.out_size, geom.pads, m, seen)


def backward_input(g, w, geom, m=2, seen=None):
    """conv_backward_input at stride 1: the forward of g with the flipped kernel w'[c, o] = w[o, c, ::-1, ::-1],
    padded by 2 - before in front and S - O + before behind (never negative for padding <= 2)."""
    pads = tuple((2 - b, s - o + b) for s, o, (b, _) in zip(geom.in_size, geom.out_size, geom.pads))
    return _forward(g, _weights(w, g.dtype, m, flip=True), geom.in_size, pads, m, seen)  # (P, O, C): in->out


def by_points(geom, m):
    """Whether the weight gradient of F(m x m) sums the whole batch at once, each thread its own transform points
    of one dU, rather than per block of images, each thread its own dU (36 or 16 x O x C) added up at the end:
    where the batch's transformed tiles (T x (C + O)) take at most WEIGHT_POINTS_RATIO times the threads' copies
    of dU (CIFAR's 8x8x256 and 4x4x512 maps: few tiles, many channels).

    >>> from cnnlab.kernels.geometry import ConvGeometry
    >>> by_points(ConvGeometry.of((32, 512, 4, 4), (512, 512, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1), 2)
    True
    """
    tiles = geom.batch * math.prod(-(-s // m) for s in geom.out_size)
    return tiles * (geom.in_channels + geom.out_channels) <= \
        WEIGHT_POINTS_RATIO * parallel.num_threads() * geom.in_channels * geom.out_channels


def _sums_by_points(x, g, geo, bt, a4, n_out):
    """dU (P, O, C) = sum over all tiles of the batch of dM[p]^T V[p]: the gathers split over the threads by
    images, the transforms by matmul pieces, then each thread the sums of its own transform points."""
    P, tiles, c = bt.shape[0], geo.n * geo.th * geo.tw, geo.c
    xh = geo.padded_buffer(0, x.dtype)
    d = _scratch("d", 0, P * tiles * max(c, n_out), x.dtype)     # the input tiles, then dM
    d6 = d[:P * tiles * c].reshape(geo.a, geo.a, geo.n, geo.th, geo.tw, c)
    gt = workspace.zeros("winograd.g0", (geo.m, geo.m, geo.n, geo.th, geo.tw, n_out), x.dtype,
                         layout=geo.out_size)                    # odd sizes: zero edges, never written

    def gather(_, r):                                            # images r[0]..r[1]
        geo.gather(x, r[0], r[1] - r[0], xh[r[0]:], d6[:, :, r[0]:r[1]])
        geo.gather_outputs(g, r[0], r[1] - r[0], gt[:, :, r[0]:r[1]])

    parallel.run(gather, parallel.ranges(geo.n))
    v = parallel.matmul(bt, d[:P * tiles * c].reshape(P, -1), _scratch("v", 0, P * tiles * c, x.dtype).reshape(P, -1))
    dm = parallel.matmul(a4, gt.reshape(geo.m * geo.m, -1), d[:P * tiles * n_out].reshape(P, -1))
    v, dm = v.reshape(P, tiles, c), dm.reshape(P, tiles, n_out)
    du = np.empty((P, n_out, c), dtype=x.dtype)
    parallel.run(lambda _, r: np.matmul(dm[r[0]:r[1]].swapaxes(1, 2), v[r[0]:r[1]], out=du[r[0]:r[1]]),
                 parallel.ranges(P))
    return du


def backward_weight(x, g, geom, m=2):
    """conv_backward_weight for 3x3, stride 1, dilation 1, groups 1: y = A^T (U (.) V) A per tile, so
    dU = sum over tiles of (A g A^T) (.) V (a matmul over tiles at each transform point) and dw = G^T dU G."""
    w_shape, out_size = geom.w_shape, geom.out_size
    n_out = w_shape[0]
    points = by_points(geom, m)
    geo = Tiles(x.shape, out_size, geom.pads, m, n_out, max(1, int(BLOCK_TILES * WEIGHT_BLOCK_SHARE)),
                 BLOCK_MAX_BYTES, BANDS, whole=points)
    M = _MATRICES[m]
    bt, a4 = np.kron(M["BT"], M["BT"]).astype(x.dtype), np.kron(M["AT"], M["AT"]).T.astype(x.dtype)
    P = bt.shape[0]
    gg = np.kron(M["G"], M["G"]).astype(x.dtype)
    if points:
        du = _sums_by_points(x, g, geo, bt, a4, n_out)
        return parallel.matmul(du.reshape(P, -1).T, gg, np.empty((du[0].size, 9), x.dtype)).reshape(w_shape)
    size, band = geo.tiles, geo.band
    slots = [dict(x=geo.buffer(i, x.dtype),
                  d=_scratch("d", i, P * size * max(geo.c, n_out), x.dtype),  # a band's g tiles too
                  v=_scratch("v", i, P * size * geo.c, x.dtype),
                  g=None if band else workspace.zeros(f"winograd.g{i}", (geo.m, geo.m, geo.step, geo.th, geo.tw, n_out),
                                                      x.dtype, layout=tuple(out_size)),  # odd sizes: zero edges
                  dm=_scratch("m", i, P * size * n_out, x.dtype),
                  du=np.empty((P, n_out, geo.c), dtype=x.dtype), first=True)
             for i in range(parallel.num_threads())]

    def work(slot, block):
        n0, n, r0, r1 = block
        buf, tiles = slots[slot], n * (r1 - r0) * geo.tw
        d = buf["d"][:P * tiles * geo.c].reshape(P, -1)
        geo.load(x, block, buf["x"], d.reshape(geo.a, geo.a, n, r1 - r0, geo.tw, geo.c))
        v = np.matmul(bt, d, out=buf["v"][:P * tiles * geo.c].reshape(P, -1)).reshape(P, tiles, geo.c)
        if band:     # the input tiles are done with: their scratch takes g's
            gt = buf["d"][:geo.m * geo.m * tiles * n_out].reshape(geo.m, geo.m, 1, r1 - r0, geo.tw, n_out)
            geo.gather_band_outputs(g, n0, r0, r1, gt)
        else:
            gt = buf["g"][:, :, :n]                                          # (m, m, n, th, tw, O)
            geo.gather_outputs(g, n0, n, gt)
        dm = np.matmul(a4, gt.reshape(geo.m * geo.m, -1), out=buf["dm"][:P * tiles * n_out].reshape(P, -1))
        dmt = dm.reshape(P, tiles, n_out).swapaxes(1, 2)                    # (P, O, T)
        if buf["first"]:                                                     # (P, O, C)
            np.matmul(dmt, v, out=buf["du"])
            buf["first"] = False
        elif buf["du"].nbytes >= WEIGHT_IN_PLACE_BYTES:
            for p in range(P):
                blas.gemm(dmt[p], v[p], buf["du"][p], beta=1.0)
        else:
            buf["du"] += np.matmul(dmt, v)

    parallel.run(work, geo.blocks)
    du = parallel.add_up([None if s["first"] else s["du"] for s in slots])    # each slot's own array
    if du is None:
        du = np.zeros((P, n_out, geo.c), dtype=x.dtype)
    # dw = G^T dU G for every (o, c) as one matmul dU^T (O*C, P) @ (G (x) G) (P, 9): w's layout (O, C, 3, 3)
    return np.matmul(du.reshape(P, -1).T, gg).reshape(w_shape)


def _wins4(op, geom, precise):
    if tile(op, geom, precise) == 4:
        return "3x3 stride 1 with enough tiles: F(4x4, 3x3), 4x fewer multiply-adds"


def _wins2(op, geom, precise):
    if tile(op, geom, precise) == 2:
        return "3x3 stride 1 on a small or medium map with many channels: F(2x2, 3x3), 2.25x fewer multiply-adds"


ALGORITHMS = (
    registry.Algorithm("winograd4", supports, functools.partial(forward, m=4), functools.partial(backward_input, m=4),
                       functools.partial(backward_weight, m=4), rules=((60, _wins4),), watched=True),
    registry.Algorithm("winograd", supports, forward, backward_input, backward_weight, rules=((61, _wins2),),
                       watched=True),
)
