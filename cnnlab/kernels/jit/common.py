"""How cnnlab compiles its kernels with numba: one decorator for every module of this package.

No GIL inside (the kernel threads of kernels/parallel.py run them side by side; numba's own parallel=True is never
used), machine code cached on disk where numba can write a cache directory (else compiled once per process), and
fastmath limited to contraction (FMA) and reassociation (vectorised sums): neither lets the compiler assume values
are finite, so inf and NaN keep IEEE semantics. NumPy's error model: a float division by zero gives inf as in NumPy
(Python's model checks every division for an exception, which keeps a loop from becoming vector code).
numba's on-disk cache is keyed by each kernel module's own source: after changing this file, delete
cnnlab/kernels/jit/__pycache__/*.nbi and *.nbc (an installed new version has new files, so its cache is new).
"""
import numba

FASTMATH = {"contract", "reassoc"}


def jit(fn=None, fastmath=True):
    """fn compiled with numba.njit as the module docstring says, at its first call; `@jit(fastmath=False)`: without
    the contraction and reassociation, for a kernel whose results must be NumPy's bit for bit."""
    if fn is None:
        return lambda f: jit(f, fastmath)
    options = dict(nogil=True, error_model="numpy", fastmath=FASTMATH if fastmath else False)
    try:
        return numba.njit(cache=True, **options)(fn)
    except RuntimeError:                  # numba: no writable cache location for this file
        return numba.njit(**options)(fn)
