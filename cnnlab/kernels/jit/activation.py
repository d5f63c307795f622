"""Float32 GELU and its gradient as compiled loops (numba): nn/functional/fused_block.py's GELU where numba is
installed, and nn/functional/_activation_f32.py's (a training GELU, with Phi kept for the backward) where numba is
loaded.

The same formula as nn/functional/_activation_f32.py's NumPy passes (Abramowitz & Stegun 7.1.26 for erfc, kept in
its erfc form so the tail x << 0 is not a difference of nearly equal numbers):

    q = Phi(-|x|) ~= t P(t) exp(-x^2 / 2) / 2,   t = 1 / (1 + p |x| / sqrt 2)
    Phi(x) = max(q, [x > 0] - q),   gelu(x) = x Phi(x)

in two vectorised loops per block instead of ~20 NumPy passes: the first computes the power of two of
exp(-x^2 / 2) = 2^k exp(r) as the bits of a float (k = round(z log2 e), an exponent field), the second everything
else (exp(r) on |r| <= ln 2 / 2 as its Taylor polynomial of degree 7, error < 1e-8 relative). exp(-x^2 / 2) is 0
below e^-87 (where the float32 power of two would be subnormal): q is then below 1e-38. inf gives inf, -inf NaN
(as PyTorch: -inf * 0), NaN NaN. Compiled as jit/common.py says.
"""
import math

import numpy as np

from .common import jit as _jit

_F = np.float32
BLOCK = 2048                      # elements per block: the exponent bits stay in L1 between the two loops
_Z_MIN = _F(-87.0)                # exp(z) below e^-87 (2^-125.5) is taken as 0
_LOG2E = _F(1.4426950408889634)
_LN2_HI, _LN2_LO = _F(0.693145751953125), _F(1.428606765330187e-06)   # ln 2 = hi + lo, hi exact in 16 bits
_E = [_F(1.0 / f) for f in (5040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0)]   # Taylor coefficients of exp, r^7 first
_E7, _E6, _E5, _E4, _E3, _E2, _E1, _E0 = _E
_P_HALF = _F(0.3275911 * 0.7071067811865476)                           # t = 1 / (1 + p |x| / sqrt 2)
_A1, _A2, _A3, _A4, _A5 = (_F(a * 0.5) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736,
                                                 0.254829592))          # 0.5 P(t), highest power first
_HALF, _ONE, _ZERO, _BIAS = _F(0.5), _F(1.0), _F(0.0), np.int32(127)


@_jit
def gelu(x, out, cdf=None):
    """out = x * Phi(x) for flat float32 arrays x and out of one size (out may be x itself); cdf (or None): where
    to keep Phi(x)."""
    bits = np.empty(BLOCK, np.int32)
    scale = bits.view(np.float32)                     # 2^k: the same memory read as floats
    xs = np.empty(BLOCK, np.float32)                  # x's block, copied: out may be x, and a loop that writes
    for start in range(0, x.size, BLOCK):             # what it reads would run scalar (numba cannot tell)
        xb, ob = x[start:start + BLOCK], out[start:start + BLOCK]
        for i in range(xb.size):
            v = xb[i]
            xs[i] = v
            z = -_HALF * v * v
            z = z if z > _Z_MIN else _Z_MIN           # NaN and -inf too: k stays in range
            bits[i] = (np.int32(np.floor(z * _LOG2E + _HALF)) + _BIAS) << 23
        for i in range(xb.size):
            v = xs[i]
            z0 = -_HALF * v * v
            z = z0 if z0 > _Z_MIN else _Z_MIN
            k = np.floor(z * _LOG2E + _HALF)
            r = z - k * _LN2_HI - k * _LN2_LO
            e = ((((((_E7 * r + _E6) * r + _E5) * r + _E4) * r + _E3) * r + _E2) * r + _E1) * r + _E0
            e = e * scale[i]                          # loaded unconditionally: the loop stays vector code
            e = e if z0 >= _Z_MIN else _ZERO
            t = _ONE / (_ONE + _P_HALF * abs(v))
            q = ((((_A1 * t + _A2) * t + _A3) * t + _A4) * t + _A5) * t * e
            g = (_ONE if v > _ZERO else _ZERO) - q
            phi = q if q > g else g
            if cdf is not None:
                cdf[start + i] = phi
            ob[i] = v * phi


# the gradient's exp(-x^2 / 2) in float64 (one rounding to float32 at the end, as the NumPy path's float64 blocks):
# 2^k exp(r) with exp(r) on |r| <= ln 2 / 2 as its Taylor polynomial of degree 10 (relative error < 1e-12)
_D = np.float64
_DZ_MIN = _D(-708.0)                                                   # exp(z) below e^-708 (~2^-1021) taken as 0
_DLOG2E, _DLN2_HI, _DLN2_LO = _D(1.4426950408889634), _D(0.6931471803691238), _D(1.9082149292705877e-10)
_DE = [_D(1.0 / math.factorial(n)) for n in range(10, -1, -1)]        # r^10 first
_D10, _D9, _D8, _D7, _D6, _D5, _D4, _D3, _D2, _D1, _D0 = _DE
_INV_SQRT_2PI = _D(0.3989422804014327)


@_jit
def gelu_grad(g, x, cdf, out):
    """out = g * (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), for flat float32 arrays of one size
    (cdf: Phi(x) from gelu), computed in float64 and rounded once. inf gives inf * 0 = NaN in x phi(x), as
    NumPy's exp(-inf) does; NaN gives NaN."""
    bits = np.empty(BLOCK, np.int64)
    scale = bits.view(np.float64)
    for start in range(0, x.size, BLOCK):
        xb = x[start:start + BLOCK]
        for i in range(xb.size):
            v = _D(xb[i])
            z = -0.5 * v * v
            z = z if z > _DZ_MIN else _DZ_MIN
            bits[i] = (np.int64(np.floor(z * _DLOG2E + 0.5)) + 1023) << 52
        gb, cb, ob = g[start:start + BLOCK], cdf[start:start + BLOCK], out[start:start + BLOCK]
        for i in range(xb.size):
            v = _D(xb[i])
            z0 = -0.5 * v * v
            z = z0 if z0 > _DZ_MIN else _DZ_MIN
            k = np.floor(z * _DLOG2E + 0.5)
            r = z - k * _DLN2_HI - k * _DLN2_LO
            e = (((((_D10 * r + _D9) * r + _D8) * r + _D7) * r + _D6) * r + _D5) * r + _D4
            e = ((((e * r + _D3) * r + _D2) * r + _D1) * r + _D0) * scale[i]
            e = e if z0 >= _DZ_MIN else 0.0
            ob[i] = np.float32(_D(gb[i]) * (_D(cb[i]) + v * e * _INV_SQRT_2PI))
