"""Scratch buffers reused between kernel calls, kept per calling thread.

A fresh array of several MB costs a page fault per 4 KB page on first touch (NumPy hands large requests to
mmap, and the pages go back to the system on free), which measured as much as the copy into it; a training
step of ResNet-18 on CIFAR made ~250 MB of such scratch. The kernels ask for their scratch by name instead:

    empty(name, shape, dtype)          contents undefined; the buffer behind a name grows to the largest request
    zeros(name, shape, dtype, layout)  zero where the caller never writes: zero-filled when it is new or when
                                       (shape, dtype, layout) differ from the last request for that name. The
                                       caller promises to write the same region on every call with the same
                                       layout (e.g. the interior of a padded copy) and to read nothing else
                                       that it did not write.

Names are fixed strings in the kernels (prefixed by the module), so each thread keeps a bounded set of buffers.
A buffer is valid until the next request for the same name in the same thread: a kernel must never return one,
and two buffers that are alive at once need different names.

>>> a = empty("doc.a", (2, 3), np.float32)
>>> a.shape, a.dtype.name
((2, 3), 'float32')
>>> z = zeros("doc.z", (2, 2), np.float64, layout="interior")
>>> z[0, 0] = 5.0; float(z.sum())
5.0
>>> float(zeros("doc.z", (2, 2), np.float64, layout="other").sum())   # another layout: zero-filled again
0.0
"""
import threading

import numpy as np

from ._shape import prod as _prod

_local = threading.local()


def _store():
    return _local.__dict__.setdefault("buffers", {})


def empty(name, shape, dtype):
    """A C-contiguous array of this shape and dtype, contents undefined, reused by the next request for `name`."""
    store = _store()
    dtype = np.dtype(dtype)
    size = _prod(shape) * dtype.itemsize
    entry = store.get(name)
    if entry is None or entry[0].nbytes < size:
        entry = store[name] = [np.empty(max(size, 1), dtype=np.uint8), None]
    entry[1] = None                                     # the zero layout (if any) is no longer known
    return entry[0][:size].view(dtype).reshape(shape)


def zeros(name, shape, dtype, layout=None):
    """An array of this shape and dtype that is zero wherever the callers of this `name` and `layout` never write
    (zero-filled unless the last request for `name` had the same shape, dtype and layout)."""
    store = _store()
    key = (tuple(int(s) for s in shape), np.dtype(dtype).str, layout)
    entry = store.get(name)
    if entry is not None and entry[1] == key:
        return entry[0][:_prod(shape) * np.dtype(dtype).itemsize].view(dtype).reshape(shape)
    out = empty(name, shape, dtype)
    out[...] = 0
    store[name][1] = key
    return out


def clear():
    """Drop this thread's buffers (their memory goes back to the system)."""
    _store().clear()
