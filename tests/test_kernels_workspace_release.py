"""Scratch buffers are let go after each convolution call (kernels/workspace.py `scope`): the stores of the calling
thread and of the kernel threads hold nothing below allocator.MMAP_BYTES once the call returns, larger buffers and
buffers kept without the allocator's settings stay, and nested or concurrent scopes release only when the last
one closes. Results are unchanged (test_kernels_workspace.py runs every algorithm on reused buffers)."""
import sys
import threading
import types

import numpy as np
import pytest

from cnnlab.kernels import conv, parallel, workspace
from cnnlab.kernels.geometry import ConvGeometry
from oracle import rand

allocator = workspace.allocator


def _held():
    """(name, bytes) of every buffer held by any thread."""
    return [(name, entry[0].nbytes) for _, store in workspace._stores for name, entry in store.items()]


@pytest.fixture
def configured(monkeypatch):
    # pytest's importlib mode runs workspace.py a second time for its doctests, and kernel modules imported after
    # that hold the other copy: point every kernel module at the one this test reads
    for name, module in list(sys.modules.items()):
        if name.startswith("cnnlab.kernels.") and isinstance(getattr(module, "workspace", None), types.ModuleType):
            monkeypatch.setattr(module, "workspace", workspace)
    monkeypatch.setattr(allocator, "_done", [True])
    workspace.clear()
    yield
    workspace.clear()


@pytest.mark.parametrize("threads", [1, 2])
def test_a_convolution_keeps_no_scratch(configured, threads):
    x, w, g = rand(4, 64, 16, 16, dtype=np.float32), rand(64, 64, 3, 3, seed=1, dtype=np.float32), \
        rand(4, 64, 16, 16, seed=2, dtype=np.float32)
    geom = ConvGeometry.of(x.shape, w.shape, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    before = parallel.num_threads()
    parallel.set_num_threads(threads)
    try:
        seen = []
        for run in (lambda: conv.conv_forward(x, w, geom), lambda: conv.conv_backward_input(g, w, geom),
                    lambda: conv.conv_backward_weight(x, g, geom)):
            run()
            seen.append(_held())
    finally:
        parallel.set_num_threads(before)
    assert seen == [[], [], []]


def test_scratch_is_released_when_the_last_scope_closes(configured):
    with workspace.scope():
        workspace.empty("test.a", (100,), np.float32)
        with workspace.scope():
            workspace.zeros("test.b", (10,), np.float64, layout="x")
        assert sorted(name for name, _ in _held()) == ["test.a", "test.b"]   # an inner scope keeps them
    assert _held() == []


def test_a_scope_open_in_another_thread_defers_the_release(configured):
    inside, done = threading.Event(), threading.Event()

    def other():
        with workspace.scope():
            workspace.empty("test.other", (50,), np.float32)
            inside.set()
            done.wait(10)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(10)
    with workspace.scope():
        workspace.empty("test.mine", (50,), np.float32)
    assert sorted(name for name, _ in _held()) == ["test.mine", "test.other"]
    done.set()
    t.join()
    assert _held() == []                                    # released by the other thread's closing scope
    with workspace.scope():
        pass
    assert t not in [thread for thread, _ in workspace._stores]  # the next release forgets the ended thread


def test_large_buffers_and_unconfigured_allocators_keep_them(configured, monkeypatch):
    monkeypatch.setattr(allocator, "MMAP_BYTES", 1000)   # above it glibc would map the buffer anew on each call
    with workspace.scope():
        workspace.empty("test.small", (10,), np.float32)
        big = workspace.empty("test.big", (1000,), np.float32)
    assert _held() == [("test.big", 4000)]
    with workspace.scope():
        assert workspace.empty("test.big", (1000,), np.float32).ctypes.data == big.ctypes.data  # the same memory
    monkeypatch.setattr(allocator, "_done", [False])     # CNNLAB_MALLOC=system, or not glibc: freed memory would
    with workspace.scope():                              # go back to the system, so everything is kept as before
        workspace.empty("test.small", (10,), np.float32)
    assert sorted(name for name, _ in _held()) == ["test.big", "test.small"]


def test_a_released_buffer_stays_valid_for_whoever_holds_it(configured):
    with workspace.scope():
        a = workspace.zeros("test.z", (4, 4), np.float64, layout="l")
        a[1, 1] = 3.0
    a[2, 2] = 4.0                                          # still its own memory, nothing else was given it
    with workspace.scope():
        b = workspace.zeros("test.z", (4, 4), np.float64, layout="l")
        assert b.sum() == 0.0 and not np.shares_memory(a, b)  # a fresh, zero-filled buffer
    assert a.sum() == 7.0
