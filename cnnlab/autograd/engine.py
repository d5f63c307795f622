"""The first-order backward pass: the hot path of training, on ndarrays.

Every differentiable op makes its output with `Tensor._from_op(data, parents, backward)`, where
`backward(grad_out)` is a closure beside the forward code that returns one gradient (an ndarray or None) per
parent. `run_backward` walks the graph in reverse topological order, sums the gradients that reach each
tensor, and hands them to the closures; leaves collect theirs in `.grad`. The create_graph walk, which records
the gradients themselves, is graph.py's.
"""
import sys

import numpy as np

from ..errors import GradError
from ..grad_mode import thread_state
from ..tensor import Tensor


def freed_backward(grad):
    raise GradError("backward: trying to backward through the graph a second time; its saved values were "
                    "freed after the first backward. Pass retain_graph=True to the first backward() "
                    "if you need to backward twice.")


def topological_order(roots):
    """Non-leaf tensors reachable from roots (non-leaf tensors), each after every tensor that uses it."""
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
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
    return getattr(thread_state, "grad_owned", False)


def _run_hooks(tensor, g):
    for hook in list(tensor._hooks):
        out = hook(Tensor._wrap(g))
        if out is not None:
            g = np.asarray(out._data if isinstance(out, Tensor) else out, dtype=g.dtype)
    return g


def accumulate_grad(tensor, g, owned=False):
    """Add g into tensor.grad: take g over when owned (no copy), else copy it; add in place afterwards."""
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
        accumulate_grad(root, grad, owned)
        return
    order = topological_order((root,))
    grads = {id(root): [grad, owned]}  # id(non-leaf) -> [summed gradient, owned]
    leaves = {}  # id(leaf) -> [summed gradient, owned, leaf]
    del grad
    for i, node in enumerate(order):
        order[i] = None  # let the node go as soon as it is done (its saved arrays with it)
        slot = grads.pop(id(node), None)
        backward, parents = node._backward, node._parents
        if not retain_graph:
            node._backward = freed_backward
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
            accumulate_grad(node, g)
        before, thread_state.grad_owned = grad_owned(), own
        try:
            parent_grads = list(backward(g))
        finally:
            thread_state.grad_owned = before
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
            accumulate_grad(leaf, g, own)
        elif id(leaf) in capture:
            capture[id(leaf)] = g
