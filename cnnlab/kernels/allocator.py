"""Keep freed memory in the process, so a new activation reuses pages that are already mapped.

Every layer returns a fresh array of up to tens of MB. With glibc's defaults, an array above the dynamic mmap
threshold is mapped on allocation and unmapped on free, and freed heap memory beyond the trim threshold goes
back to the system: the next array of that size takes a page fault per page on first touch, which on large
activations costs more than the work (benchmarks/NOTES.md has the measurements).

`configure()` asks glibc's allocator to serve blocks up to MMAP_BYTES from its heap and to return heap memory to
the system only when more than TRIM_BYTES are free at its top; the process's resident size then stays near its
peak between steps, as with PyTorch's caching allocators. Importing cnnlab.kernels changes nothing: the entry
point calls configure() (cnnlab/__init__.py, so every program that imports cnnlab gets the speed). Set
CNNLAB_MALLOC=system to keep the allocator's defaults. Elsewhere (not glibc) nothing is changed.

>>> configure() in (True, False)
True
"""
import ctypes
import sys

from .. import _settings

MMAP_BYTES = 32 << 20    # blocks up to this size come from the heap (glibc's largest allowed threshold)
TRIM_BYTES = 1 << 30     # free memory at the heap's top kept up to this size
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc's mallopt parameter numbers (malloc.h)
_done = []


def configure():
    """Apply the settings once per process (later calls do nothing); returns whether glibc accepted them."""
    if not _done:
        _done.append(_apply())
    return _done[0]


def configured():
    """Whether configure() has run and glibc accepted the settings (asks nothing of glibc)."""
    return bool(_done and _done[0])


def _apply():
    if _settings.MALLOC == "system" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
            return False                                   # musl and others: no glibc tunables
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(libc.mallopt(_M_TRIM_THRESHOLD,
                                                                                       TRIM_BYTES))
    except (OSError, AttributeError):
        return False
