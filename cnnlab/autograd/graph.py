"""Higher-order gradients: the create_graph backward walk and the formula registry.

First order (engine.py) runs each node's backward closure on ndarrays. With create_graph=True this module walks
the same graph, but every gradient is a Tensor recorded in the graph: each node's *formula* `fn(ctx, grad)`,
registered under the op name the op gave `Tensor._from_op`, computes the parents' gradients with differentiable
ops, so the gradients can be differentiated again (to any order). Formulas live in cnnlab/derivatives/, which
imports this module: the engine knows nodes and a registry, not the ops. docs/autograd.md explains the design.

A node without a formula still gives its first-order gradient (from its array closure); the result is recorded
as a node that raises GradError only when someone differentiates through it, never a silent zero.
"""
import functools

import numpy as np

from .._nodes import grad_fn_name
from ..errors import GradError
from ..grad_mode import enable_grad, thread_state
from ..tensor import Tensor
from .engine import ScatterGrad, freed_backward, topological_order

_FORMULAS = {}  # op name -> [formula, ...], tried in registration order until one does not return NotImplemented


def register(name):
    """Decorator: register `fn(ctx, grad) -> tuple` (one Tensor or None per parent) as the create_graph formula of
    the op recorded as `name`. Several ops may record the same name: a formula that does not recognise the node
    (see ctx.saved) returns NotImplemented and the next one registered under the name is tried.

    >>> from cnnlab.autograd.graph import register
    >>> @register("DocExampleBackward")
    ... def _double(ctx, grad):
    ...     return (grad * 2,)
    """
    def decorator(fn):
        _FORMULAS.setdefault(name, []).append(fn)
        return fn
    return decorator


def formulas(name):
    """The formulas registered under name, in the order they are tried: a formula for a node that shows another
    op's name (one renamed to PyTorch's grad_fn, say) can hand it to them.

    >>> from cnnlab.autograd.graph import formulas, register
    >>> @register("DocFormulasExampleBackward")
    ... def _twice(ctx, grad):
    ...     return (grad * 2,)
    >>> formulas("DocFormulasExampleBackward") == (_twice,)
    True
    """
    return tuple(_FORMULAS.get(name, ()))


_USES_INPUTS = {}  # op name -> [(predicate(ctx) -> bool, or None for always; whether the output stands in)]


def uses_inputs(name, when=None, output=False):
    """Declare that PyTorch's gradient of the op recorded as name is computed from the op's inputs even where its
    derivative in them is zero (relu's mask, a max pool's window, an average pool's geometry): under create_graph
    that gradient then requires grad when an input does, and differentiating it gives those inputs zeros, not
    None (an error from backward()). The engine adds the dependence to whatever the formula returns, so formulas
    stay as they are. when(ctx): a predicate for names several ops record (read ctx.saved). output=True: PyTorch's
    formula takes the op's result instead of its inputs (relu: threshold_backward(grad, result, 0)), so the zeros
    go back through the op itself, and the next order requires grad as PyTorch's does.

    >>> import cnnlab  # cnnlab/derivatives/dependence.py declares relu (PyTorch: threshold_backward(grad, self))
    >>> x = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> (gx,) = cnnlab.autograd.grad(cnnlab.relu(x).sum(), x, create_graph=True)
    >>> gx.requires_grad, cnnlab.autograd.grad(gx.sum(), x)
    (True, (tensor([0., 0.]),))
    """
    _USES_INPUTS.setdefault(name, []).append((when, output))


def _declared_inputs(ctx):
    """The node's inputs that require grad (or its output), where a declaration (uses_inputs) covers the node;
    else ()."""
    for when, output in _USES_INPUTS.get(ctx.op, ()):
        if when is None or when(ctx):
            return (ctx.output,) if output else tuple(p for p in ctx.inputs if p._requires_grad)
    return ()


def _with_inputs(pg, inputs, op):
    """pg's values as a node that depends on inputs too, with a zero derivative in them (PyTorch's
    threshold_backward(grad, self) and the like). Named as pg's node, or PyTorch's way when pg has none."""
    def backward(g):
        return (g,) + tuple(np.zeros_like(t._data) for t in inputs)

    backward._formula = lambda ctx, g: (g,) + tuple(Tensor._wrap(np.zeros_like(t._data)) for t in inputs)
    name = pg._op if pg._backward is not None else op.replace("Backward", "BackwardBackward", 1)
    return Tensor._from_op(pg._data, (pg,) + inputs, backward, name)


class Context:
    """What a formula receives about its node: `inputs` (the parents, Tensors), `output` (the node's own output,
    a Tensor that may be used: it is differentiable), `needs_input_grad` (a bool per parent: it requires grad and,
    for autograd.grad, leads to one of the inputs asked for; return None for the others), `saved` (the free
    variables of the node's first-order backward closure, through functools.wraps wrappers and partials, plus
    attributes set on it), `op` (the name) and `backward` (the first-order closure itself, to reuse its array code,
    for example as a linear_op's adjoint)."""
    __slots__ = ("inputs", "output", "op", "backward", "needs_input_grad", "_saved")

    def __init__(self, output, backward, inputs, needs):
        self.output, self.backward, self.inputs, self.op = output, backward, inputs, output._op
        self.needs_input_grad = needs
        self._saved = None

    @property
    def saved(self):
        if self._saved is None:
            self._saved = closure_vars(self.backward)
        return self._saved


def closure_vars(fn):
    """The free variables of a closure (following __wrapped__ chains, bound methods and functools.partial:
    a partial gives 'func', 'args' and its keywords), plus the attributes set on it; inner functions win."""
    out, seen = {}, set()
    while fn is not None and id(fn) not in seen:
        seen.add(id(fn))
        if isinstance(fn, functools.partial):
            out.setdefault("func", fn.func)
            out.setdefault("args", fn.args)
            for k, v in fn.keywords.items():
                out.setdefault(k, v)
            fn = fn.func
            continue
        fn = getattr(fn, "__func__", fn)
        code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None) or ()
        names = code.co_freevars if code is not None else ()
        for name, cell in zip(names, cells):
            try:
                out[name] = cell.cell_contents  # the inner function's value replaces the wrapper's
            except ValueError:  # an empty cell: a name assigned after the closure was made, never set
                pass
        for k, v in getattr(fn, "__dict__", {}).items():
            if not k.startswith("_"):
                out[k] = v
        fn = getattr(fn, "__wrapped__", None)
    return out


def sum_to(t, shape):
    """t summed over its broadcast dims down to shape (differentiable): the gradient of a broadcast operand.

    >>> import cnnlab
    >>> from cnnlab.autograd.graph import sum_to
    >>> sum_to(cnnlab.ones(2, 3), (1, 3))
    tensor([[2., 2., 2.]])
    """
    shape = tuple(shape)
    if tuple(t.shape) == shape:
        return t
    lead = t.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and t.shape[lead + i] != 1)
    if dims:
        t = t.sum(dim=dims, keepdim=True)
    return t.reshape(shape)


def linear_op(name, apply, adjoint, x, adjoint_name=None):
    """A differentiable op for a map linear in x, from two array functions that are adjoints of each other:
    apply(ndarray of x's shape) -> ndarray, adjoint(ndarray of apply's output shape) -> ndarray of x's shape.
    Its backward is adjoint, and its create_graph formula linear_op(adjoint_name or name, adjoint, apply, grad):
    closed to any order.

    >>> import cnnlab
    >>> from cnnlab.autograd.graph import linear_op
    >>> x = cnnlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = linear_op("FlipBackward0", lambda a: a[::-1].copy(), lambda g: g[::-1].copy(), x)
    >>> (gx,) = cnnlab.autograd.grad((y * y).sum(), x, create_graph=True)
    >>> gx, gx.grad_fn is not None
    (tensor([2., 4., 6.], grad_fn=<FlipBackward0>), True)
    """
    def backward(g):
        return (adjoint(g),)

    backward._formula = lambda ctx, g: (linear_op(adjoint_name or name, adjoint, apply, g, name),)
    return Tensor._from_op(apply(x._data), (x,), backward, name)


def _no_double_backward(name):
    def backward(g):
        raise GradError(f"{name}: double backward (the derivative of this op's gradient) is not implemented: the "
                        "op has no create_graph formula in cnnlab/derivatives/. Got an attempt to differentiate "
                        f"the gradient of {name}.")
    return backward


def opaque(arr, depends_on, op):
    """A gradient of op known only by its values (arr): a Tensor whose backward raises GradError if anything
    differentiates through it, recorded when any of depends_on (Tensors) requires grad. Its node is named as
    PyTorch names double-backward nodes (MulBackward0 -> MulBackwardBackward0)."""
    needs = tuple(t for t in depends_on if isinstance(t, Tensor) and t._requires_grad)
    if not needs:
        return Tensor._wrap(arr)
    name = op.rstrip("0123456789") + "Backward"
    return Tensor._from_op(arr, needs, _no_double_backward(grad_fn_name(op)), name)


def _first_order(node, backward, parents, g):
    """The gradients of a node without a formula: its array closure's values, as opaque Tensors."""
    before, thread_state.grad_owned = getattr(thread_state, "grad_owned", False), False  # g stays the caller's
    try:
        raw = backward(g._data)
    finally:
        thread_state.grad_owned = before
    name = node._op
    out = []
    for p, pg in zip(parents, raw):
        if pg is None or not p._requires_grad:
            out.append(None)
            continue
        pg = pg.dense() if type(pg) is ScatterGrad else np.array(pg, dtype=p._data.dtype)  # a copy of its own
        out.append(opaque(pg, (g,) + tuple(parents), name))
    return out


def _parent_grads(node, backward, parents, g, needs):
    if backward is freed_backward:
        freed_backward(None)  # raises: the graph was freed by an earlier backward
    own = getattr(backward, "_formula", None)
    formulas = (own,) if own is not None else _FORMULAS.get(node._op, ())
    ctx = Context(node, backward, parents, needs)  # one per node: its saved variables are read once
    for formula in formulas:
        result = formula(ctx, g)
        if result is not NotImplemented:
            result = tuple(result)
            if len(result) != len(parents):
                raise GradError(f"backward: the create_graph formula of {node._op} returned {len(result)} gradients "
                                f"for {len(parents)} inputs (a bug in that formula).")
            inputs = _declared_inputs(ctx) if node._op in _USES_INPUTS else ()
            if inputs:
                result = tuple(pg if pg is None or not need else _with_inputs(pg, inputs, node._op)
                               for pg, need in zip(result, needs))
            return result
    return _first_order(node, backward, parents, g)


def cast(t, dtype):
    """t in another dtype (an np.dtype), staying in the graph, with no formula needed from the ops: the engine
    casts gradients to their tensor's dtype with it."""
    source = t._data.dtype
    if source == dtype:
        return t
    return linear_op("ToCopyBackward0", lambda a: a.astype(dtype), lambda g: g.astype(source), t)


def copy(t):
    """A copy of t that stays in the graph (the node PyTorch's .grad shows under create_graph: CopyBackwards)."""
    return linear_op("CopyBackwards", np.copy, np.copy, t)


def run_hooks(tensor, g):
    """Call tensor's hooks with the Tensor gradient g; a Tensor one returns replaces it."""
    for hook in list(tensor._hooks):
        out = hook(g)
        if out is not None:
            g = out if isinstance(out, Tensor) else Tensor._wrap(np.asarray(out, dtype=g._data.dtype))
    return g


def accumulate(tensor, g):
    """tensor.grad += g out of place (as PyTorch does under create_graph), so the sum stays differentiable."""
    g = cast(g, tensor._data.dtype)
    tensor.grad = copy(g) if tensor.grad is None else tensor.grad + g


def backward_graph(roots, grads, retain_graph=True, capture=None):
    """The create_graph walk: backpropagate grads (Tensors, one per root) from roots, recording every gradient
    in the graph. capture: a dict {id(tensor): None}, filled with those tensors' total gradients instead of
    touching `.grad` (autograd.grad)."""
    with enable_grad(), np.errstate(all="ignore"):  # PyTorch records the backward pass under create_graph
        _walk(roots, grads, retain_graph, capture)


def _walk(roots, grads, retain_graph, capture):
    inner, leaves = {}, {}  # id(tensor) -> [summed gradient Tensor, tensor]
    for root, g in zip(roots, grads):
        _add(inner if root._backward is not None else leaves, root, g)
    order = topological_order([r for r in roots if r._backward is not None])
    wanted = None if capture is None else _leading_to(order, capture)
    for node in order:
        entry = inner.pop(id(node), None)
        backward, parents = node._backward, node._parents
        if not retain_graph:
            node._backward, node._parents = freed_backward, ()
        if entry is None:
            continue
        if wanted is not None and id(node) not in wanted:
            continue  # leads to no input of autograd.grad
        needs = tuple(p._requires_grad and (wanted is None or id(p) in wanted) for p in parents)
        g = entry[0]
        if node._hooks:
            g = run_hooks(node, g)
        if capture is not None:
            if id(node) in capture:
                capture[id(node)] = g
        elif node._retains_grad:
            accumulate(node, g)
        if not any(needs):
            continue
        for p, pg, need in zip(parents, _parent_grads(node, backward, parents, g, needs), needs):
            if pg is None or not need:
                continue
            if tuple(pg.shape) != p._data.shape:
                raise GradError(f"backward: the create_graph formula of {node._op} returned a gradient of shape "
                                f"{tuple(pg.shape)} for an input of shape {p._data.shape} (a bug in that formula).")
            if pg._data.dtype != p._data.dtype:
                pg = cast(pg, p._data.dtype)
            _add(inner if p._backward is not None else leaves, p, pg)
    for g, leaf in leaves.values():
        if leaf._hooks:
            g = run_hooks(leaf, g)
        if capture is None:
            accumulate(leaf, g)
        elif id(leaf) in capture:
            capture[id(leaf)] = g


def _leading_to(order, capture):
    """ids of the tensors (captured ones included) from which a captured tensor is reachable through parents:
    autograd.grad walks only those branches, as PyTorch does (order: each node before its parents)."""
    wanted = set(capture)
    for node in reversed(order):
        if any(id(p) in wanted for p in node._parents):
            wanted.add(id(node))
    return wanted


def _add(table, tensor, g):
    entry = table.get(id(tensor))
    if entry is None:
        table[id(tensor)] = [g, tensor]
    else:
        entry[0] = entry[0] + g  # differentiable: the sum is part of the recorded graph
