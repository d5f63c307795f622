"""The tiles of a Winograd call (kernels/winograd.py): how its images are cut into a x a input tiles and m x m
output tiles, grouped into blocks of images or bands of tile rows, and the copies between NCHW arrays and the
channels-last tiles of a block (the input tiles gathered through a zero-padded buffer, the output tiles scattered
back, and their adjoints for the weight gradient).
"""
import numpy as np

from . import parallel, workspace
from .common import load_rows


class Tiles:
    """The tiles of one call: th x tw tiles per image, blocks of images, and the copies in and out of them.

    Blocks are whole images, about block_tiles tiles each and at most max_bytes per transformed tensor, as many
    blocks as threads (or a multiple; whole: one block of every image), or with bands, bands of tile rows of an
    image larger than that (winograd.py's BLOCK_TILES, BLOCK_MAX_BYTES and BANDS, passed at each call).
    """

    def __init__(self, x_shape, out_size, padding, m, width, block_tiles, max_bytes, bands, whole=False):
        self.n, self.c = x_shape[:2]
        self.spatial, self.out_size = tuple(x_shape[2:]), tuple(out_size)
        self.m, self.a = m, m + 2
        self.th, self.tw = -(-out_size[0] // m), -(-out_size[1] // m)
        self.top, self.left = padding[0][0], padding[1][0]
        self.cols = (slice(0, self.spatial[1]), slice(self.left, self.left + self.spatial[1]))  # image -> buffer
        threads = parallel.num_threads()
        tiles = self.th * self.tw                                                   # per image
        per_block = max(1, min(block_tiles // tiles,                                # images
                               max_bytes // (self.a ** 2 * tiles * max(self.c, width) * 4)))
        blocks = max(-(-self.n // per_block), min(threads, self.n))
        if self.n >= threads:                                          # every thread gets as many blocks
            blocks = -(-blocks // threads) * threads
        self.step = max(1, self.n if whole else -(-self.n // max(1, min(blocks, self.n))))
        # an image larger than a block goes in bands of tile rows (whole tiles only: no partial tiles to zero)
        rows = min(block_tiles // self.tw, max_bytes // (self.a ** 2 * self.tw * max(self.c, width) * 4))
        self.band = max(1, rows) if bands and not whole and rows < self.th and \
            self.out_size == (m * self.th, m * self.tw) else 0
        if self.band:          # blocks (n0, n, r0, r1): images n0..n0+n, tile rows r0..r1
            self.step, self.blocks = 1, [(n0, 1, r0, min(r0 + self.band, self.th)) for n0 in range(self.n)
                                         for r0 in range(0, self.th, self.band)]
        else:
            self.blocks = [(n0, min(self.step, self.n - n0), 0, self.th) for n0 in range(0, self.n, self.step)]
        self.tiles = self.band * self.tw if self.band else self.step * tiles    # at most, per block

    def buffer(self, slot, dtype):
        """The padded input buffer of a block: band_buffer() or padded_buffer()."""
        return self.band_buffer(slot, self.band, dtype) if self.band else self.padded_buffer(slot, dtype)

    def load(self, x, block, xb, d):
        """d (a, a, n, rows, tw, C) = the input tiles of a block (n0, n, r0, r1) of x, through xb (buffer()); the
        images of a block of several are copied on the threads."""
        n0, n, r0, r1 = block
        if self.band:
            self.gather_band(x, n0, r0, r1, xb, d)
        else:
            parallel.run(lambda _, r: self.gather(x, n0 + r[0], r[1] - r[0], xb[r[0]:], d[:, :, r[0]:r[1]]),
                         parallel.ranges(n))

    def padded_buffer(self, slot, dtype):
        """A (step, m*th + 2, m*tw + 2, C) buffer, zero outside the images that gather() writes into it: a block
        of padded images, channels-last (kept between calls: the same layout needs no new zero fill)."""
        h, w = self.spatial
        shape = (self.step, self.m * self.th + 2, self.m * self.tw + 2, self.c)
        return workspace.zeros(f"winograd.x{slot}", shape, dtype, layout=(self.top, self.left, h, w))

    def gather(self, x, n0, n, xh, d):
        """d (a, a, n, th, tw, C) = the a x a input tiles of images n0..n0+n of x (N, C, H, W), zero-padded
        through xh (whose padding is never written)."""
        h, w = self.spatial
        xh[:n, self.top:self.top + h, self.left:self.left + w] = x[n0:n0 + n].transpose(0, 2, 3, 1)
        sn, sh, sw, sc = xh.strides
        tiles = np.lib.stride_tricks.as_strided(xh, shape=(self.a, self.a, n, self.th, self.tw, self.c),
                                                strides=(sh, sw, sn, self.m * sh, self.m * sw, sc), writeable=False)
        np.copyto(d, tiles)

    def scatter(self, y, out, n0, a, b):
        """out[n0 + a:n0 + b] = the output tiles y (m*m, n * th * tw * O) of images a..b of a block starting at n0:
        one copy when the tiles cover the output exactly, else one per position (r, s) in the tile."""
        m, th, tw = self.m, self.th, self.tw
        y6 = y.reshape(m, m, -1, th, tw, out.shape[1])[:, :, a:b]
        if self.out_size == (m * th, m * tw):
            o6 = out[n0 + a:n0 + b].reshape(b - a, out.shape[1], th, m, tw, m)
            np.copyto(o6, y6.transpose(2, 5, 3, 0, 4, 1))
            return
        for r, s, rows, cols in self.phases():                               # (n, O, rows, cols) each
            out[n0 + a:n0 + b, :, r::m, s::m] = y6[r, s, :, :rows, :cols].transpose(0, 3, 1, 2)

    def band_buffer(self, slot, rows, dtype):
        """A (m*rows + 2, m*tw + 2, C) buffer for a band of `rows` tile rows of one padded image, channels-last,
        zero in the columns outside the image (gather_band() writes its rows, the padding rows included)."""
        h, w = self.spatial
        shape = (self.m * rows + 2, self.m * self.tw + 2, self.c)
        return workspace.zeros(f"winograd.b{slot}", shape, dtype, layout=(self.left, h, w))

    def gather_band(self, x, n, r0, r1, xb, d):
        """d (a, a, 1, r1 - r0, tw, C) = the a x a input tiles of tile rows r0..r1 of image n of x (N, C, H, W),
        through xb (band_buffer()): one image's band of tiles, for images larger than a block."""
        rows = self.m * (r1 - r0) + 2                                     # the padded rows the band reads
        xb = xb[:rows]
        load_rows(x, n, self.m * r0, rows, self.top, self.cols, xb)
        sh, sw, sc = xb.strides
        tiles = np.lib.stride_tricks.as_strided(xb, shape=(self.a, self.a, 1, r1 - r0, self.tw, self.c),
                                                strides=(sh, sw, 0, self.m * sh, self.m * sw, sc), writeable=False)
        np.copyto(d, tiles)

    def scatter_band(self, y, out, n0, r0, r1):
        """out[n0, :, m*r0:m*r1] = the output tiles y (m*m, rows * tw * O) of a band."""
        m, rows, o = self.m, r1 - r0, out.shape[1]
        o6 = out[n0:n0 + 1, :, m * r0:m * r1].reshape(1, o, rows, m, self.tw, m)
        np.copyto(o6, y.reshape(m, m, 1, rows, self.tw, o).transpose(2, 5, 3, 0, 4, 1))

    def gather_band_outputs(self, g, n0, r0, r1, gt):
        """gt (m, m, 1, rows, tw, O) = g's image n0, tile rows r0..r1, cut into m x m output tiles (scatter_band's
        adjoint)."""
        m, rows, o = self.m, r1 - r0, g.shape[1]
        np.copyto(gt, g[n0:n0 + 1, :, m * r0:m * r1].reshape(1, o, rows, m, self.tw, m).transpose(3, 5, 0, 2, 4, 1))

    def gather_outputs(self, g, n0, n, gt):
        """gt (m, m, n, th, tw, O) = g's images n0..n0+n (N, O, *out_size) cut into m x m output tiles (scatter's
        adjoint; tile positions past the output are left as they are)."""
        m, th, tw = self.m, self.th, self.tw
        if self.out_size == (m * th, m * tw):
            np.copyto(gt, g[n0:n0 + n].reshape(n, g.shape[1], th, m, tw, m).transpose(3, 5, 0, 2, 4, 1))
            return
        for r, s, rows, cols in self.phases():
            gt[r, s, :, :rows, :cols] = g[n0:n0 + n, :, r::m, s::m].transpose(0, 2, 3, 1)

    def phases(self):
        """Per output position (r, s) in an m x m tile: (r, s, its tile rows, its tile columns)."""
        m = self.m
        return [(r, s, len(range(r, self.out_size[0], m)), len(range(s, self.out_size[1], m)))
                for r in range(m) for s in range(m)]
