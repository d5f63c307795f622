"""Reverse-mode automatic differentiation: the grad-mode switch and the backward pass.

Every differentiable op makes its output with `Tensor._from_op(data, parents, backward)`, where
`backward(grad_out)` is a closure beside the forward code that returns one gradient (an ndarray or None) per
parent. `run_backward` walks the graph in reverse topological order, sums the gradients that reach each
tensor, and hands them to the closures; leaves collect theirs in `.grad`.
"""
import functools
import threading

import numpy as np

from .errors import GradError

_state = threading.local()


def is_grad_enabled():
    """True unless inside `no_grad()` (or `set_grad_enabled(False)`)."""
    return getattr(_state, "enabled", True)


class set_grad_enabled:
    """Context manager and decorator that switches graph recording on or off, as torch.set_grad_enabled.

    >>> import cnnlab
    >>> with cnnlab.set_grad_enabled(False):
    ...     y = cnnlab.ones(2, requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.prev = is_grad_enabled()
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    mode = True

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator: ops inside record no graph (inference, optimizer updates).

    >>> import cnnlab
    >>> w = cnnlab.ones(3, requires_grad=True)
    >>> with cnnlab.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns graph recording back on inside `no_grad()`."""
    mode = True


def _freed_backward(grad):
    raise GradError("backward: trying to backward through the graph a second time; its saved values were "
                    "freed after the first backward. Pass retain_graph=True to the first backward() "
                    "if you need to backward twice.")


def _topological_order(root):
    """Non-leaf tensors reachable from root, each after every tensor that uses it (root first)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p._backward is not None and id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _accumulate(tensor, g):
    from .tensor import Tensor
    if g.dtype != tensor._data.dtype:
        g = g.astype(tensor._data.dtype)
    if tensor.grad is None:
        # own the array: the caller may hold g (an upstream gradient passed straight through).
        tensor.grad = Tensor._wrap(np.array(g, copy=True))
    else:
        tensor.grad._data = tensor.grad._data + g


def run_backward(root, grad, retain_graph=False):
    """Backpropagate `grad` (an ndarray of root's shape) from root into every leaf that requires grad."""
    grads = {id(root): grad}
    if root._backward is None:  # a leaf: backward() on it just fills its own .grad
        _accumulate(root, grad)
        return
    for node in _topological_order(root):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node._retains_grad:
            _accumulate(node, g)
        parent_grads = node._backward(g)
        parents = node._parents
        if not retain_graph:
            node._backward = _freed_backward
            node._parents = ()
        for p, pg in zip(parents, parent_grads):
            if pg is None or not p.requires_grad:
                continue
            if p._backward is None:
                _accumulate(p, pg)
            elif id(p) in grads:
                grads[id(p)] = grads[id(p)] + pg
            else:
                grads[id(p)] = pg
