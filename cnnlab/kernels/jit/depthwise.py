"""Depthwise 2-d convolution as compiled loops (numba): the kernels of kernels/depthwise_compiled.py.

One plane (an image's channel) at a time, in flat "phase" coordinates that make every kernel tap one contiguous,
branch-free multiply-add over the whole output plane. The padded input plane xpad is split into its stride
phases (space to depth), P[a, b][u, v] = xpad[u*sh + a, v*sw + b], each hq x wq; output position (i, j) is flat
index p = i*wq + j, and tap (kh, kw) reads phase ((kh*dh) % sh, (kw*dw) % sw) at flat offset
((kh*dh) // sh) * wq + (kw*dw) // sw from p:

    y[p] = sum_t w[t] * P_flat[off_t + p]            p in [0, (OH-1)*wq + OW): positions j >= OW are dropped

The padding zeros are in P, so each output sums exactly the products PyTorch sums (inf and NaN included). The
input gradient is the adjoint, gathered per phase plane (dP_ab[q] = sum over the taps t of phase ab of
w[t] * g[q - shift_t], g zero at the dropped positions; at stride 1 without a multiplier the caller runs the forward
with the flipped filters instead), the weight gradient dw[t] = sum_p g[p] * P_flat[off_t + p]. Callers pass contiguous float32 or float64 arrays and a range
[lo, hi) of planes (or channels), so that a thread's share is one call (the GIL is released inside).

Compiled as jit/common.py says (no GIL, cached, fastmath without finiteness assumptions).
"""
import numpy as np

from .common import jit as _jit

RUN = 32            # the loops' lengths are rounded up to a multiple of this: whole vector iterations, no scalar tail


@_jit
def _layout(kh_, kw_, oh, ow, sh, sw, dh, dw):
    """(hq, wq, length, offsets of the K taps, size of the phase planes): length is L rounded up to RUN (the
    planes get as many zeros behind them, the extra outputs are dropped)."""
    hq = -(-((oh - 1) * sh + (kh_ - 1) * dh + 1) // sh)
    wq = -(-((ow - 1) * sw + (kw_ - 1) * dw + 1) // sw)
    offs = np.empty(kh_ * kw_, np.int64)
    for kh in range(kh_):
        for kw in range(kw_):
            a, b = (kh * dh) % sh, (kw * dw) % sw
            offs[kh * kw_ + kw] = (a * sw + b) * hq * wq + ((kh * dh) // sh) * wq + (kw * dw) // sw
    length = -(-((oh - 1) * wq + ow) // RUN) * RUN
    return hq, wq, length, offs, sh * sw * hq * wq + length - ((oh - 1) * wq + ow)


@_jit
def _columns(b, sw, left, w, wq):
    """[v0, v1): the phase columns v of column phase b that lie on the input (0 <= v*sw + b - left < w)."""
    v0 = min(wq, max(0, -((b - left) // sw)))
    return v0, min(wq, max(v0, -((b - left - w) // sw)))


@_jit
def _load(plane, ph, sh, sw, top, left, hq, wq):
    """ph = the phase planes of one input plane (H, W); its padding entries are left as they are (zero)."""
    h, w = plane.shape
    for a in range(sh):
        for b in range(sw):
            v0, v1 = _columns(b, sw, left, w, wq)
            base = (a * sw + b) * hq * wq
            start = v0 * sw + b - left
            for u in range(hq):
                r = u * sh + a - top
                if not 0 <= r < h or v1 <= v0:
                    continue
                d = base + u * wq
                if v1 - v0 < RUN:                # short rows: plain indexing (a view costs more than the copy)
                    for v in range(v0, v1):
                        ph[d + v] = plane[r, v * sw + b - left]
                else:                            # long rows: views, so the copy is vector code
                    src, dst = plane[r, start:start + (v1 - v0 - 1) * sw + 1:sw], ph[d + v0:d + v1]
                    for v in range(v1 - v0):
                        dst[v] = src[v]


@_jit
def _unload(ph, stride, plane, sh, sw, top, left, hq, wq):
    """plane (H, W) = the entries of the phase planes ph (`stride` apart) that lie on the input; rows and columns no
    tap reads, 0. Phase by phase and row by row, as _load (no division per entry)."""
    h, w = plane.shape
    for r in range(h):
        row = plane[r]
        for col in range(w):
            row[col] = 0
    for a in range(sh):
        for b in range(sw):
            v0, v1 = _columns(b, sw, left, w, wq)
            base = (a * sw + b) * stride
            start = v0 * sw + b - left
            for u in range(hq):
                r = u * sh + a - top
                if not 0 <= r < h or v1 <= v0:
                    continue
                src, dst = ph[base + u * wq + v0:base + u * wq + v1], plane[r, start:start + (v1 - v0 - 1) * sw + 1:sw]
                for v in range(v1 - v0):
                    dst[v] = src[v]


@_jit
def forward(x, w, shift, bounds, out, sh, sw, dh, dw, top, left, lo, hi):
    """out[n, o] for the planes p = n*O + o in [lo, hi): up to nine taps per pass over the plane (fewer loads and
    stores of y per multiply-add), then, unless shift is None, an inference epilogue as each plane is stored:
    + shift[o], clamped to [bounds[0], bounds[1]] (+-inf for none; NaN passes both clamps)."""
    o_, k_ = w.shape[0], w.shape[2] * w.shape[3]
    m, oh, ow = o_ // x.shape[1], out.shape[2], out.shape[3]
    hq, wq, length, offs, size = _layout(w.shape[2], w.shape[3], oh, ow, sh, sw, dh, dw)
    ph = np.zeros(size, x.dtype)
    y = np.empty(length, x.dtype)
    taps = w.reshape(o_, k_)
    last = -1
    for p in range(lo, hi):
        n, o = p // o_, p % o_
        if n * x.shape[1] + o // m != last:              # channel multiplier m: m planes share one input plane
            last = n * x.shape[1] + o // m
            _load(x[n, o // m], ph, sh, sw, top, left, hq, wq)
        t = 0
        for i in range(length):
            y[i] = 0
        while t + 9 <= k_:                               # a 3x3 filter in one pass, 5 for 7x7 (with 3 + 1)
            w0, w1, w2, w3, w4, w5, w6, w7, w8 = taps[o, t:t + 9]
            p0, p1, p2 = ph[offs[t]:offs[t] + length], ph[offs[t + 1]:], ph[offs[t + 2]:]
            p3, p4, p5 = ph[offs[t + 3]:], ph[offs[t + 4]:], ph[offs[t + 5]:]
            p6, p7, p8 = ph[offs[t + 6]:], ph[offs[t + 7]:], ph[offs[t + 8]:]
            for i in range(length):
                y[i] += w0 * p0[i] + w1 * p1[i] + w2 * p2[i] + w3 * p3[i] + w4 * p4[i] + w5 * p5[i] + \
                    w6 * p6[i] + w7 * p7[i] + w8 * p8[i]
            t += 9
        while t + 3 <= k_:
            w0, w1, w2 = taps[o, t], taps[o, t + 1], taps[o, t + 2]
            p0, p1, p2 = ph[offs[t]:offs[t] + length], ph[offs[t + 1]:offs[t + 1] + length], \
                ph[offs[t + 2]:offs[t + 2] + length]
            for i in range(length):
                y[i] += w0 * p0[i] + w1 * p1[i] + w2 * p2[i]
            t += 3
        while t < k_:
            w0, p0 = taps[o, t], ph[offs[t]:offs[t] + length]
            for i in range(length):
                y[i] += w0 * p0[i]
            t += 1
        if shift is None:                                # the plain forward: a copy (compiled apart)
            for i in range(oh):
                for j in range(ow):
                    out[n, o, i, j] = y[i * wq + j]
        else:
            s, low, high = shift[o], bounds[0], bounds[1]
            for i in range(oh):
                for j in range(ow):
                    v = y[i * wq + j] + s
                    v = low if v <= low else v  # as kernels/jit/epilogue.py (-0.0 at a clamp of 0: +0.0)
                    out[n, o, i, j] = high if v >= high else v


@_jit
def backward_input(g, w, dx, sh, sw, dh, dw, top, left, lo, hi):
    """dx[n, c] for the input planes q = n*C + c in [lo, hi), as the forward's adjoint gathered per phase plane:
    dP[a, b][i] = sum over the taps t of phase (a, b) of w[t] * G[Z - shift_t + i], G = g's flat plane behind Z zeros
    (Z the largest shift; zero at the dropped positions), three taps per pass."""
    c_, o_, k_ = dx.shape[1], w.shape[0], w.shape[2] * w.shape[3]
    m, oh, ow = o_ // c_, g.shape[2], g.shape[3]
    hq, wq, length, offs, size = _layout(w.shape[2], w.shape[3], oh, ow, sh, sw, dh, dw)
    span = -(-(hq * wq) // RUN) * RUN                   # a phase plane's entries, whole vector runs
    phases = sh * sw
    order, starts, shifts = np.empty(k_, np.int64), np.zeros(phases + 1, np.int64), np.empty(k_, np.int64)
    for t in range(k_):                                  # the taps grouped by phase, and their shifts
        phase, shifts[t] = offs[t] // (hq * wq), offs[t] % (hq * wq)
        starts[phase + 1] += 1
    for ab in range(phases):
        starts[ab + 1] += starts[ab]
    fill = starts[:phases].copy()
    for t in range(k_):
        phase = offs[t] // (hq * wq)
        order[fill[phase]] = t
        fill[phase] += 1
    z = shifts.max()
    dph = np.empty(phases * span, g.dtype)
    gz = np.zeros(z + span, g.dtype)                     # G: zeros in front, at the dropped positions and behind
    taps = w.reshape(o_, k_)
    for q in range(lo, hi):
        n, c = q // c_, q % c_
        for i in range(dph.size):
            dph[i] = 0
        for o in range(c * m, c * m + m):
            for i in range(oh):
                for j in range(ow):
                    gz[z + i * wq + j] = g[n, o, i, j]
            for ab in range(phases):
                d = dph[ab * span:ab * span + span]
                e = starts[ab]
                while e + 3 <= starts[ab + 1]:
                    t0, t1, t2 = order[e], order[e + 1], order[e + 2]
                    w0, w1, w2 = taps[o, t0], taps[o, t1], taps[o, t2]
                    g0, g1, g2 = gz[z - shifts[t0]:], gz[z - shifts[t1]:], gz[z - shifts[t2]:]
                    for i in range(span):
                        d[i] += w0 * g0[i] + w1 * g1[i] + w2 * g2[i]
                    e += 3
                while e < starts[ab + 1]:
                    w0, g0 = taps[o, order[e]], gz[z - shifts[order[e]]:]
                    for i in range(span):
                        d[i] += w0 * g0[i]
                    e += 1
        _unload(dph, span, dx[n, c], sh, sw, top, left, hq, wq)


@_jit
def backward_weight(x, g, dwk, sh, sw, dh, dw, top, left, lo, hi):
    """dwk[o] (O, KH, KW) for the output channels of the input channels c in [lo, hi), summed over the images."""
    n_, c_, o_ = x.shape[0], x.shape[1], dwk.shape[0]
    k_, m, oh, ow = dwk.shape[1] * dwk.shape[2], o_ // c_, g.shape[2], g.shape[3]
    hq, wq, length, offs, size = _layout(dwk.shape[1], dwk.shape[2], oh, ow, sh, sw, dh, dw)
    ph = np.zeros(size, x.dtype)
    gy = np.zeros(length, g.dtype)                       # the dropped positions j >= OW stay 0
    sums, zero = dwk.reshape(o_, k_), np.zeros(1, x.dtype)[0]
    for c in range(lo, hi):
        for o in range(c * m, c * m + m):
            for t in range(k_):
                sums[o, t] = 0
        for n in range(n_):
            _load(x[n, c], ph, sh, sw, top, left, hq, wq)
            for o in range(c * m, c * m + m):
                for i in range(oh):
                    src, dst = g[n, o, i], gy[i * wq:i * wq + ow]
                    for j in range(ow):
                        dst[j] = src[j]
                t = 0
                while t + 3 <= k_:                       # three taps per pass: one load of g for three sums
                    p0, p1, p2 = ph[offs[t]:offs[t] + length], ph[offs[t + 1]:], ph[offs[t + 2]:]
                    s0, s1, s2 = zero, zero, zero
                    for i in range(length):
                        s0 += gy[i] * p0[i]
                        s1 += gy[i] * p1[i]
                        s2 += gy[i] * p2[i]
                    sums[o, t], sums[o, t + 1], sums[o, t + 2] = sums[o, t] + s0, sums[o, t + 1] + s1, \
                        sums[o, t + 2] + s2
                    t += 3
                while t < k_:
                    p0, s0 = ph[offs[t]:offs[t] + length], zero
                    for i in range(length):
                        s0 += gy[i] * p0[i]
                    sums[o, t] += s0
                    t += 1
