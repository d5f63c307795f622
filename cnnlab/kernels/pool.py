"""Pooling kernels: windowed max/min/sum over N spatial dims, adaptive pooling, unpooling. Pure array code.

Arrays are (..., *spatial): the leading dims (batch, channels) ride along in every NumPy op, so nothing loops
over them. A window is visited one kernel tap at a time (one offset per spatial dim, row-major, the order
PyTorch scans a window in): the outputs whose tap lands inside the input form a box, and the input positions
they read form a strided box of the same shape. Each tap is then one NumPy op on two views, and padding is
never materialised (a tap in the padding is simply skipped).

Adaptive pooling and unpooling live in kernels/pool_adaptive.py and are re-exported here.
"""
import functools
import itertools
from collections import namedtuple

import numpy as np

from . import parallel
from .nonfinite import quiet

from .pool_adaptive import (adaptive_bins, adaptive_extreme_axis, adaptive_max_forward,  # noqa: F401
                            adaptive_sum_axis, adaptive_sum_axis_backward, scatter_flat, scatter_sorted,
                            unpool_backward, unpool_forward)

Tap = namedtuple("Tap", "index out_slices in_slices phase phase_slices")


def _tap_ranges(size, k, s, pad_before, d, out):
    """Per tap j of one dim: (o_lo, o_hi, in_start) for the outputs o whose input o*s - pad + j*d is in
    [0, size), or None when there are none."""
    ranges = []
    for j in range(k):
        off = j * d - pad_before
        lo = max(0, -(off // s))                   # ceil(-off / s)
        hi = min(out, (size - 1 - off) // s + 1)
        ranges.append((lo, hi, lo * s + off) if hi > lo else None)
    return ranges


class Windows:
    """The sliding windows of one pooling call: geometry, the taps, and the per-output bookkeeping.

    Args: spatial (input sizes), kernel, stride, padding ((before, after) per dim), dilation, out (output
    sizes); all tuples with one entry per spatial dim.
    """

    def __init__(self, spatial, kernel, stride, padding, dilation, out):
        self.spatial, self.kernel, self.stride = tuple(spatial), tuple(kernel), tuple(stride)
        self.padding, self.dilation, self.out = tuple(padding), tuple(dilation), tuple(out)
        per_dim = [_tap_ranges(*a) for a in zip(spatial, kernel, stride, (p[0] for p in padding), dilation, out)]
        # Strided views are slow to stream (no SIMD). With a stride above 1 the kernels first split each block
        # of input into its stride phases, x[..., r0::s0, r1::s1, ...] (one contiguous plane per phase r that a
        # tap uses), and every tap then reads a unit-step box of one phase plane.
        self.phased = any(st > 1 for st in stride)
        phases = {}
        self.taps = []
        for t, js in enumerate(itertools.product(*(range(k) for k in kernel))):
            rs = [per_dim[i][j] for i, j in enumerate(js)]
            if any(r is None for r in rs):
                continue
            out_sl = tuple(slice(lo, hi) for lo, hi, _ in rs)
            in_sl = tuple(slice(st, st + (hi - lo - 1) * s + 1, s) for (lo, hi, st), s in zip(rs, stride))
            r = tuple(st % s for (_, _, st), s in zip(rs, stride))
            ph_sl = tuple(slice(st // s, st // s + hi - lo) for (lo, hi, st), s in zip(rs, stride))
            phase = phases.setdefault(r, len(phases))
            self.taps.append(Tap(t, (Ellipsis,) + out_sl, (Ellipsis,) + in_sl, phase, (Ellipsis,) + ph_sl))
        self.phase_slices = [(Ellipsis,) + tuple(slice(ri, None, s) for ri, s in zip(r, stride)) for r in phases]
        n_taps = int(np.prod(kernel))
        self.tap_dtype = np.uint8 if n_taps < 255 else (np.int16 if n_taps < 32767 else np.int32)  # + a sentinel
        self.sentinel = int(np.iinfo(self.tap_dtype).max)
        self._memo = {}   # what the methods below derive, made once (windows() shares one Windows per geometry)

    def _once(self, key, make):
        """make() computed on the first call with this key, then the same result (arrays made read-only)."""
        if key not in self._memo:
            value = make()
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            self._memo[key] = value
        return self._memo[key]

    def _grid(self, per_dim, dtype=np.int64):
        """sum_d per_dim[d] broadcast over the output grid: (O1, ..., On)."""
        n = len(self.out)
        total = np.zeros(self.out, dtype)
        for i, v in enumerate(per_dim):
            total = total + np.asarray(v, dtype).reshape((-1,) + (1,) * (n - 1 - i))
        return total

    def first_taps(self):
        """The first tap of each window that is not in the left padding (PyTorch's initial argmax):
        j0 = max(0, ceil((pad - o*s) / d)) per dim, raveled over the kernel. (O1, ..., On), read-only."""
        return self._once("first_taps", self._first_taps)

    def _first_taps(self):
        kstride = np.cumprod((1,) + self.kernel[:0:-1])[::-1]
        per_dim = []
        for O, s, (pb, _), d, ks in zip(self.out, self.stride, self.padding, self.dilation, kstride):
            o = np.arange(O)
            per_dim.append(np.maximum(0, -((o * s - pb) // d)) * int(ks))
        return self._grid(per_dim)

    def flat_indices(self, arg):
        """Tap numbers (..., O1, ..., On) -> indices into the flattened spatial input, as PyTorch returns."""
        istride = np.cumprod((1,) + self.spatial[:0:-1])[::-1]
        base = self._grid([(np.arange(O) * s - pb) * int(st) for O, s, (pb, _), st in
                           zip(self.out, self.stride, self.padding, istride)])
        offsets = np.array(list(itertools.product(*(range(k) for k in self.kernel))), np.int64).reshape(-1, len(self.kernel))
        lut = offsets @ (np.array(self.dilation, np.int64) * istride)  # (K,) flat offset of each tap
        return base + lut[arg]

    def counts(self, include_pad):
        """Taps per window inside the input (include_pad=False) or inside input + padding, with the window
        clipped where it runs past the right padding (ceil_mode), as PyTorch's avg_pool divisor. (O1..On),
        read-only."""
        return self._once(("counts", bool(include_pad)), lambda: self._counts(include_pad))

    def empty_windows(self):
        """The mask (O1..On) of windows with no tap inside the input (dilated windows wholly in the padding),
        or None when there is none."""
        return self._once("empty", self._empty_windows)

    def backward_plan(self):
        """extreme_backward's visiting plan for one (n, c) plane of this geometry (see _backward_plan), made
        once per Windows."""
        return self._once("backward_plan", lambda: _backward_plan(self, (1,) + self.spatial))

    def _empty_windows(self):
        empty = self.counts(False) == 0
        return empty if empty.any() else None

    def _counts(self, include_pad):
        per_dim = []
        for size, k, s, (pb, pa), d, O in zip(self.spatial, self.kernel, self.stride, self.padding,
                                             self.dilation, self.out):
            pos = (np.arange(O) * s - pb)[:, None] + np.arange(k) * d  # (O, k) input coordinate of each tap
            lo, hi = (-pb, size + pa) if include_pad else (0, size)
            per_dim.append(((pos >= lo) & (pos < hi)).sum(1))
        total = np.ones(self.out, np.int64)
        for i, c in enumerate(per_dim):
            total = total * c.reshape((-1,) + (1,) * (len(self.out) - 1 - i))
        return total


@functools.lru_cache(maxsize=256)
def _shared_windows(spatial, kernel, stride, padding, dilation, out):
    return Windows(spatial, kernel, stride, padding, dilation, out)


def windows(spatial, kernel, stride, padding, dilation, out):
    """Windows(spatial, kernel, stride, padding, dilation, out), one object per geometry: a pooling layer asks
    for the same one every call, and its taps and bookkeeping (~100 us of Python each time) depend on these
    tuples alone."""
    key = tuple(spatial), tuple(kernel), tuple(stride), tuple(tuple(p) for p in padding), tuple(dilation), tuple(out)
    return _shared_windows(*key)


# Cache blocking: each NumPy op streams through its operands, so nine taps over a 100 MB input would read it
# from memory nine times. The kernels below run over blocks of whole (n, c) planes of about BLOCK_BYTES, so every
# tap after the first finds its block in cache (a loop over a few dozen blocks, never over single images).
BLOCK_BYTES = 1 << 20
THREADED_BYTES = 4 << 20   # inputs from this size spread their blocks over the kernel threads (kernels/parallel.py)


def _blocks(n_planes, plane_bytes):
    step = max(1, BLOCK_BYTES // max(1, plane_bytes))
    return [(b, min(n_planes, b + step)) for b in range(0, n_planes, step)]


def _threads(nbytes):
    """How many kernel threads a pass over nbytes of input uses: below THREADED_BYTES the hand-offs cost more
    than they save."""
    return parallel.num_threads() if nbytes >= THREADED_BYTES else 1


class _PhaseBuffers:
    """The stride-phase planes of one block, in buffers allocated for the first (largest) block and reused by
    the others: a fresh ~256 KB array per plane and block would be mapped and page-faulted every time."""

    def __init__(self, win):
        self.win, self.bufs = win, None

    def views(self, block):
        """Uninitialised planes shaped like block[phase_slice] for each phase, or None when every stride is 1."""
        if not self.win.phased:
            return None
        if self.bufs is None:
            self.bufs = [np.empty(block[ps].shape, block.dtype) for ps in self.win.phase_slices]
        return [b[:block.shape[0]] for b in self.bufs]

    def split(self, xb):
        """The block's stride-phase planes (contiguous copies), or None when every stride is 1."""
        planes = self.views(xb)
        if planes is not None:
            for ps, p in zip(self.win.phase_slices, planes):
                np.copyto(p, xb[ps])
        return planes


def _tap_view(xb, planes, tap):
    """What tap reads from the block: a unit-step box of its phase plane, or a box of the block itself."""
    return planes[tap.phase][tap.phase_slices] if planes is not None else xb[tap.in_slices]


def _tap_grad(grb, planes, tap):
    return planes[tap.phase][tap.phase_slices] if planes is not None else grb[tap.in_slices]


def _merge(grb, planes, win):
    """Write the phase accumulators back into the block's gradient (phases are disjoint)."""
    if planes is not None:
        for ps, p in zip(win.phase_slices, planes):
            grb[ps] = p


def _backward_plan(win, block_shape):
    """For the backward: the taps in the order to visit them, each with whether it assigns its phase plane
    (the first tap of the plane that covers all of it: the plane then needs no zeroing), the phase planes that
    must start from zero, and whether the planes cover every input position (then the gradient array needs no
    zeroing either). A reorder of the few additions into each position."""
    if not win.phased:
        return [(tap, False) for tap in win.taps], set(), False
    box = np.broadcast_to(np.zeros((), np.uint8), block_shape)  # shapes only, no memory
    plane_shapes = [box[ps].shape for ps in win.phase_slices]
    assigns = {}
    for tap in win.taps:
        plane = np.broadcast_to(np.zeros((), np.uint8), plane_shapes[tap.phase])
        if tap.phase not in assigns and plane[tap.phase_slices].shape == plane.shape:
            assigns[tap.phase] = tap
    order = [(t, True) for t in assigns.values()] + [(t, False) for t in win.taps if assigns.get(t.phase) is not t]
    every = len(win.phase_slices) == int(np.prod(win.stride))
    return order, set(range(len(win.phase_slices))) - set(assigns), every


def _planes(a, n):
    """(..., *S) -> (B, *S), a view when a is contiguous."""
    return a.reshape((-1,) + a.shape[a.ndim - n:])


@quiet
def extreme_forward(x, win, largest=True, need_arg=True):
    """Max (or min) over every window: (values, tap numbers or None), both (..., *win.out).

    Ties keep the first tap in window order; a NaN wins and the last NaN is kept, as PyTorch's
    `if (val > maxval || isnan(val))`. A window with only -inf (+inf) keeps its first in-input tap.
    """
    n = len(win.out)
    lead = x.shape[:x.ndim - n]
    xf = _planes(x, n)
    out = np.empty((xf.shape[0],) + win.out, x.dtype)
    arg = np.empty(out.shape, win.tap_dtype) if need_arg else None
    if x.dtype.kind == "f":
        init = -np.inf if largest else np.inf
    else:
        init = np.iinfo(x.dtype).min if largest else np.iinfo(x.dtype).max
    reduce = np.maximum if largest else np.minimum  # NaN-propagating, as PyTorch's values
    empty = win.empty_windows()                      # dilated windows lying wholly in the padding
    first = win.first_taps().astype(win.tap_dtype) if need_arg and empty is not None else None
    threads = _threads(x.nbytes)
    phases = [_PhaseBuffers(win) for _ in range(threads)]   # one set of scratch planes per thread

    def block(slot, be):
        b, e = be
        xb, ob = xf[b:e], out[b:e]
        planes = phases[slot].split(xb)
        ob[...] = init
        for tap in win.taps:
            cur = ob[tap.out_slices]
            reduce(cur, _tap_view(xb, planes, tap), out=cur)
        if need_arg:
            if x.dtype.kind == "f" and np.isnan(ob.min() if largest else ob.max()):
                _arg_scan(xb, planes, ob, arg[b:e], win, largest, init)
            else:
                _arg_first_equal(xb, planes, ob, arg[b:e], win)
            if first is not None:
                np.copyto(arg[b:e], first, where=empty)

    parallel.run(block, _blocks(xf.shape[0], int(np.prod(win.spatial)) * x.itemsize), threads=threads)
    return out.reshape(lead + win.out), (arg.reshape(lead + win.out) if need_arg else None)


def _arg_first_equal(xb, planes, ob, ab, win):
    """The first tap whose value equals the window's extreme: the min over taps of (t if equal else SENTINEL),
    in branch-free integer arithmetic (a masked copy per tap is several times slower)."""
    sentinel = win.sentinel
    ab[...] = sentinel
    eq = np.empty(ob.shape, bool)
    key = np.empty(ob.shape, win.tap_dtype)
    for tap in win.taps:
        o = tap.out_slices
        np.equal(_tap_view(xb, planes, tap), ob[o], out=eq[o])
        np.multiply(eq[o], win.tap_dtype(sentinel - tap.index), out=key[o])
        np.subtract(win.tap_dtype(sentinel), key[o], out=key[o])
        np.minimum(ab[o], key[o], out=ab[o])


def _arg_scan(xb, planes, ob, ab, win, largest, init):
    """PyTorch's scan, for blocks holding a NaN: update when the tap is better or is NaN (so the last NaN wins)."""
    better = np.greater if largest else np.less
    cur_all = np.full(ob.shape, init, ob.dtype)
    ab[...] = win.first_taps()
    m = np.empty(ob.shape, bool)
    for tap in win.taps:
        v, cur, mo = _tap_view(xb, planes, tap), cur_all[tap.out_slices], m[tap.out_slices]
        better(v, cur, out=mo)
        mo |= np.isnan(v)
        np.copyto(cur, v, where=mo)
        np.copyto(ab[tap.out_slices], tap.index, where=mo)


def _tiled(win):
    """Whether the windows tile the input: kernel == stride, no padding, no dilation, every window inside the
    input (LeNet's 2x2 max pool; not ceil_mode's partial last window)."""
    return win.kernel == win.stride and all(d == 1 for d in win.dilation) and \
        not any(b or a for b, a in win.padding) and all(o * k <= s for o, k, s in zip(win.out, win.kernel, win.spatial))


def _tiled_backward(gf, af, win):
    """extreme_backward where the windows tile the input: each tap's (mask * g) is written straight into its
    strided positions of the gradient, viewed as (B, O1, K1, O2, K2, ...) (4x faster than phase planes and their
    merge for 2x2 on LeNet's 28x28 maps); positions past the last window (floor mode) stay 0."""
    covered = tuple(o * k for o, k in zip(win.out, win.kernel))
    grad = (np.empty if covered == win.spatial else np.zeros)((gf.shape[0],) + win.spatial, gf.dtype)
    tiles = grad[(slice(None),) + tuple(slice(0, c) for c in covered)].reshape(
        (gf.shape[0],) + tuple(v for o, k in zip(win.out, win.kernel) for v in (o, k)))
    taps = [(tap.index, tuple(v for j in np.unravel_index(tap.index, win.kernel) for v in (slice(None), int(j))))
            for tap in win.taps]
    threads = _threads(grad.nbytes)

    def planes(_, r):   # planes r[0]..r[1]: each tap's 0/1 mask in g's dtype, times g, into its positions
        mask = np.empty((r[1] - r[0],) + gf.shape[1:], gf.dtype)
        for index, js in taps:
            np.equal(af[r[0]:r[1]], index, out=mask, casting="unsafe")
            np.multiply(gf[r[0]:r[1]], mask, out=tiles[(slice(r[0], r[1]),) + js])

    parallel.run(planes, parallel.ranges(gf.shape[0], threads), threads=threads)
    return grad


@quiet
def extreme_backward(g, arg, win, x_shape):
    """Each output's gradient goes to the input its tap number names; overlapping windows accumulate."""
    n = len(win.out)
    gf, af = _planes(g, n), _planes(arg, n)
    finite = bool(np.isfinite(g).all()) if g.dtype.kind == "f" else True
    if finite and _tiled(win):  # (a non-finite g would leak NaN from inf * 0 through the tiled path's g * mask)
        return _tiled_backward(gf, af, win).reshape(x_shape)
    blocks = _blocks(gf.shape[0], int(np.prod(win.spatial)) * g.itemsize)
    order, zeroed, every = win.backward_plan()
    grad = (np.empty if every else np.zeros)((gf.shape[0],) + win.spatial, g.dtype)
    threads = _threads(grad.nbytes)
    phases = [_PhaseBuffers(win) for _ in range(threads)]   # one set of scratch planes and mask per thread
    masks = [None] * threads

    def block(slot, be):
        b, e = be
        gb, ab, grb = gf[b:e], af[b:e], grad[b:e]
        planes = phases[slot].views(grb)
        for k in zeroed:  # planes that no tap assigns start from zero
            planes[k][...] = 0
        if masks[slot] is None:
            masks[slot] = np.empty(gb.shape, g.dtype)
        mb = masks[slot][:e - b]
        for tap, assign in order:
            o = tap.out_slices
            dst = _tap_grad(grb, planes, tap)
            mo = dst if assign else mb[o]  # the first, covering tap of a plane writes it directly
            np.equal(ab[o], tap.index, out=mo, casting="unsafe")  # a 0/1 mask in g's dtype
            if finite:  # g * mask is branch-free; with an inf or NaN in g it would leak NaN (inf * 0)
                np.multiply(gb[o], mo, out=mo)
            else:
                np.copyto(mo, np.where(mo != 0, gb[o], 0))
            if not assign:
                dst += mo
        _merge(grb, planes, win)

    parallel.run(block, blocks, threads=threads)
    return grad.reshape(x_shape)


@quiet
def sum_forward(x, win):
    """Sum over the in-input taps of every window (padding counts as 0): (..., *win.out)."""
    n = len(win.out)
    xf = _planes(x, n)
    out = np.zeros((xf.shape[0],) + win.out, x.dtype)
    phases = _PhaseBuffers(win)
    for b, e in _blocks(xf.shape[0], int(np.prod(win.spatial)) * x.itemsize):
        xb, ob = xf[b:e], out[b:e]
        planes = phases.split(xb)
        for tap in win.taps:
            ob[tap.out_slices] += _tap_view(xb, planes, tap)
    return out.reshape(x.shape[:x.ndim - n] + win.out)


@quiet
def sum_backward(g, win, x_shape):
    """d(sum)/dx: every tap passes the window's gradient to its input; overlapping windows accumulate."""
    n = len(win.out)
    gf = _planes(g, n)
    grad = np.zeros((gf.shape[0],) + win.spatial, g.dtype)
    phases = _PhaseBuffers(win)
    for b, e in _blocks(gf.shape[0], int(np.prod(win.spatial)) * g.itemsize):
        gb, grb = gf[b:e], grad[b:e]
        planes = phases.views(grb)
        for p in planes or ():
            p[...] = 0
        for tap in win.taps:
            _tap_grad(grb, planes, tap)[...] += gb[tap.out_slices]
        _merge(grb, planes, win)
    return grad.reshape(x_shape)
