"""Module hooks: the handle that removes one, and running a module's hooks around forward() and backward.

A pre-hook `hook(module, args)` may return new args (a tuple, or one value that becomes a 1-tuple); with
with_kwargs=True it is `hook(module, args, kwargs)` and may return (args, kwargs). A forward hook
`hook(module, args, output)` (or `hook(module, args, kwargs, output)`) may return a replacement output. Hooks
run in registration order (prepend=True puts one first), as in PyTorch.

Full backward hooks (`hook(module, grad_input, grad_output)`, and pre-hooks `hook(module, grad_output)`) are
built on the graph itself, as PyTorch's BackwardHookFunction: see _BackwardHook below.
"""
import functools
import itertools
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from ...autograd import is_grad_enabled
from ...errors import GradError, shape_str
from ...tensor import Tensor


class RemovableHandle:
    """What register_forward_hook returns: `handle.remove()` takes the hook off (also a context manager).
    Matches torch.utils.hooks.RemovableHandle."""

    _next_id = itertools.count()

    def __init__(self, *hook_dicts):
        self.id = next(RemovableHandle._next_id)
        self._dicts = [weakref.ref(d) for d in hook_dicts]

    def remove(self):
        for ref in self._dicts:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks, kwargs_ids, hook, prepend, with_kwargs=False):
    """Register hook in the OrderedDict `hooks` (first if prepend); returns its RemovableHandle."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if with_kwargs:
        kwargs_ids.add(handle.id)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


# (attribute, factory) for each registry of hooks a module holds
_HOOK_STATE = (("_forward_hooks", OrderedDict), ("_forward_hooks_with_kwargs", set),
               ("_forward_hooks_always_called", set), ("_forward_pre_hooks", OrderedDict),
               ("_forward_pre_hooks_with_kwargs", set), ("_backward_hooks", OrderedDict),
               ("_backward_pre_hooks", OrderedDict))


def init_hook_state(module):
    """Give a module its empty hook registries (from Module.__init__)."""
    for name, make in _HOOK_STATE:
        object.__setattr__(module, name, make())


class ModuleHooks:
    """The hook-registration methods of nn.Module (a base class of Module; see Module for the rest)."""

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before forward; returning a value (a tuple, or one value) replaces args.
        With with_kwargs=True: hook(module, args, kwargs) returns None or (args, kwargs). Returns a
        RemovableHandle. Matches torch.nn.Module.register_forward_pre_hook."""
        return add_hook(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) runs after forward; returning a value replaces the output.
        With with_kwargs=True: hook(module, args, kwargs, output). With always_call=True it also runs (with
        output=None) when forward raises, before the error propagates. Returns a RemovableHandle. Matches
        torch.nn.Module.register_forward_hook."""
        handle = add_hook(self._forward_hooks, self._forward_hooks_with_kwargs, hook, prepend, with_kwargs)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) runs when the gradients with respect to the module's outputs are known;
        returning a tuple (one entry per output) replaces grad_output. Returns a RemovableHandle. Matches
        torch.nn.Module.register_full_backward_pre_hook."""
        return add_hook(self._backward_pre_hooks, None, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) runs when the gradients with respect to the module's positional
        tensor inputs are known (grad_input: one entry per positional argument, None for non-tensors and zeros
        where no gradient arrived); returning a tuple replaces grad_input. Returns a RemovableHandle. Matches
        torch.nn.Module.register_full_backward_hook.

        >>> import cnnlab, cnnlab.nn as nn
        >>> layer = nn.Linear(3, 2)
        >>> seen = []
        >>> h = layer.register_full_backward_hook(lambda m, gin, gout: seen.append((gin[0].shape, gout[0].shape)))
        >>> layer(cnnlab.ones(4, 3, requires_grad=True)).sum().backward()
        >>> seen
        [(cnnlab.Size([4, 3]), cnnlab.Size([4, 2]))]
        """
        return add_hook(self._backward_hooks, None, hook, prepend)

    def __setstate__(self, state):
        """Unpickling: a module saved before a kind of hook existed gets an empty registry for it."""
        self.__dict__.update(state)
        for name, make in _HOOK_STATE:
            if name not in self.__dict__:
                object.__setattr__(self, name, make())


def call_with_hooks(module, args, kwargs):
    """module.forward(*args, **kwargs) with the module's forward pre-hooks before and forward hooks after, and
    its tensor inputs and outputs routed through the backward hooks' nodes (when it has backward hooks)."""
    for hook_id, hook in list(module._forward_pre_hooks.items()):
        if hook_id in module._forward_pre_hooks_with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward_hook = None
    if module._backward_hooks or module._backward_pre_hooks:
        backward_hook = _BackwardHook(module)
        args = backward_hook.setup_inputs(args)
    called = set()
    try:
        output = module.forward(*args, **kwargs)
        for hook_id, hook in list(module._forward_hooks.items()):
            called.add(hook_id)
            result = _call_forward_hook(module, hook_id, hook, args, kwargs, output)
            if result is not None:
                output = result
    except Exception:
        _call_always_called_hooks(module, args, kwargs, called)
        raise
    if backward_hook is not None:
        output = backward_hook.setup_outputs(output)
    return output


def _call_forward_hook(module, hook_id, hook, args, kwargs, output):
    if hook_id in module._forward_hooks_with_kwargs:
        return hook(module, args, kwargs, output)
    return hook(module, args, output)


def _call_always_called_hooks(module, args, kwargs, called):
    """forward (or a hook) raised: run the always_call hooks that have not run yet, with output=None; an error
    inside one of them is turned into a warning so the original error propagates, as in PyTorch."""
    output = None
    for hook_id, hook in list(module._forward_hooks.items()):
        if hook_id not in module._forward_hooks_always_called or hook_id in called:
            continue
        try:
            result = _call_forward_hook(module, hook_id, hook, args, kwargs, output)
            if result is not None:
                output = result
        except Exception as e:
            warnings.warn("module forward hook with ``always_call=True`` raised an exception that was silenced as "
                          f"another error was raised in forward: {e}", stacklevel=3)


# ---- full backward hooks ----------------------------------------------------------------------------------------
# A module's tensor inputs x_1..x_n (those that require grad) are rerouted through two kinds of identity node:
#     J = Join(x_1, ..., x_n)  (an empty array)      x_i' = Pass_i(J)  (x_i's data; forward gets x_i')
# Backward reaches every Pass_i before J (J is their common parent). Each Pass_i files its gradient in a table
# shared with J and hands J an empty gradient, so when J runs it holds every input gradient at once: it calls the
# hooks with the whole grad_input tuple and passes on what they return to x_1..x_n. The outputs get the same pair
# of nodes; there the pre-hooks run and grad_output is recorded for the hooks. autograd.py needs no change.
_EMPTY = np.zeros(0)
_NODE = "BackwardHookFunctionBackward"


def _file_grad(table, i, grad):
    table[i] = grad
    return (_EMPTY,)


def _route(values, on_join):
    """Route the tensors among values (a tuple) through a Join and Pass nodes. Returns (values with the Pass
    outputs in place of the tensors that require grad, positions of all tensors), or (values, None) when no
    tensor requires grad or grad mode is off. on_join(table, positions) gives the gradients for the Join's
    parents, one per tensor that requires grad."""
    index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
    diff = [i for i in index if values[i]._requires_grad]
    if not diff or not is_grad_enabled():
        return values, None
    table = {}
    join = Tensor._from_op(_EMPTY, tuple(values[i] for i in diff), lambda g: on_join(table, diff), _NODE)
    routed = list(values)
    for i in diff:
        routed[i] = Tensor._from_op(values[i]._data, (join,), functools.partial(_file_grad, table, i), _NODE)
    return tuple(routed), index


def _grad_array(value, shape, dtype, what, i):
    """A hook's replacement gradient as an ndarray, which must have the shape and dtype of the gradient it replaces
    (None stays None: no gradient flows there)."""
    if value is None:
        return None
    arr = value._data if isinstance(value, Tensor) else np.asarray(value)
    if arr.shape != shape or arr.dtype != dtype:
        raise GradError(f"backward hook: a returned gradient must keep the shape and dtype of the one it replaces. "
                        f"Got {what}[{i}] of shape {shape_str(arr.shape)} and dtype {arr.dtype} for one of shape "
                        f"{shape_str(shape)} and dtype {dtype}.")
    return arr


def _check_count(result, expected, kind):
    if not isinstance(result, (tuple, list)) or len(result) != expected:
        got = len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise GradError(f"Backward {kind} returned an invalid number of grad_{'output' if 'pre' in kind else 'input'}"
                        f", got {got}, but expected {expected} (return None or a tuple with one entry per "
                        f"{'output' if 'pre' in kind else 'input'}).")


class _BackwardHook:
    """The backward hooks of one module call (torch.utils.hooks.BackwardHook): routes its inputs and outputs
    and calls the pre-hooks at the outputs' Join, the hooks at the inputs' Join."""

    def __init__(self, module):
        self.module = module
        self.grad_outputs = None  # set at the outputs' Join, used and cleared at the inputs' Join
        self.n_inputs = 0
        self.input_index = None
        self.inputs = ()

    def setup_inputs(self, args):
        self.n_inputs = len(args)
        routed, self.input_index = _route(args, self._inputs_join)
        if self.input_index is not None:  # only what materialising zeros needs, not the inputs themselves
            self.inputs = {i: (args[i]._data.shape, args[i]._data.dtype) for i in self.input_index}
        return routed

    def setup_outputs(self, output):
        if not isinstance(output, (Tensor, tuple)):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                          f"but received {type(output)}", stacklevel=4)
        is_tuple = isinstance(output, tuple)
        outputs = output if is_tuple else (output,)
        routed, _ = _route(outputs, functools.partial(self._outputs_join, outputs))
        return routed if is_tuple else routed[0]

    def _outputs_join(self, outputs, table, diff):
        module = self.module
        grad_outputs = [None] * len(outputs)
        for i in diff:
            if i in table:
                grad_outputs[i] = Tensor._wrap(table[i])
        table.clear()
        for hook in list(module._backward_pre_hooks.values()):
            result = hook(module, tuple(grad_outputs))
            if result is not None:
                _check_count(result, len(outputs), "pre hook")
                grad_outputs = list(result)
        self.grad_outputs = tuple(grad_outputs)
        if self.input_index is None:  # no input requires grad: the hooks run here, with no grad_input
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                          "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in list(module._backward_hooks.values()):
                result = hook(module, grad_inputs, self.grad_outputs)
                if result is not None and not (isinstance(result, tuple) and all(r is None for r in result)):
                    raise GradError("Backward hook for Modules where no input requires gradient should always "
                                    "return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(_grad_array(grad_outputs[i], outputs[i]._data.shape, outputs[i]._data.dtype, "grad_output", i)
                     for i in diff)

    def _inputs_join(self, table, diff):
        if self.grad_outputs is None:  # the gradient did not come through the module's outputs: no hooks
            grads = tuple(table.get(i) for i in diff)
            table.clear()
            return grads
        module = self.module
        grad_inputs = [None] * self.n_inputs
        for i in self.input_index:  # gradients that did not reach an input are zeros, as in PyTorch
            shape, dtype = self.inputs[i]
            grad_inputs[i] = Tensor._wrap(table[i] if i in table else np.zeros(shape, dtype))
        table.clear()
        for hook in list(module._backward_hooks.values()):
            result = hook(module, tuple(grad_inputs), self.grad_outputs)
            if result is not None:
                _check_count(result, self.n_inputs, "hook")
                grad_inputs = list(result)
        self.grad_outputs = None
        return tuple(_grad_array(grad_inputs[i], *self.inputs[i], "grad_input", i) for i in diff)
