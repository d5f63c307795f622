"""Stand-ins for PyTorch 2's compiler and mixed-precision switches, so tutorial code that calls them runs.

cnnlab runs eagerly on NumPy: `compile` hands back what it was given (the result is the same, only PyTorch's
speed-up is missing), and `autocast` leaves every op in its input's dtype (float32 stays float32, so results are
those of full precision, never lower). `jit.script` / `jit.trace` have no faithful stand-in (a scripted module
is a different object with its own save format), so they raise an error that says so.

>>> import cnnlab
>>> f = cnnlab.compile(lambda x: x * 2)
>>> f(cnnlab.tensor([1.0])).tolist()
[2.0]
>>> with cnnlab.autocast("cpu", enabled=False):
...     cnnlab.ones(2).sum().item()
2.0
"""
import functools
import types
import warnings

__all__ = ["compile", "autocast", "jit", "amp"]

_COMPILE_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """Return model (a Module or function) unchanged: cnnlab has no compiler, and the eager model computes the
    same result. Usable as `compile(model)`, `@compile` and `@compile(mode=...)`. Arguments are checked as
    PyTorch checks them and otherwise ignored.

    Raises: TypeError (model not callable), ValueError (an unknown mode, or both mode and options).
    Matches torch.compile in results (not in speed).

    >>> import cnnlab
    >>> net = cnnlab.nn.Linear(2, 1)
    >>> cnnlab.compile(net) is net
    True
    """
    if mode is not None and options is not None:
        raise ValueError(f"compile: either mode or options can be given, not both. Got mode={mode!r}, "
                         f"options={options!r}.")
    if mode is not None and mode not in _COMPILE_MODES:
        raise ValueError(f"compile: mode must be one of {', '.join(_COMPILE_MODES)}. Got mode={mode!r}.")
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                  options=options, disable=disable)
    if not callable(model):
        raise TypeError(f"compile: a callable (a Module or a function) is expected. Got {type(model).__name__}.")
    return model


_warned = False


class autocast:
    """Mixed-precision region (context manager or decorator) that changes nothing: cnnlab computes every op in
    its input's dtype, so results inside are full precision. Warns once per process when enabled, so that
    speed or memory expectations from PyTorch's float16/bfloat16 autocast are not silently carried over.

    Args:
        device_type (str): 'cpu', 'cuda', ... (any PyTorch device type).
        dtype (dtype, default None): the lower precision PyTorch would use; recorded, not applied.
        enabled (bool, default True). cache_enabled (bool, default None): accepted.
    Raises: ValueError (device_type not a str, or not a device type PyTorch knows).

    >>> import cnnlab
    >>> @cnnlab.autocast(device_type="cpu", enabled=False)
    ... def f(x):
    ...     return x + 1
    >>> f(cnnlab.zeros(1)).dtype
    cnnlab.float32
    """

    _DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                     "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: device_type must be a str such as 'cpu' or 'cuda'. Got "
                             f"{type(device_type).__name__}.")
        if device_type.split(":")[0] not in self._DEVICE_TYPES:
            raise ValueError(f"autocast: device_type must be one of {', '.join(self._DEVICE_TYPES)}. Got "
                             f"device_type={device_type!r}.")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        self.cache_enabled = cache_enabled

    def __enter__(self):
        global _warned
        if self._enabled and not _warned:
            _warned = True
            warnings.warn("autocast: cnnlab computes each op in its input's dtype (no float16/bfloat16 casting), "
                          "so results are full precision and there is no mixed-precision speed-up.", UserWarning,
                          stacklevel=2)
        return self

    def __exit__(self, exc_type, exc, tb):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self.cache_enabled):
                return fn(*args, **kwargs)
        return wrapped


def _no_jit(name):
    def refuse(obj=None, *args, **kwargs):
        raise NotImplementedError(f"jit.{name}: cnnlab has no JIT compiler (no TorchScript). Call the model or "
                                  "function directly, which gives the same result; to save it, save its "
                                  "state_dict() (cnnlab.save) and rebuild the model from its class.")
    refuse.__name__ = name
    refuse.__doc__ = f"Raises NotImplementedError: cnnlab has no TorchScript, so torch.jit.{name} has no equivalent."
    return refuse


jit = types.SimpleNamespace(script=_no_jit("script"), trace=_no_jit("trace"), load=_no_jit("load"),
                            save=_no_jit("save"), trace_module=_no_jit("trace_module"))
amp = types.SimpleNamespace(autocast=autocast)
