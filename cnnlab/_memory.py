"""The one memory check: an op whose result would need more memory than the machine has raises
OutOfMemoryError before allocating it, naming the op, the shape and the bytes (instead of NumPy's MemoryError,
"Maximum allowed size exceeded", or the kernel's OOM killer a minute later).

The machine's memory is read once: physical RAM, or a lower cgroup limit (containers). The check itself is a
product and a comparison, so ops call it on every result whose size they compute from their arguments.
"""
import math
import os

import numpy as np

from .errors import OutOfMemoryError

_LIMIT = None  # bytes; read on first use


def machine_memory():
    """The bytes this process may use at most: physical memory, or the cgroup's limit when that is lower.

    >>> machine_memory() > 0
    True
    """
    global _LIMIT
    if _LIMIT is None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # a platform without sysconf: only the cgroup (or none)
            total = 1 << 62
        for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
            try:
                with open(path) as f:
                    text = f.read().strip()
            except OSError:
                continue
            if text.isdigit():
                total = min(total, int(text))
        _LIMIT = total
    return _LIMIT


def format_bytes(n):
    """Bytes in decimal units with one decimal: 8.0 TB, 23.4 GB, 512.0 B.

    >>> format_bytes(8_000_000_000_000), format_bytes(1536), format_bytes(16 * 10 ** 600)
    ('8.0 TB', '1.5 KB', '1.6e+586 PB')
    """
    for k, unit in enumerate(("B", "KB", "MB", "GB", "TB", "PB")):
        if n < 1000 ** (k + 1) or unit == "PB":
            break
    whole = n // 1000 ** k  # integer division first: n may be far beyond a float's range
    if whole < 10 ** 15:
        return f"{n / 1000 ** k:.1f} {unit}"
    digits = str(whole)
    return f"{digits[0]}.{digits[1]}e+{len(digits) - 1} {unit}"


def check_allocation(op, shape, dtype):
    """Raise OutOfMemoryError when an array of `shape` and `dtype` would not fit in this machine's memory.

    Args:
        op (str): the op's name, the start of the message.
        shape (tuple of ints): the result's shape (sizes may be Python ints of any size).
        dtype: a NumPy dtype (or anything np.dtype accepts).

    >>> check_allocation("zeros", (2, 3), np.float32)
    >>> check_allocation("zeros", (1000000, 1000000, 2), np.float32)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cnnlab.errors.OutOfMemoryError: zeros: the result would need 8.0 TB (shape (1000000, 1000000, 2), float32), more than this machine's ...
    """
    nbytes = _prod(shape) * (dtype.itemsize if isinstance(dtype, np.dtype) else np.dtype(dtype).itemsize)
    if nbytes > _LIMIT:
        raise OutOfMemoryError(f"{op}: the result would need {format_bytes(nbytes)} (shape "
                               f"{tuple(int(s) for s in shape)}, {np.dtype(dtype).name}), more than this machine's "
                               f"{format_bytes(machine_memory())}.")


_prod = math.prod
MACHINE_BYTES = machine_memory()  # read once, at import; hot paths compare a cheap upper bound against it first
