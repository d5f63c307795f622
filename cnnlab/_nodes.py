"""What a tensor hands out about its place in the graph: `grad_fn` (the node that made it, named as PyTorch
names it, with `next_functions`), the AccumulateGrad node of a leaf, and the handle register_hook returns."""


def grad_fn_name(op):
    """The name PyTorch shows for the node of op: with its overload index (`MulBackward0`); an op recorded under a
    bare `...Backward` name gets index 0. Names PyTorch shows without an index (custom Functions,
    BackwardHookFunctionBackward, CopySlices) are kept as they are when listed in UNINDEXED_NAMES."""
    if op is None or op[-1].isdigit() or not op.endswith("Backward") or op in UNINDEXED_NAMES:
        return op
    return op + "0"


UNINDEXED_NAMES = {"BackwardHookFunctionBackward"}


class GradFn:
    """What `tensor.grad_fn` shows: the op that made the tensor (`<MulBackward0>`, `.name()`), and the nodes it
    passes gradients to (`.next_functions`, as PyTorch's: one (node, 0) pair per input)."""
    __slots__ = ("_name", "_tensor")

    def __init__(self, name, tensor=None):
        self._name = grad_fn_name(name)
        self._tensor = tensor

    def name(self):
        return self._name

    @property
    def next_functions(self):
        """((node, 0), ...) per input: the input's grad_fn, an AccumulateGrad for a leaf that requires grad, or
        None for an input that needs no gradient."""
        parents = self._tensor._parents if self._tensor is not None else ()
        return tuple((p.grad_fn if p._backward is not None else (_AccumulateGrad(p) if p._requires_grad else None),
                      0) for p in parents)

    def __repr__(self):
        return f"<{self._name}>"


class _AccumulateGrad:
    """The node that adds a gradient into a leaf's .grad (`.variable` is the leaf), as PyTorch's."""
    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


class HookHandle:
    """What register_hook returns: remove() takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
