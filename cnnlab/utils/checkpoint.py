"""Activation checkpointing: trade compute for memory by recomputing a segment's activations in backward.

`checkpoint(function, *args)` runs function without keeping its intermediate results: the graph gets one node,
`CheckpointFunctionBackward`, that holds only the inputs (and the random-number state). Its backward runs
function again with gradients on, from the same inputs and with the same random state (so dropout draws the
same mask), and backpropagates through that fresh graph. The gradients equal those of the plain run.

Two modes, as in PyTorch:
- use_reentrant=True (PyTorch's default, with a warning when not passed): the forward runs under no_grad; the
  output requires grad only when a tensor argument does; the gradients of parameters used inside function
  are accumulated into their `.grad` directly by the inner backward (so `autograd.grad` cannot reach them);
  keyword arguments are refused.
- use_reentrant=False: the forward runs with gradients on once to find the leaves that function reads
  (parameters), and its graph is dropped as soon as function returns; those leaves become inputs of the
  node, so parameters get gradients even when no argument requires grad, `autograd.grad` works, and keyword
  arguments are passed through.
Tensors that function reads other than its arguments should be leaves (parameters); a non-leaf read from an
enclosing scope is differentiated through as part of the segment.

>>> import cnnlab, cnnlab.nn as nn
>>> from cnnlab.utils.checkpoint import checkpoint
>>> block = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> x = cnnlab.randn(3, 4, requires_grad=True)
>>> y = checkpoint(block, x, use_reentrant=False)
>>> y.grad_fn
<CheckpointFunctionBackward>
>>> y.sum().backward()
>>> x.grad.shape, block[0].weight.grad.shape
(cnnlab.Size([3, 4]), cnnlab.Size([8, 4]))
"""
import contextlib
import warnings

from .. import random as _random
from ..autograd import Function, enable_grad, grad, is_grad_enabled, no_grad, run_backward
from ..errors import GradError, shape_str
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]

_REENTRANT_WARNING = ("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting "
                      "in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.")


def _stand_ins(args):
    """Fresh leaves for the tensor arguments (same data, same requires_grad): the recomputed graph stops there."""
    return [Tensor._wrap(a._data, a._requires_grad) if isinstance(a, Tensor) else a for a in args]


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def _graph_leaves(outputs, stop):
    """The leaf tensors that require grad and that the graph of outputs reaches, except those in `stop`."""
    seen, leaves, stack = set(stop), [], [o for o in outputs if isinstance(o, Tensor) and o._requires_grad]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._backward is None:
            leaves.append(t)
        else:
            stack.extend(t._parents)
    return leaves


class CheckpointFunction(Function):
    """The node checkpoint() records: forward hands back outputs computed without a graph; backward recomputes.

    apply(run, *args, *extra_leaves): `run` holds function, its args and kwargs, the forward's outputs (until
    apply returns), their shapes, the random state, and the extra leaves: the parameters found by the
    non-reentrant forward (none in reentrant mode).
    """

    @staticmethod
    def forward(ctx, run, *inputs):
        ctx.run = run
        return run["outputs"]

    @staticmethod
    def backward(ctx, *grad_outputs):
        run = ctx.run
        extra = run["extra"]
        if is_grad_enabled() and not run["reentrant"]:  # create_graph: the custom-Function backward records
            return _recorded_backward(run, grad_outputs)
        stand_ins = _stand_ins(run["args"])
        outputs = _recompute(run, stand_ins)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
                 if isinstance(o, Tensor) and o._requires_grad and g is not None]
        tensor_ins = [s for s in stand_ins if isinstance(s, Tensor) and s._requires_grad]
        if run["reentrant"]:  # parameters' gradients go straight into .grad; the inputs' come back from here
            for k, (o, g) in enumerate(pairs):
                run_backward(o, g._data.astype(o._data.dtype, copy=False), retain_graph=k < len(pairs) - 1)
            input_grads = {id(s): s.grad for s in tensor_ins}
            extra_grads = []
        else:  # every leaf the segment reads is an input of this node: capture all, touch no .grad
            capture = {id(t): None for t in tensor_ins + extra}
            for k, (o, g) in enumerate(pairs):
                part = {key: None for key in capture}
                run_backward(o, g._data.astype(o._data.dtype, copy=False), retain_graph=k < len(pairs) - 1,
                             capture=part)
                for key, value in part.items():
                    if value is not None:
                        capture[key] = value if capture[key] is None else capture[key] + value
            input_grads = {id(s): capture[id(s)] for s in tensor_ins}
            extra_grads = [capture[id(t)] for t in extra]
        grads = [None]
        for s in stand_ins:
            g = input_grads.get(id(s)) if isinstance(s, Tensor) else None
            grads.append(g._data if isinstance(g, Tensor) else g)
        return tuple(grads + extra_grads)


def _recorded_backward(run, grad_outputs):
    """Under create_graph (non-reentrant mode, as PyTorch): recompute from the real inputs, so the segment's
    gradients, taken with create_graph, stay connected to them and can be differentiated again."""
    args = run["args"]
    outputs = _recompute(run, args)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
             if isinstance(o, Tensor) and o._requires_grad and g is not None]
    wrt = [a for a in args if isinstance(a, Tensor) and a._requires_grad] + list(run["extra"])
    got = iter(grad([o for o, _ in pairs], wrt, [g for _, g in pairs], create_graph=True, allow_unused=True)
               if pairs and wrt else [None] * len(wrt))
    grads = [None] + [next(got) if isinstance(a, Tensor) and a._requires_grad else None for a in args]
    return tuple(grads + list(got))


def _recompute(run, stand_ins):
    """function(*stand_ins) again with gradients on, under the forward's random state (and context_fn's second
    context); checks the outputs still have the forward's shapes (backward could not go on otherwise)."""
    before = _random.get_rng_state() if run["rng_state"] is not None else None
    try:
        if before is not None:
            _random.set_rng_state(run["rng_state"])
        with enable_grad(), run["recompute_context"]:
            outputs = _as_tuple(run["function"](*stand_ins, **run["kwargs"]))
    finally:
        if before is not None:
            _random.set_rng_state(before)
    shapes = [tuple(o.shape) if isinstance(o, Tensor) else None for o in outputs]
    if shapes != run["shapes"]:
        raise GradError("checkpoint: the recomputed outputs differ from the forward's; the function must compute "
                        "the same shapes from the same inputs. Got shapes "
                        f"{[shape_str(s) if s else s for s in shapes]}, forward shapes "
                        f"{[shape_str(s) if s else s for s in run['shapes']]}.")
    return outputs


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               early_stop=True, preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs) without keeping its intermediate results; they are recomputed in backward.

    Args:
        function (callable): a module or function of tensors returning a tensor or a tuple.
        *args: its arguments (tensors and other values).
        use_reentrant (bool, default None = True with a warning, as PyTorch 2.13): the mode (see the module
            docstring); False is recommended.
        context_fn (callable, default None): use_reentrant=False only; returns two context managers, the first
            entered around the forward, the second around the recomputation.
        determinism_check ('default' or 'none'): accepted; the recomputed outputs' shapes are checked either
            way (backward cannot go on without). debug and early_stop are accepted (no effect).
        preserve_rng_state (bool, default True): recompute under the forward's random state (the same dropout
            masks).
        **kwargs: keyword arguments for function (use_reentrant=False only).

    Returns:
        what function returns; with grad mode on, its tensors hang on one CheckpointFunctionBackward node.

    Raises:
        ValueError: keyword arguments, context_fn or debug with use_reentrant=True; an unknown determinism_check.
        GradError: the recomputation gives other shapes.
        Matches torch.utils.checkpoint.checkpoint.
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    if use_reentrant and (context_fn is not None or debug):
        raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    forward_context, recompute_context = (context_fn() if context_fn is not None
                                          else (contextlib.nullcontext(), contextlib.nullcontext()))
    if not is_grad_enabled():
        with forward_context:
            return function(*args, **kwargs)
    run = {"function": function, "kwargs": kwargs, "reentrant": bool(use_reentrant),
           "rng_state": _random.get_rng_state() if preserve_rng_state else None,
           "recompute_context": recompute_context}
    stand_ins = _stand_ins(args)
    if use_reentrant:
        with no_grad():
            outputs = _as_tuple(function(*stand_ins, **kwargs))
        extra = []
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=2)
    else:
        with forward_context:
            outputs = _as_tuple(function(*stand_ins, **kwargs))
        extra = _graph_leaves(outputs, {id(s) for s in stand_ins if isinstance(s, Tensor)})
        outputs = tuple(o.detach() if isinstance(o, Tensor) else o for o in outputs)  # drops the segment's graph
    run.update(args=args, extra=extra, outputs=outputs,
               shapes=[tuple(o.shape) if isinstance(o, Tensor) else None for o in outputs])
    out = CheckpointFunction.apply(run, *args, *extra)
    run["outputs"] = None  # the node keeps the inputs, not the outputs
    return out[0] if len(outputs) == 1 else out


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or a list of modules) in `segments` parts, checkpointing every part but the last (whose
    activations backward needs first anyway). Matches torch.utils.checkpoint.checkpoint_sequential.

    Args:
        functions (Sequential or list of callables): the layers, in order.
        segments (int): how many parts (at most the number of layers).
        input (Tensor): the first layer's input.
        use_reentrant (bool, default None = True with a warning): as for checkpoint().
        **kwargs: preserve_rng_state.

    Raises:
        ValueError: segments is not in [1, number of layers].
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and callable(functions.children):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be an int in [1, number of functions]. Got "
                         f"segments={segments!r}, {len(functions)} functions.")

    def run_range(start, end):
        def forward(x):
            for f in functions[start:end + 1]:
                x = f(x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_range(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_range(end + 1, len(functions) - 1)(input)
