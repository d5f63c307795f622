"""In-place array helpers shared by the optimizers, each rounding like the PyTorch op it stands for.

They work on ndarrays (a parameter's or a state tensor's `_data`) and write into their first argument, so
float32 stays float32 (the coefficients are Python floats) and the state tensors stay the same objects.
"""
import numpy as np

from ..kernels import parallel

# The optimizers stream over parameters of up to tens of MB: applying each formula's few ops chunk by chunk
# keeps a chunk in cache from its first op to its last, so a parameter goes through memory once per step
# instead of once per op.
CHUNK = 1 << 17  # elements per chunk (512 KB of float32: a chunk of a parameter, its gradient and state fits one
                 # core's L2); 128 KB chunks made 4x the NumPy calls, on which the two update threads queue for
                 # the GIL (SGD with momentum on ResNet-18's 11M parameters: 13.1 -> 10.1 ms a step)
THREADED_BYTES = 4 << 20  # parameters from this many bytes in all are updated on the kernel threads (memory-
                          # bound: two cores stream faster than one; 11M parameters: SGD 12.7 -> 11.6 ms)


def update_chunks(update, pieces, nbytes):
    """update(slot, piece) for every piece (chunks of the parameters, kernels/parallel.py's `run`: `slot` tells
    the threads apart), spread over the kernel threads when the parameters hold nbytes >= THREADED_BYTES in all,
    else one after another in this thread.

    >>> done = []
    >>> update_chunks(lambda slot, piece: done.append(piece), [1, 2, 3], nbytes=12)
    >>> done
    [1, 2, 3]
    """
    parallel.run(update, pieces, threads=None if nbytes >= THREADED_BYTES else 1)


def chunks(*arrays, size=None):
    """Matching flat chunks of same-shape arrays, as tuples of writable views; the arrays whole (one tuple)
    when any is not C-contiguous (a flat view of it would be a copy, and writes to it would be lost).

    >>> a, b = np.arange(5.0), np.ones(5)
    >>> [len(c[0]) for c in chunks(a, b, size=2)]
    [2, 2, 1]
    """
    size = CHUNK if size is None else size
    if not all(a.flags.c_contiguous for a in arrays):
        yield arrays
        return
    flat = [a.reshape(-1) for a in arrays]
    n = flat[0].size
    for i in range(0, n, size):
        yield tuple(f[i:i + size] for f in flat)


def lerp_(self, end, weight):
    """self <- self + weight * (end - self), as torch.Tensor.lerp_ (which uses the other end for weight >= 0.5).

    >>> a = np.array([0.0, 10.0]); lerp_(a, np.array([1.0, 0.0]), 0.25); a.tolist()
    [0.25, 7.5]
    """
    diff = np.subtract(end, self)
    if weight < 0.5:
        diff *= weight
        self += diff
    else:
        diff *= 1.0 - weight
        np.subtract(end, diff, out=self)


def addcmul_(self, t1, t2, value):
    """self <- self + value * t1 * t2, as torch.Tensor.addcmul_.

    >>> a = np.ones(2); addcmul_(a, np.array([1.0, 2.0]), np.array([3.0, 4.0]), 0.5); a.tolist()
    [2.5, 5.0]
    """
    tmp = np.multiply(t1, value)
    tmp *= t2
    self += tmp


def addcdiv_(self, t1, t2, value):
    """self <- self + value * t1 / t2, as torch.Tensor.addcdiv_.

    >>> a = np.ones(2); addcdiv_(a, np.array([1.0, 2.0]), np.array([4.0, 4.0]), -1.0); a.tolist()
    [0.75, 0.5]
    """
    tmp = np.multiply(t1, value)
    tmp /= t2
    self += tmp
