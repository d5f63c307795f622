"""Float32 kernels for the smooth activations (GELU, SiLU, Mish, Softplus), computed in float32.

activation.py calls these for float32 inputs only; float64 keeps its own exact formulas. Each kernel works on
cache-sized blocks with in-place NumPy ufuncs (a few passes per block, no array-sized temporaries) and under
np.errstate, so overflow in exp (an infinite input, or exp(-x) for x << 0) never warns: the formulas are
arranged so those infinities give PyTorch's results. Error bounds (measured against float64 in
tests/nn/test_activation_float32.py): within PyTorch's own float32 error.
"""
import math

import numpy as np

from ...kernels import compiled, parallel

_BLOCK = 32768                      # elements per block: measured best of 8192, 32768 and whole arrays
_QUIET = dict(over="ignore", invalid="ignore", divide="ignore", under="ignore")
_F = np.float32
GELU_BLOCK = 65536                  # gelu_block's elements per call: its 5 blocks fit L2 (best of 16k-64k)
THREADED_BYTES = 1 << 20            # from this size gelu() splits its blocks over the kernel threads

# Abramowitz & Stegun 7.1.26 (the formula PyTorch's vectorised float32 erf uses): for z >= 0,
# erfc(z) ~= t P(t) exp(-z^2), t = 1 / (1 + p z), with |error| <= 1.5e-7. We keep the erfc form for the
# tail, so Phi(x) = erfc(-x / sqrt 2) / 2 is not a difference of nearly equal numbers for x << 0.
_AS_P = _F(0.3275911)
_AS_A = [_F(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)]
_SQRT_HALF = _F(math.sqrt(0.5))
_INV_SQRT_2PI_64 = 1 / math.sqrt(2 * math.pi)


def _blocks(*arrays):
    """Yield matching flat blocks of same-shaped C-contiguous arrays."""
    flat = [a.reshape(-1) for a in arrays]
    n = flat[0].size
    for i in range(0, n, _BLOCK):
        yield [f[i:i + _BLOCK] for f in flat]


def _contig(x):
    """x as a C-contiguous float32 array of its own shape (np.ascontiguousarray would make a 0-d one 1-d)."""
    a = np.asarray(x, dtype=_F)
    return a if a.flags.c_contiguous else a.copy()


_AS_HALF = [a * _F(0.5) for a in _AS_A]   # 0.5 t P(t) in the Horner passes (scaling by 2^-1 is exact)
_P_HALF = _F(_AS_P * _SQRT_HALF)          # t = 1 / (1 + p |x| / sqrt 2)


def gelu_block(xb, ob, e, t, u, phi=None):
    """ob = x * Phi(x) for one flat float32 block xb (ob may be xb itself; e, t, u: float32 scratch of its size;
    phi: where to keep Phi(x), or None). Phi(x) = erfc(-x / sqrt 2) / 2 from q = Phi(-|x|), so the tail x << 0
    is not a difference of nearly equal numbers."""
    np.multiply(xb, xb, out=e)
    e *= _F(-0.5)
    np.exp(e, out=e)                                 # exp(-x^2 / 2)
    np.abs(xb, out=t)
    t *= _P_HALF
    t += 1
    np.reciprocal(t, out=t)                          # t
    np.multiply(t, _AS_HALF[0], out=u)
    for a in _AS_HALF[1:]:                           # Horner: 0.5 t P(t)
        u += a
        u *= t
    u *= e                                           # q = Phi(-|x|) <= 1/2
    # Phi(x) = max(q, [x > 0] - q): 1 - q (>= 1/2) for x > 0, q otherwise, NaN for NaN (no select, no copysign:
    # both measured slower than these passes)
    np.greater(xb, 0, out=t)
    t -= u
    phi = u if phi is None else phi
    np.maximum(u, t, out=phi)
    # x * Phi(x) at x = -inf is -inf * 0: PyTorch gives NaN there too (0.5 x (1 + erf)), so nothing to patch
    np.multiply(xb, phi, out=ob)
    return ob


def scratch(n, k=3):
    """k float32 scratch blocks for gelu_block on up to n elements (at most GELU_BLOCK each)."""
    return [np.empty(min(n, GELU_BLOCK), _F) for _ in range(k)]


def gelu(x, keep_cdf=True):
    """(x * Phi(x), Phi(x)) for a float32 array; keep_cdf=False: (x * Phi(x), None), for a forward with nothing
    to differentiate. Blocks of GELU_BLOCK, split over the kernel threads when x is large; each block one compiled
    loop (kernels/jit/activation.py, the same formula) where an earlier kernel loaded numba (kernels/compiled.py
    loaded: ConvNeXt's depthwise convs), else gelu_block's NumPy passes."""
    x = _contig(x)
    out = np.empty_like(x)
    cdf = np.empty_like(x) if keep_cdf else None
    xf, of, cf = x.reshape(-1), out.reshape(-1), None if cdf is None else cdf.reshape(-1)
    starts = range(0, x.size, GELU_BLOCK)
    k = min(parallel.num_threads() if x.nbytes >= THREADED_BYTES else 1, len(starts)) or 1
    fast = compiled.loaded("activation")
    pads = None if fast is not None else [scratch(x.size) for _ in range(k)]

    def work(slot, i):
        n = min(GELU_BLOCK, x.size - i)
        if fast is not None:
            fast.gelu(xf[i:i + n], of[i:i + n], None if cf is None else cf[i:i + n])
        else:
            gelu_block(xf[i:i + n], of[i:i + n], *(s[:n] for s in pads[slot]), None if cf is None else cf[i:i + n])

    with np.errstate(**_QUIET):
        parallel.run(work, starts, threads=k)
    return out, cdf


def gelu_grad(g, x, cdf):
    """g * (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), in float64 per block (in float32 the
    max error sat at PyTorch's own, 6e-7, on some samples just above it); compiled where gelu's loops are
    (kernels/jit/activation.py: float64 inside, one rounding, its exp within 1e-12)."""
    fast = compiled.loaded("activation")
    if fast is not None:
        g, x, cdf = _contig(g), _contig(x), _contig(cdf)
        out = np.empty_like(x)
        fast.gelu_grad(g.reshape(-1), x.reshape(-1), cdf.reshape(-1), out.reshape(-1))
        return out
    return map64(lambda g, x, cdf: g * (cdf + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI_64), g, x, cdf)


def map64(fn, *arrays):
    """fn applied to float64 copies of matching blocks of the float32 arrays, rounded once into a float32
    result. For the exp-based activations: NumPy's float32 exp is off by up to ~1.7 ulp (PyTorch's by 0.5), so
    these compute in float64 a block at a time (cache-resident, one rounding) to stay within PyTorch's error."""
    arrays = [_contig(a) for a in arrays]
    out = np.empty_like(arrays[0])
    with np.errstate(**_QUIET):
        for *blocks, ob in _blocks(*arrays, out):
            ob[...] = fn(*[b.astype(np.float64) for b in blocks])
    return out


def silu(x):
    """x / (1 + exp(-x)): exp(-x) = inf for x << 0 gives x / inf = -0, as in PyTorch."""
    return map64(lambda x: x / (1 + np.exp(-x)), x)


def silu_grad(g, x):
    """g * s (1 + x (1 - s)), s = sigmoid(x) = 1 / (1 + exp(-x))."""
    def grad(g, x):
        s = 1 / (1 + np.exp(-x))
        return g * s * (1 + x * (1 - s))
    return map64(grad, g, x)


def gelu_tanh(x, k, c):
    """0.5 x (1 + tanh(k (x + c x^3)))."""
    return map64(lambda x: 0.5 * x * (1 + np.tanh(k * (x + c * x * x * x))), x)


def gelu_tanh_grad(g, x, k, c):
    """g (0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2)), t = tanh(k (x + c x^3))."""
    def grad(g, x):
        t = np.tanh(k * (x + c * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x))
    return map64(grad, g, x)


def _mish_parts(x):
    """(tanh(softplus(x)), sigmoid(x)) from e = exp(min(x, 40)): tanh(log(1 + e)) = n / (n + 2), n = e (e + 2).
    The clamp keeps n finite; from x ~ 19 on, n / (n + 2) is exactly 1 in float64, as tanh is."""
    e = np.exp(np.minimum(x, 40.0))
    n = e * (e + 2)
    return n / (n + 2), e / (1 + e)


def mish(x):
    """x tanh(softplus(x))."""
    return map64(lambda x: x * _mish_parts(x)[0], x)


def mish_grad(g, x):
    """g (t + x s (1 - t^2)), PyTorch's form (so x = +-inf gives its NaN)."""
    def grad(g, x):
        t, s = _mish_parts(x)
        return g * (t + x * s * (1 - t * t))
    return map64(grad, g, x)


def softplus(x, beta, threshold):
    """log(1 + exp(beta x)) / beta, written max(bx, 0) + log1p(exp(-|bx|)) so no threshold overflows; x where
    beta x > threshold (a rare mask: np.copyto is fast there)."""
    def forward(x):
        bx = x * beta
        out = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        np.copyto(out, x, where=bx > threshold)
        return out
    return map64(forward, x)


def softplus_grad(g, x, beta, threshold):
    """g sigmoid(beta x), g where beta x > threshold."""
    def grad(g, x):
        bx = x * beta
        out = g / (1 + np.exp(-bx))
        np.copyto(out, g, where=bx > threshold)
        return out
    return map64(grad, g, x)


def elu(x, alpha, scale, input_scale):
    """scale x for x > 0, scale alpha expm1(input_scale x) otherwise: the two terms are exclusive (each is 0
    on the other side), so a sum replaces a select."""
    def forward(x):
        out = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale) + np.maximum(x, 0) * scale
        np.copyto(out, x * (alpha * scale), where=x == 0)    # the sum would turn -0 into +0
        return out
    return map64(forward, x)


def elu_grad(g, x, alpha, scale, input_scale):
    """g scale for x > 0, g scale alpha input_scale exp(input_scale x) otherwise (NaN x gives g scale, as in
    PyTorch, whose test is x <= 0)."""
    def grad(g, x):
        neg = x <= 0
        return g * (np.exp(np.fmin(x, 0) * input_scale) * (alpha * scale * input_scale) * neg + scale * ~neg)
    return map64(grad, g, x)
