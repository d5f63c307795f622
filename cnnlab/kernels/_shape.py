"""Shape arithmetic shared by the kernel modules."""
import math


def prod(values):
    """The number of elements of a shape, as a Python int (math.prod: ~15x faster than np.prod on a short tuple,
    which matters on the per-call paths of small layers).

    >>> prod((64, 6, 14, 14))
    75264
    """
    return int(math.prod(values))
