"""Process-wide switches with torch's names: the thread count (set_num_threads/get_num_threads), the
deterministic-algorithms flag (use_deterministic_algorithms)."""
from .errors import ShapeError
from .kernels import parallel

_deterministic = {"mode": False, "warn_only": False}


def set_num_threads(int):  # noqa: A002  (torch's parameter name)
    """Use `int` threads for cnnlab's kernels and for BLAS (OpenBLAS, when NumPy uses it). Matches
    torch.set_num_threads.

    >>> import cnnlab
    >>> before = cnnlab.get_num_threads()
    >>> cnnlab.set_num_threads(1); cnnlab.get_num_threads()
    1
    >>> cnnlab.set_num_threads(before)
    """
    n = int
    if isinstance(n, bool) or not hasattr(n, "__index__") or n.__index__() < 1:
        raise ValueError(f"set_num_threads: the number of threads must be a positive int. Got {n!r}.")
    n = n.__index__()
    parallel.set_num_threads(n)
    parallel.set_blas_threads(n)


def get_num_threads():
    """The number of threads cnnlab's kernels use. Matches torch.get_num_threads."""
    return parallel.num_threads()


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the flag. cnnlab has no nondeterministic algorithms to switch off (no atomic accumulation; the
    kernels' threads write disjoint parts of an output), so nothing else changes. Matches
    torch.use_deterministic_algorithms.

    >>> import cnnlab
    >>> cnnlab.use_deterministic_algorithms(True); cnnlab.are_deterministic_algorithms_enabled()
    True
    >>> cnnlab.use_deterministic_algorithms(False)
    """
    if not isinstance(mode, bool) or not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms: mode and warn_only must be bools. Got mode={mode!r}, "
                        f"warn_only={warn_only!r}.")
    _deterministic["mode"], _deterministic["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """Whether use_deterministic_algorithms(True) was called. Matches torch.are_deterministic_algorithms_enabled."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether use_deterministic_algorithms(..., warn_only=True) was called. Matches torch's function."""
    return _deterministic["warn_only"]


class memory_format:
    """A memory layout name (cnnlab.channels_last, ...), accepted wherever PyTorch takes memory_format=. cnnlab keeps
    tensors in NCHW order at the API (kernels choose their own layout inside), so these change nothing. Matches
    torch.memory_format.

    >>> import cnnlab
    >>> cnnlab.zeros_like(cnnlab.ones(2), memory_format=cnnlab.preserve_format)
    tensor([0., 0.])
    """
    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"cnnlab.{self._name}"

    def __reduce__(self):
        return self._name


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


_COMPILE_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


class CompileTargetError(TypeError, AssertionError):
    """compile() given something that is not callable: a TypeError, and the AssertionError PyTorch raises."""


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,  # noqa: A001
            disable=False):
    """Return model (a Module or function) unchanged: cnnlab has no graph compiler, so code written for
    torch.compile runs as it is. Also usable as a decorator (`@cnnlab.compile` or `@cnnlab.compile(mode=...)`).
    Matches torch.compile's interface and its checks.

    Args:
        model (callable, default None): None returns a decorator that applies these settings.
        mode (str, default None): with backend='inductor', one of 'default', 'lite', 'reduce-overhead',
            'max-autotune-no-cudagraphs', 'max-autotune'. options (dict, default None): not with mode.
        fullgraph, dynamic, backend, disable: accepted and ignored.
    Raises:
        CompileTargetError (TypeError, AssertionError): model is not callable.
        ShapeError (ValueError, RuntimeError): an unknown mode, or both mode and options.

    >>> import cnnlab
    >>> f = cnnlab.compile(lambda x: x * 2)
    >>> f(cnnlab.tensor([1.0]))
    tensor([2.])
    >>> cnnlab.compile(f, mode="fastest")
    Traceback (most recent call last):
    ...
    cnnlab.errors.ShapeError: compile: mode must be one of default, lite, reduce-overhead, \
max-autotune-no-cudagraphs, max-autotune (with backend='inductor'). Got mode='fastest'.
    """
    def apply(fn):
        # the checks PyTorch makes once the model is known (a decorator defers them to its application)
        if not callable(fn):
            raise CompileTargetError(f"compile: model must be callable (a Module or function). Got "
                                     f"{type(fn).__name__}: {fn!r}.")
        if mode is not None and options is not None:
            raise ShapeError(f"compile: mode and options cannot both be given (options set what a mode "
                             f"would). Got mode={mode!r}, options={options!r}.")
        if backend == "inductor" and mode is not None and mode not in _COMPILE_MODES:
            raise ShapeError(f"compile: mode must be one of {', '.join(_COMPILE_MODES)} (with "
                             f"backend='inductor'). Got mode={mode!r}.")
        return fn

    if model is None:
        return apply
    return apply(model)


class autocast:
    """Automatic mixed precision's switch, as a context manager and decorator. cnnlab computes every op in its
    inputs' dtype (float32 or float64): with enabled=True it warns once that the lower-precision dtype is not
    used, and the results are float32's. Matches torch.autocast's interface.

    >>> import cnnlab
    >>> with cnnlab.autocast(device_type="cpu", enabled=False):
    ...     y = cnnlab.ones(2) * 2
    """
    _warned = False

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        if device_type not in ("cpu", "cuda", "mps", "xpu"):
            raise ValueError(f"autocast: device_type must be a device name such as 'cpu'. Got {device_type!r}.")
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, bool(enabled)

    def __enter__(self):
        if self.enabled and not autocast._warned:
            import warnings
            autocast._warned = True
            warnings.warn("autocast: cnnlab does not emulate mixed precision; ops inside run in their inputs' "
                          "dtype (float32 here), so results can differ slightly from PyTorch's bfloat16/float16 "
                          "ones.", stacklevel=2)
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self.enabled):
                return fn(*args, **kwargs)
        return wrapper
