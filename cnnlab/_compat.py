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

import numpy as np

from .tensor import Tensor

__all__ = ["compile", "autocast", "GradScaler", "jit", "amp", "cuda_amp"]

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


class GradScaler:
    """Loss scaling for mixed-precision training, with torch.amp.GradScaler's arithmetic: scale() multiplies the
    loss by the scale (2**16 at first), step() divides the gradients by it and skips the optimizer step when any
    gradient is inf/NaN, update() halves the scale after a skipped step and doubles it after growth_interval
    good ones. Scaling by powers of two is exact, so training gives the same parameters as without the scaler
    (as in PyTorch on the CPU). device='cuda' disables it with a warning, as PyTorch does without CUDA.

    Args: device (str, default 'cuda'), init_scale (float, default 2.**16), growth_factor (default 2.0, > 1),
    backoff_factor (default 0.5, < 1), growth_interval (int, default 2000), enabled (bool, default True).
    Raises: ValueError (growth_factor <= 1, backoff_factor >= 1); RuntimeError for the call orders PyTorch
    refuses (unscale_ twice or after step, step twice before update, a closure).

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0], requires_grad=True)
    >>> opt, scaler = cnnlab.optim.SGD([w], lr=0.5), GradScaler("cpu")
    >>> scaler.scale((w * 2).sum()).backward()
    >>> w.grad.item(), scaler.step(opt), scaler.update(), w.item()
    (131072.0, None, None, 0.0)
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = bool(enabled)
        if device == "cuda" and self._enabled:
            warnings.warn("GradScaler: CUDA is not available (cnnlab runs on the CPU); disabling, as "
                          "torch.cuda.amp.GradScaler does without CUDA. Use GradScaler('cpu') to scale.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1.0. Got growth_factor={growth_factor}.")
            if not backoff_factor < 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be < 1.0. Got backoff_factor={backoff_factor}.")
        self._scale = np.float32(init_scale)
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval, self._growth_tracker = growth_interval, 0
        self._states = {}  # id(optimizer) -> {'stage': 'ready' | 'unscaled' | 'stepped', 'found_inf': bool}

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """outputs (a tensor, or nested lists/tuples of them) times the current scale; unchanged when disabled."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * float(self._scale)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors. Got "
                         f"{type(outputs).__name__}.")

    def _state(self, optimizer):
        return self._states.setdefault(id(optimizer), {"stage": "ready", "found_inf": False})

    def unscale_(self, optimizer):
        """Divide the gradients of optimizer's parameters by the scale (in float64, as PyTorch) and note whether
        any is inf/NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == "unscaled":
            raise RuntimeError("GradScaler.unscale_: already called on this optimizer since the last update().")
        if state["stage"] == "stepped":
            raise RuntimeError("GradScaler.unscale_: called after step(); call it before step().")
        inv_scale = np.float32(1.0 / np.float64(self._scale))
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                if g.dtype == np.float16:
                    raise ValueError("GradScaler.unscale_: attempting to unscale float16 gradients.")
                found = found or not np.isfinite(g).all()
                p.grad._data = (g * inv_scale).astype(g.dtype, copy=False)
        state["found_inf"], state["stage"] = found, "unscaled"

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(*args, **kwargs) after unscale_ (if not done yet), skipped when a gradient is inf/NaN.
        Returns what optimizer.step returned, or None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step: a closure is not supported while the scaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == "stepped":
            raise RuntimeError("GradScaler.step: already called since the last update().")
        if state["stage"] == "ready":
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = "stepped"
        return result

    def update(self, new_scale=None):
        """Set the scale for the next iteration: new_scale if given; else backoff after an inf/NaN gradient,
        growth after growth_interval clean steps in a row."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = np.float32(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            if not self._states:
                raise RuntimeError("GradScaler.update: no inf checks were recorded; call step(optimizer) (or "
                                   "unscale_) before update().")
            if any(s["found_inf"] for s in self._states.values()):
                self._scale = np.float32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = np.float32(self._scale * self._growth_factor)
                if np.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
        self._states = {}

    def get_scale(self):
        return float(self._scale) if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        """{'scale', 'growth_factor', 'backoff_factor', 'growth_interval', '_growth_tracker'}, {} when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("GradScaler.load_state_dict: the state dict is empty, possibly because it was saved "
                               "from a disabled GradScaler.")
        self._scale = np.float32(state_dict["scale"])
        self._growth_factor, self._backoff_factor = state_dict["growth_factor"], state_dict["backoff_factor"]
        self._growth_interval, self._growth_tracker = state_dict["growth_interval"], state_dict["_growth_tracker"]


def _cuda_autocast(enabled=True, dtype=None, cache_enabled=True):
    """torch.cuda.amp.autocast's signature (no device_type): autocast('cuda', ...), a no-op here."""
    return autocast("cuda", dtype, enabled, cache_enabled)


jit = types.SimpleNamespace(script=_no_jit("script"), trace=_no_jit("trace"), load=_no_jit("load"),
                            save=_no_jit("save"), trace_module=_no_jit("trace_module"))
amp = types.SimpleNamespace(autocast=autocast, GradScaler=GradScaler)
cuda_amp = types.SimpleNamespace(autocast=_cuda_autocast, GradScaler=GradScaler)  # becomes cnnlab.cuda.amp
