"""PyTorch's mixed-precision and JIT namespaces for tutorial code: `amp` (autocast, GradScaler), `cuda.amp`
and `jit`.

cnnlab runs eagerly on NumPy in each op's input dtype. `amp.autocast` is cnnlab.autocast (a no-op region,
cnnlab/_settings.py); GradScaler scales losses with PyTorch's arithmetic, which by powers of two changes no
result. `jit.script` / `jit.trace` have no faithful stand-in (a scripted module is a different object with its
own save format), so they raise an error that says so.

>>> import cnnlab
>>> cnnlab.amp.autocast is cnnlab.autocast
True
"""
import types
import warnings

import numpy as np

from ._switches import autocast
from .tensor import Tensor

__all__ = ["GradScaler", "jit", "amp", "cuda_amp"]

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


def _no_jit(name):
    def refuse(obj=None, *args, **kwargs):
        raise NotImplementedError(f"jit.{name}: cnnlab has no JIT compiler (no TorchScript). Call the model or "
                                  "function directly, which gives the same result; to save it, save its "
                                  "state_dict() (cnnlab.save) and rebuild the model from its class.")
    refuse.__name__ = name
    refuse.__doc__ = f"Raises NotImplementedError: cnnlab has no TorchScript, so torch.jit.{name} has no equivalent."
    return refuse


def _cuda_autocast(enabled=True, dtype=None, cache_enabled=True):
    """torch.cuda.amp.autocast's signature (no device_type): autocast('cuda', ...), a no-op here."""
    return autocast("cuda", dtype, enabled, cache_enabled)


jit = types.SimpleNamespace(script=_no_jit("script"), trace=_no_jit("trace"), load=_no_jit("load"),
                            save=_no_jit("save"), trace_module=_no_jit("trace_module"))
amp = types.SimpleNamespace(autocast=autocast, GradScaler=GradScaler)
cuda_amp = types.SimpleNamespace(autocast=_cuda_autocast, GradScaler=GradScaler)  # becomes cnnlab.cuda.amp
