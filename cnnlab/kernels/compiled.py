"""The optional compiled kernels (numba, the `fast` extra): whether they may run, and loading them at first use.

cnnlab runs on NumPy alone. Where numba is installed (`pip install cnnlab[fast]`), the code that has a compiled
form uses it (the depthwise convolutions of kernels/depthwise_compiled.py, the layer norm and GELU of ConvNeXt's
fused block, and, once those have loaded numba, the convolutions' inference epilogue of kernels/epilogue.py);
`CNNLAB_COMPILED=0` (or `with disabled():`) turns them off and the NumPy code runs. numba is imported at the first
call of a compiled kernel, never by `import cnnlab` (its
import costs about half a second, and a first call compiles each kernel once: numba caches the machine code next
to cnnlab/kernels/jit/ where it can write, so later processes only load it). If numba is installed but fails to
import, `kernels()` is None and the callers run their NumPy algorithm instead.

>>> isinstance(available(), bool)
True
"""
import contextlib
import importlib.util
import threading

from .. import _settings

_lock = threading.Lock()
_available = None
_loaded = []                 # [{name: kernels module} or None], filled at the first call of kernels()


def available():
    """Whether the compiled kernels may run: CNNLAB_COMPILED is not 0 and numba is installed (not imported here)."""
    global _available
    if _available is None:
        _available = _settings.COMPILED and importlib.util.find_spec("numba") is not None
    return _available and (not _loaded or _loaded[0] is not None)


@contextlib.contextmanager
def disabled():
    """Within the block the compiled kernels are off, as with CNNLAB_COMPILED=0 (tests of the NumPy rules use it)."""
    global _available
    available()
    old, _available = _available, False
    try:
        yield
    finally:
        _available = old


def kernels(name="depthwise"):
    """The module of compiled kernels `name` ('depthwise': cnnlab/kernels/jit/depthwise.py, 'activation':
    jit/activation.py, 'epilogue': jit/epilogue.py, 'norm': jit/norm.py), importing numba on the first call; None
    where they are off or numba cannot be imported."""
    if not available():
        return None
    if not _loaded:
        with _lock:
            if not _loaded:
                try:
                    from .jit import activation, depthwise, epilogue, norm
                    modules = {"activation": activation, "depthwise": depthwise, "epilogue": epilogue,
                               "norm": norm}
                except ImportError:              # numba installed but broken (e.g. built for another NumPy)
                    modules = None
                _loaded.append(modules)
    return None if _loaded[0] is None else _loaded[0][name]


def loaded(name):
    """kernels(name) where an earlier call has loaded the compiled kernels, else None, never importing numba: for a
    kernel that gains too little to pay numba's import in a process that has no other use for it."""
    return kernels(name) if _loaded and available() else None
