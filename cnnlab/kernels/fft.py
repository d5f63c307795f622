"""FFT convolution: stride-1 convolutions with large kernels, in the frequency domain (N-d, any padding and
dilation, groups 1).

Cross-correlation of a padded input xp (length L along each dim) with a kernel of K taps is exact as a circular
correlation of length L for the outputs p <= L - K (no index p + k wraps around), so, writing X, W, G for the
real FFTs of length L of xp, w, g (zero-filled beyond each array's end) and * for the complex conjugate:

    forward           Y[n, o, f]  = sum_c X[n, c, f] * W[o, c, f]*       y = irfft(Y)[:out]
    backward_input    DX[n, c, f] = sum_o G[n, o, f] W[o, c, f]          dxp = irfft(DX); dx = its interior
    backward_weight   DW[o, c, f] = sum_n G[n, o, f]* X[n, c, f]         dw = irfft(DW)[:K]

(the input gradient is a full convolution of g with w, whose indices q - k < 0 wrap to q - k + L >= out, where
g is zero: exact too). The sums over channels are one complex matmul per frequency, (F, N, C) @ (F, C, O).
A dilated kernel is transformed with its holes filled by zeros. The cost, O(L log L) per channel pair's
spectrum plus N*C*O per frequency, does not grow with the kernel: it beats the GEMM lowering (9x-121x column
matrices) from large kernels on (`_wins` says where). float32 stays float32 (NumPy's pocketfft
transforms complex64); the tests bound its error against float64.

FFT lengths are rounded up to 2-3-5-smooth numbers (pocketfft's fast sizes); images go through in chunks of
about CHUNK_BYTES of spectrum, so a large batch never holds all of its spectra at once.
"""
import numpy as np

import math

from . import parallel, registry
from .common import padded

CHUNK_BYTES = 16 * 2**20   # bound on one chunk's input spectrum (N_chunk x C x F complex values)
MIN_TAPS = 150             # kernel taps from which 'fft' beats the lowerings, on at most MAX_CHANNELS channels in
MAX_CHANNELS = 32          # and out: its kernel spectra (O x C of them) cost more than they save beyond


def supports(geom):
    """Whether this algorithm applies: stride 1, groups 1, no negative padding (any number of spatial dims)."""
    return all(s == 1 for s in geom.stride) and geom.groups == 1 and all(b >= 0 and a >= 0 for b, a in geom.pads)


def _wins(op, geom, precise):
    taps = math.prod(geom.kernel)
    if taps >= MIN_TAPS and max(geom.in_channels, geom.out_channels) <= MAX_CHANNELS and supports(geom):
        return f"a large kernel ({taps} taps) on few channels: products of spectra"


def fast_length(n):
    """The smallest 2-3-5-smooth number >= n (pocketfft's fast transform lengths).

    >>> [fast_length(n) for n in (1, 7, 17, 62, 97)]
    [1, 8, 18, 64, 100]
    """
    m = max(1, n)
    while True:
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 1


class _Spectra:
    """The geometry of one call: FFT lengths, spatial axes, and the spectra of kernels and chunks of images."""

    def __init__(self, spatial, padding, kernel, dilation):
        self.pad_shape = tuple(s + b + a for s, (b, a) in zip(spatial, padding))
        self.padding = tuple(padding)
        self.dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        self.dilation = tuple(dilation)
        # the kernel's taps within its dilated extent (the rest are the holes)
        self.taps = (slice(None), slice(None)) + tuple(slice(None, None, d) for d in self.dilation)
        self.lengths = tuple(fast_length(s) for s in self.pad_shape)
        self.axes = tuple(range(2, 2 + len(spatial)))

    def transform(self, a):
        """rfftn over the spatial dims at the FFT lengths (zero-filled beyond a's end): (A, B, *F) complex."""
        return np.fft.rfftn(a, s=self.lengths, axes=self.axes)

    def invert(self, spec, keep):
        """irfftn of spec, cut to its first `keep` positions per dim: (A, B, *keep) real."""
        full = np.fft.irfftn(spec, s=self.lengths, axes=self.axes)
        return full[(slice(None), slice(None)) + tuple(slice(0, k) for k in keep)]

    def kernel_spectrum(self, w):
        """The spectrum of w (O, C, *K) with its dilation holes filled by zeros: (O, C, *F)."""
        if all(d == 1 for d in self.dilation):
            return self.transform(w)
        wd = np.zeros(w.shape[:2] + self.dilated, w.dtype)
        wd[self.taps] = w
        return self.transform(wd)

    def padded(self, x):
        """x (N, C, *S) zero-padded by the padding pairs: (N, C, *pad_shape)."""
        return padded(x, self.padding)

    def chunks(self, n, channels):
        """Image ranges whose spectra (channels x F complex values each) stay about CHUNK_BYTES, at least one
        per kernel thread (when there are as many images)."""
        per_image = channels * int(np.prod(self.lengths[:-1])) * (self.lengths[-1] // 2 + 1) * 8
        step = max(1, min(CHUNK_BYTES // max(1, per_image), -(-n // parallel.num_threads())))
        return [(a, min(n, a + step)) for a in range(0, n, step)]


def _per_frequency(a, b):
    """c[f] = a[f] @ b[f] for a (A, B, *F), b (B, D, *F) as (F, A, B) @ (F, B, D): returns (A, D, *F)."""
    freq = a.shape[2:]
    af = a.reshape(a.shape[:2] + (-1,)).transpose(2, 0, 1)
    bf = b.reshape(b.shape[:2] + (-1,)).transpose(2, 0, 1)
    out = np.matmul(af, bf)
    return out.transpose(1, 2, 0).reshape(out.shape[1:] + freq)


def forward(x, w, geom):
    """conv_forward at stride 1, groups 1: y = irfft(sum_c X W*), cut to the output size; chunks of images on
    the kernel threads."""
    geo = _Spectra(x.shape[2:], geom.pads, w.shape[2:], geom.dilation)
    out_size = geom.out_size
    out = np.empty((x.shape[0], w.shape[0]) + out_size, x.dtype)
    wc = np.conj(geo.kernel_spectrum(w)).transpose(1, 0, *geo.axes)          # (C, O, *F)

    def work(_, rng):
        a, b = rng
        out[a:b] = geo.invert(_per_frequency(geo.transform(geo.padded(x[a:b])), wc), out_size)

    parallel.run(work, geo.chunks(x.shape[0], max(x.shape[1], w.shape[0])))
    return out


def backward_input(g, w, geom):
    """conv_backward_input at stride 1, groups 1: dxp = irfft(sum_o G W), then its interior (x's positions)."""
    x_shape, padding = geom.x_shape, geom.pads
    geo = _Spectra(x_shape[2:], padding, w.shape[2:], geom.dilation)
    dx = np.empty(tuple(x_shape), g.dtype)
    ws = geo.kernel_spectrum(w)                                               # (O, C, *F)
    interior = (slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, _) in zip(x_shape[2:], padding))

    def work(_, rng):
        a, b = rng
        dx[a:b] = geo.invert(_per_frequency(geo.transform(g[a:b]), ws), geo.pad_shape)[interior]

    parallel.run(work, geo.chunks(g.shape[0], max(g.shape[1], x_shape[1])))
    return dx


def backward_weight(x, g, geom):
    """conv_backward_weight at stride 1, groups 1: dw = irfft(sum_n G* X), its first K (dilated) taps; each
    thread sums the spectra of its chunks."""
    w_shape = geom.w_shape
    geo = _Spectra(x.shape[2:], geom.pads, w_shape[2:], geom.dilation)
    totals = [None] * parallel.num_threads()

    def work(slot, rng):
        a, b = rng
        gs = np.conj(geo.transform(g[a:b])).transpose(1, 0, *geo.axes)     # (O, n, *F)
        part = _per_frequency(gs, geo.transform(geo.padded(x[a:b])))       # (O, C, *F)
        if totals[slot] is None:
            totals[slot] = part
        else:
            totals[slot] += part

    parallel.run(work, geo.chunks(x.shape[0], max(x.shape[1], g.shape[1])))
    total = parallel.add_up(totals)
    if total is None:
        return np.zeros(w_shape, x.dtype)
    dwd = geo.invert(total, geo.dilated)                                      # (O, C, *dilated kernel)
    return np.ascontiguousarray(dwd[geo.taps], dtype=x.dtype)


ALGORITHMS = (registry.Algorithm("fft", supports, forward, backward_input, backward_weight, rules=((20, _wins),)),)
