"""Reverse-mode automatic differentiation: the backward pass (the grad-mode switch lives in grad_mode.py and
is re-exported here).

Every differentiable op makes its output with `Tensor._from_op(data, parents, backward)`, where
`backward(grad_out)` is a closure beside the forward code that returns one gradient (an ndarray or None) per
parent. `run_backward` walks the graph in reverse topological order, sums the gradients that reach each
tensor, and hands them to the closures; leaves collect theirs in `.grad`.
"""
import sys

import numpy as np

from .errors import GradError
from .grad_mode import (_GradModeContext, _state, enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                        no_grad, set_grad_enabled)


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


# ---- ownership of gradient arrays ---------------------------------------------------------------------
# A closure may hand back an array that someone else still holds (the incoming gradient itself, a view of it,
# a read-only broadcast, one array for two parents, an array saved at forward time). Those are copied before
# anything is added into them. A fresh array that nothing else holds is taken over as it is: no copy, and
# later gradients are added into it in place. "Nothing else holds it" is read from the reference count,
# measured against a probe with the same code shape, so the test does not hang on the interpreter's counting.
def _refs(arr):
    return sys.getrefcount(arr)


def _probe_refs():
    pg = np.empty(1)
    return _refs(pg)  # a local variable and nothing else


def _probe_base_refs():
    pg = np.empty(2).reshape(2, 1)
    base = pg.base
    return _refs(base)  # held by the view and one local variable


_EXCLUSIVE_REFS = _probe_refs()
_EXCLUSIVE_BASE_REFS = _probe_base_refs()


def _owns(pg):
    """Whether pg (a gradient array just handed back by a closure) can be kept and written into: nothing else
    holds it, and it is either a fresh array or a contiguous view of an array that only it holds."""
    if not pg.flags.writeable:
        return False
    base = pg.base
    if base is None:
        return True
    if not isinstance(base, np.ndarray) or not (pg.flags.c_contiguous or pg.flags.f_contiguous):
        return False
    return base.flags.writeable and _refs(base) <= _EXCLUSIVE_BASE_REFS


class ScatterGrad:
    """A gradient that is zero except at `key`: what indexing and split return instead of a full-size array.

    run_backward adds it into the parent's gradient buffer in place, so taking many slices of one tensor (a loop
    over rows, unbind, chunk) costs the size of the slices, not the size of the tensor once per slice.
    """
    __slots__ = ("shape", "dtype", "key", "values", "repeats", "pre")

    def __init__(self, shape, dtype, key, values, repeats=False, pre=None):
        self.shape, self.dtype, self.key, self.values, self.repeats = shape, dtype, key, values, repeats
        self.pre = pre  # a basic key applied first (PyTorch's int selects before advanced indices)

    def add_to(self, buf):
        if self.pre is not None:
            buf = buf[self.pre]  # a view: the adds below land in buf
        if self.repeats:
            np.add.at(buf, self.key, self.values)  # repeated indices add up
        else:
            buf[self.key] += self.values

    def dense(self):
        buf = np.zeros(self.shape, self.dtype)
        self.add_to(buf)
        return buf


def _add_into(slot, pg):
    """slot = [array, owned, ...]: add pg into slot[0], in place when the slot owns its array."""
    if slot[1]:
        np.add(slot[0], pg, out=slot[0])
    else:
        slot[0] = np.asarray(slot[0] + pg)  # 0-d + 0-d gives a NumPy scalar, which out= cannot write into
        slot[1] = True


def grad_owned():
    """Inside a backward closure: whether it may overwrite the gradient it was handed (nothing else holds that
    array: no hook, no autograd.grad capture, not the caller's own gradient argument), for example to compute
    its input's gradient in place instead of in a fresh array. Read it before doing anything else.

    >>> import cnnlab
    >>> x = cnnlab.ones(2, requires_grad=True)
    >>> seen = []
    >>> y = cnnlab.Tensor._from_op(x._data * 2, (x,), lambda g: (seen.append(grad_owned()) or g * 2,), "Mul")
    >>> y.sum().backward()
    >>> seen
    [False]
    """
    return getattr(_state, "grad_owned", False)


def _run_hooks(tensor, g):
    from .tensor import Tensor
    for hook in list(tensor._hooks):
        out = hook(Tensor._wrap(g))
        if out is not None:
            g = np.asarray(out._data if isinstance(out, Tensor) else out, dtype=g.dtype)
    return g


def _accumulate(tensor, g, owned=False):
    """Add g into tensor.grad: take g over when owned (no copy), else copy it; add in place afterwards."""
    from .tensor import Tensor
    if g.dtype != tensor._data.dtype:
        g, owned = g.astype(tensor._data.dtype), True
    if tensor.grad is None:
        # a row-major .grad like PyTorch's for a contiguous leaf, so that p.grad.view(-1) works
        tensor.grad = Tensor._wrap(g if owned and g.flags.c_contiguous else np.array(g, copy=True, order="C"))
        return
    current = tensor.grad._data
    if current.flags.writeable and current.shape == g.shape and current.dtype == g.dtype:
        np.add(current, g, out=current)  # in place, as PyTorch: a reference to .grad sees the sum
    else:
        tensor.grad._data = np.asarray(current + g)


def run_backward(root, grad, retain_graph=False, owned=False, capture=None):
    """Backpropagate `grad` (an ndarray of root's shape) from root into every leaf that requires grad.

    owned: whether run_backward may keep or modify `grad` (True when nobody else holds it).
    capture: a dict {id(tensor): None} for `grad()`: the total gradient of each listed tensor is stored there
    instead, and no `.grad` is touched."""
    # summing gradients may overflow to inf or meet inf - inf: PyTorch does so silently, and so must we
    with np.errstate(all="ignore"):
        _run_backward(root, grad, retain_graph, owned, capture)


def _run_backward(root, grad, retain_graph, owned, capture):
    if root._backward is None:  # a leaf: backward() on it just fills its own .grad
        if root._hooks:
            grad, owned = _run_hooks(root, grad), False
        if capture is not None:
            if id(root) in capture:
                capture[id(root)] = grad
            return
        _accumulate(root, grad, owned)
        return
    order = _topological_order(root)
    grads = {id(root): [grad, owned]}  # id(non-leaf) -> [summed gradient, owned]
    leaves = {}  # id(leaf) -> [summed gradient, owned, leaf]
    del grad
    for i, node in enumerate(order):
        order[i] = None  # let the node go as soon as it is done (its saved arrays with it)
        slot = grads.pop(id(node), None)
        backward, parents = node._backward, node._parents
        if not retain_graph:
            node._backward = _freed_backward
            node._parents = ()
        if slot is None:
            continue
        g = slot[0]
        if node._hooks:
            g = _run_hooks(node, g)
        own = slot[1] and not node._hooks and not node._retains_grad and capture is None
        if capture is not None:
            if id(node) in capture:
                capture[id(node)] = g
        elif node._retains_grad:
            _accumulate(node, g)
        before, _state.grad_owned = grad_owned(), own
        try:
            parent_grads = list(backward(g))
        finally:
            _state.grad_owned = before
        slot = g = None
        for k, p in enumerate(parents):
            pg = parent_grads[k]
            parent_grads[k] = None
            if pg is None or not p._requires_grad:
                continue
            if type(pg) is not np.ndarray:
                if type(pg) is ScatterGrad:
                    table = grads if p._backward is not None else leaves
                    entry = table.get(id(p))
                    if entry is None:
                        table[id(p)] = [pg.dense(), True, p]
                    else:
                        if not entry[1]:
                            entry[0], entry[1] = np.array(entry[0], copy=True), True
                        pg.add_to(entry[0])
                    pg = None
                    continue
                # arithmetic on 0-d arrays gives NumPy scalars (and subclasses come from user Functions):
                # a fresh array of its own, so that later gradients can be added into it in place
                pg = np.array(pg, dtype=getattr(pg, "dtype", None))
            if pg.shape != p._data.shape:
                raise GradError(f"backward: {node._op} returned a gradient of shape {pg.shape} for an input of "
                                f"shape {p._data.shape} (a bug in that op's backward).")
            if pg.dtype != p._data.dtype:
                pg = pg.astype(p._data.dtype)
            table = grads if p._backward is not None else leaves
            entry = table.get(id(p))
            if entry is None:
                own = _refs(pg) <= _EXCLUSIVE_REFS and _owns(pg)
                table[id(p)] = [pg, own, p]
            elif not entry[1] and _refs(pg) <= _EXCLUSIVE_REFS and _owns(pg):
                np.add(pg, entry[0], out=pg)  # the slot's array is shared, the new one is not: add into that
                entry[0], entry[1] = pg, True
            else:
                _add_into(entry, pg)
            pg = None
    for g, own, leaf in leaves.values():
        if leaf._hooks:
            g, own = _run_hooks(leaf, g), False
        if capture is None:
            _accumulate(leaf, g, own)
        elif id(leaf) in capture:
            capture[id(leaf)] = g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of outputs with respect to inputs, returned instead of accumulated into `.grad`.

    Args:
        outputs (Tensor or sequence of Tensors): what to differentiate (summed when several).
        inputs (Tensor or sequence of Tensors): leaves or intermediate tensors that require grad.
        grad_outputs (Tensor or sequence, default None): d(loss)/d(output); may be omitted for single values.
        retain_graph (bool, default False): keep the graph for another backward or grad call.
        create_graph (bool, default False): must be False (no higher-order gradients).
        allow_unused (bool, default False): give None for an input the outputs do not depend on, instead of
            raising.

    Returns:
        tuple of Tensors (or None for unused inputs), one per input, each of its input's shape.

    Raises:
        GradError: an input does not require grad, or is unused and allow_unused is False. Matches
        torch.autograd.grad.

    >>> import cnnlab
    >>> x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    >>> cnnlab.autograd.grad((x * x).sum(), x)
    (tensor([2., 4.]),)
    >>> x.grad is None
    True
    """
    from .tensor import Tensor
    if create_graph:
        raise GradError("grad: create_graph=True (higher-order gradients) is not supported. Got create_graph=True.")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise GradError(f"grad: every input must require grad. Got inputs[{i}] with requires_grad=False.")
    capture = {}
    for k, (out, g) in enumerate(zip(outputs, grad_outputs)):
        part = {id(t): None for t in inputs}
        if not out._requires_grad:
            raise GradError(f"grad: outputs[{k}] does not require grad and has no grad_fn.")
        if g is None:
            if out._data.size != 1:
                raise GradError("grad: grad_outputs can be omitted only for single-value outputs. Got "
                                f"outputs[{k}].shape={tuple(out.shape)}.")
            garr = np.ones_like(out._data)
        else:
            garr = np.asarray(g._data if isinstance(g, Tensor) else g).astype(out._data.dtype, copy=False)
        last = k == len(outputs) - 1
        run_backward(out, garr, retain_graph=bool(retain_graph) or not last, capture=part)
        for key, value in part.items():
            if value is not None:
                capture[key] = value if capture.get(key) is None else capture[key] + value
    result = []
    for i, t in enumerate(inputs):
        g = capture.get(id(t))
        if g is None and not allow_unused:
            raise GradError(f"grad: inputs[{i}] was not used to compute the outputs; pass allow_unused=True to get "
                            "None for it.")
        result.append(None if g is None else Tensor._wrap(np.array(g, dtype=t._data.dtype, copy=True)))
    return tuple(result)


def Variable(data, requires_grad=False, volatile=False):
    """The pre-0.4 PyTorch wrapper, kept for old tutorials: a tensor sharing data's memory, requiring grad if
    asked. Matches torch.autograd.Variable."""
    from .tensor import Tensor
    arr = data._data if isinstance(data, Tensor) else np.asarray(data)
    return Tensor._wrap(arr, requires_grad)


# The public autograd API built on this engine (after the definitions above, which those modules import)
from ._autograd_api import Function, FunctionCtx  # noqa: E402,F401
from ._gradcheck import GradcheckError, gradcheck  # noqa: E402,F401
