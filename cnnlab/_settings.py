"""cnnlab's environment settings: every CNNLAB_* variable, read once when cnnlab is imported.

A leaf module (it imports nothing from cnnlab), so that any layer, kernels/ included, can read its values. The
README's "Environment settings" table lists the same variables; tests/test_settings.py keeps the two in step.
Change a value for one process by setting the variable before `import cnnlab`.
"""
import os


def _read(name, default=""):
    return os.environ.get(name, default).strip()


#: CNNLAB_NUM_THREADS: threads for cnnlab's own kernels ("" = as many as BLAS uses). set_num_threads() overrides.
NUM_THREADS = _read("CNNLAB_NUM_THREADS")

#: CNNLAB_BLAS=numpy: call NumPy's matmul instead of the BLAS library NumPy links (for debugging a BLAS).
BLAS = _read("CNNLAB_BLAS").lower()

#: CNNLAB_WINOGRAD4=0: never use the F(4x4) Winograd convolution (F(2x2) and the others take its shapes).
WINOGRAD4 = _read("CNNLAB_WINOGRAD4") != "0"

#: CNNLAB_MALLOC=system: keep glibc's allocator defaults instead of the larger mmap/trim thresholds cnnlab sets.
MALLOC = _read("CNNLAB_MALLOC").lower()

#: CNNLAB_COMPILED=0: never use the optional numba-compiled kernels, even where numba is installed.
COMPILED = _read("CNNLAB_COMPILED") != "0"

#: The table the README prints: (variable, what it does).
TABLE = (
    ("CNNLAB_NUM_THREADS", "threads for cnnlab's own kernels (default: as many as BLAS uses)"),
    ("CNNLAB_BLAS", "`numpy`: NumPy's matmul instead of the linked BLAS library (debugging)"),
    ("CNNLAB_WINOGRAD4", "`0`: never use the F(4x4) Winograd convolution"),
    ("CNNLAB_MALLOC", "`system`: keep glibc's allocator defaults (no larger mmap/trim thresholds)"),
    ("CNNLAB_COMPILED", "`0`: never use the optional numba-compiled kernels (the `fast` extra)"),
)
