"""Grad mode: the switch that says whether ops record the graph (no_grad, enable_grad, inference_mode,
set_grad_enabled, is_grad_enabled), per thread as in PyTorch. cnnlab.autograd re-exports all of it.
"""
import functools
import threading

thread_state = threading.local()  # per thread: grad mode on/off, and the engine's grad_owned flag


def is_grad_enabled():
    """True unless inside `no_grad()` (or `set_grad_enabled(False)`)."""
    return getattr(thread_state, "enabled", True)


def records(*tensors):
    """Whether an op on these tensors records its gradient now: grad mode is on and one of them requires grad
    (kernels use it to choose in-place or more exact paths; Tensor._from_op makes the same test)."""
    return is_grad_enabled() and any(t.requires_grad for t in tensors)


class GradModeContext:
    """Base of the grad-mode switches: a context manager and a decorator (a fresh switch per call). Like
    PyTorch's, no_grad and enable_grad also decorate without parentheses (`@cnnlab.no_grad`)."""
    mode = True

    def __new__(cls, *args, **kwargs):
        if cls in (no_grad, enable_grad) and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])  # @no_grad used bare: decorate the function at once
        return super().__new__(cls)

    def __enter__(self):
        self.prev = is_grad_enabled()
        thread_state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        thread_state.enabled = self.prev
        return False

    def _clone(self):
        return self.__class__()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(GradModeContext):
    """Context manager and decorator: ops inside record no graph (inference, optimizer updates).

    >>> import cnnlab
    >>> w = cnnlab.ones(3, requires_grad=True)
    >>> with cnnlab.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    mode = False


class enable_grad(GradModeContext):
    """Context manager and decorator that turns graph recording back on inside `no_grad()`.

    >>> import cnnlab
    >>> w = cnnlab.ones(3, requires_grad=True)
    >>> with cnnlab.no_grad(), cnnlab.enable_grad():
    ...     y = w * 2
    >>> y.requires_grad
    True
    """
    mode = True


class inference_mode(GradModeContext):
    """`no_grad()` under PyTorch's newer name (`inference_mode(False)` leaves grad mode as it is).

    >>> import cnnlab
    >>> with cnnlab.inference_mode():
    ...     y = cnnlab.ones(2, requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __new__(cls, mode=True):
        if callable(mode):  # @inference_mode used bare
            return inference_mode(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.enabled = bool(mode)

    def __enter__(self):
        self.prev = is_grad_enabled()
        if self.enabled:
            thread_state.enabled = False
        return self

    def _clone(self):
        return inference_mode(self.enabled)


class set_grad_enabled(GradModeContext):
    """Switch graph recording on or off: as a call, a context manager or a decorator, as
    torch.set_grad_enabled. Called as a function it takes effect at once.

    >>> import cnnlab
    >>> with cnnlab.set_grad_enabled(False):
    ...     y = cnnlab.ones(2, requires_grad=True) * 2
    >>> y.requires_grad, cnnlab.is_grad_enabled()
    (False, True)
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.prev = is_grad_enabled()
        thread_state.enabled = self.mode

    def __enter__(self):
        return self

    def _clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        thread_state.enabled = self.prev  # used as a decorator: the switch happens per call, not at decoration
        return super().__call__(fn)
