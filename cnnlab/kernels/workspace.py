"""Scratch buffers reused within a kernel call (and across calls where a new one would be mapped anew), kept per
calling thread.

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

Between kernel calls the buffers are let go: a convolution runs inside `scope()` (kernels/conv.py), and when the
last open scope closes every thread's buffers below allocator.MMAP_BYTES are dropped. glibc then keeps their
pages (kernels/allocator.py), so the next call's buffers and the activations reuse them without page faults,
and the process holds the largest call's scratch instead of the sum over every name. Larger buffers would be
mapped anew, and without the allocator's settings any freed buffer would go back to the system: those are kept
as before.

>>> a = empty("doc.a", (2, 3), np.float32)
>>> a.shape, a.dtype.name
((2, 3), 'float32')
>>> z = zeros("doc.z", (2, 2), np.float64, layout="interior")
>>> z[0, 0] = 5.0; float(z.sum())
5.0
>>> float(zeros("doc.z", (2, 2), np.float64, layout="other").sum())   # another layout: zero-filled again
0.0
>>> with scope():
...     empty("doc.a", (2, 3), np.float32).shape
(2, 3)
"""
import threading

import numpy as np

from . import allocator
from ._shape import prod as _prod

_local = threading.local()
_lock = threading.Lock()
_stores = []     # (thread, its buffers) for every thread that asked for one: the last scope to close drops them
_open = [0]      # scopes open in all threads


def _store():
    store = _local.__dict__.get("buffers")
    if store is None:
        store = _local.buffers = {}
        with _lock:
            _stores.append((threading.current_thread(), store))
    return store


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
    """Drop this thread's buffers (their memory goes back to the allocator)."""
    _store().clear()


class scope:
    """`with scope():` around a kernel call: when the last scope open in any thread closes, the buffers that
    the allocator can hand out again without page faults are dropped in every thread (see the module's notes).
    The kernel threads are idle then (parallel.run has returned), and a buffer another thread still uses stays
    alive through its own reference."""
    __slots__ = ()

    def __enter__(self):
        with _lock:
            _open[0] += 1
        return self

    def __exit__(self, *exc):
        with _lock:
            _open[0] -= 1
            if _open[0] == 0 and allocator.configured():
                _release()
        return False


def _release():
    """Drop every thread's buffers below allocator.MMAP_BYTES, and forget the threads that have ended (_lock held)."""
    alive = []
    for thread, store in _stores:
        # a snapshot: a thread outside any scope (an optimizer's pieces) may be adding to its store meanwhile
        for name, entry in list(store.items()):
            if entry[0].nbytes < allocator.MMAP_BYTES:
                store.pop(name, None)
        if thread.is_alive():
            alive.append((thread, store))
    _stores[:] = alive
