"""cnnlab.autograd.Function: custom differentiable ops with a hand-written backward, as torch.autograd.Function.

`MyOp.apply(*args)` runs `forward(ctx, *args)` without recording a graph, then records one node whose backward
calls `backward(ctx, *grad_outputs)`. Several outputs are joined so that backward runs once with every output's
gradient (zeros for outputs the loss does not reach), the way the module backward hooks do it
(nn/modules/hooks.py): each output is an identity node over a shared Join node, whose backward runs last.
Under create_graph the user's backward runs with grad mode on and Tensor gradients, so a backward written in
tensor ops is differentiable (as in PyTorch).
"""
import functools
import weakref

import numpy as np

from .._nodes import UNINDEXED_NAMES
from ..errors import GradError, shape_str
from ..grad_mode import enable_grad, is_grad_enabled, no_grad
from ..tensor import Tensor
from .graph import cast, opaque, sum_to

_EMPTY = np.zeros(0)


class FunctionCtx:
    """The `ctx` of a custom Function: what forward leaves for backward.

    save_for_backward(*tensors) / saved_tensors; needs_input_grad (one bool per forward argument);
    mark_non_differentiable(*outputs); set_materialize_grads(bool); mark_dirty(*tensors) (accepted, no effect);
    any other attribute (ctx.alpha = 2.0) is kept as it is.
    """

    def __init__(self):
        self._saved = ()
        self.needs_input_grad = ()
        self._non_differentiable = set()
        self._routed = {}
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward: can only save tensors (or None). Got {type(t).__name__} at "
                                f"position {i}; store other values as ctx attributes (ctx.value = ...).")
        self._saved = tensors

    @property
    def saved_tensors(self):
        return tuple(self._saved)

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class Function:
    """Base class of custom autograd ops: subclass it with `@staticmethod forward(ctx, *args)` and
    `@staticmethod backward(ctx, *grad_outputs)` (one gradient per forward argument, None where there is none),
    and call `.apply(*args)`. The newer style, `forward(*args)` plus `setup_context(ctx, inputs, output)`, works
    too. Matches torch.autograd.Function; with create_graph=True, backward runs in grad mode on Tensors (then it
    is differentiable when written in tensor ops).

    >>> import cnnlab
    >>> from cnnlab.autograd import Function
    >>> class Square(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad_out):
    ...         x, = ctx.saved_tensors
    ...         return 2 * x * grad_out
    >>> x = cnnlab.tensor([1.0, 3.0], requires_grad=True)
    >>> y = Square.apply(x)
    >>> y.sum().backward()
    >>> y.grad_fn, x.grad
    (<SquareBackward>, tensor([2., 6.]))
    """

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__}: legacy autograd functions (an instance called with inputs) are not "
                        f"supported; define forward and backward as @staticmethod and call "
                        f"{type(self).__name__}.apply(...).")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function.forward: subclasses of cnnlab.autograd.Function must define a "
                                  "@staticmethod forward(ctx, *args).")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not defined for this Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function.backward: subclasses of cnnlab.autograd.Function must define a "
                                  "@staticmethod backward(ctx, *grad_outputs) to be differentiated.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        separate = cls.setup_context is not Function.setup_context
        with no_grad():
            output = cls.forward(*args, **kwargs) if separate else cls.forward(ctx, *args, **kwargs)
        if separate:
            cls.setup_context(ctx, args, output)
        parents = tuple(a for a, need in zip(args, ctx.needs_input_grad) if need)
        if not parents or not is_grad_enabled():
            return output
        is_tuple = isinstance(output, tuple)
        outputs = output if is_tuple else (output,)
        diff = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o._data.dtype.kind == "f"
                and id(o) not in ctx._non_differentiable]
        if not diff:
            return output
        name = f"{cls.__name__}Backward"
        UNINDEXED_NAMES.add(name)  # PyTorch shows a custom Function's node without an overload index
        run = functools.partial(_call_backward, cls, ctx, args, outputs, diff)
        routed = list(outputs)
        if len(diff) == 1:
            i = diff[0]
            backward = functools.partial(_single, run, i)
            backward._formula = functools.partial(_single_graph, run, i)
            routed[i] = Tensor._from_op(outputs[i]._data, parents, backward, name)
        else:  # a Join node holds the parents; each output files its gradient for it and hands it an empty one
            table = {}
            backward = functools.partial(_join, run, table)
            backward._formula = functools.partial(_join_graph, run, table)
            join = Tensor._from_op(_EMPTY, parents, backward, name)
            for i in diff:
                file = functools.partial(_file_grad, table, i)
                file._formula = functools.partial(_file_grad_graph, table, i)
                routed[i] = Tensor._from_op(outputs[i]._data, (join,), file, name)
        # under create_graph a saved output must be the recorded one (weakly: no cycle through the node)
        ctx._routed = {id(outputs[i]): weakref.ref(routed[i]) for i in diff}
        return tuple(routed) if is_tuple else routed[0]


def _single(run, i, grad):
    return run({i: grad})


def _single_graph(run, i, node_ctx, grad):
    return run({i: grad}, graph=True)


def _join(run, table, grad):
    return run(table)


def _join_graph(run, table, node_ctx, grad):
    return run(table, graph=True)


def _recorded(ctx, t):
    ref = ctx._routed.get(id(t)) if t is not None else None
    routed = ref() if ref is not None else None
    return t if routed is None else routed


def _file_grad(table, i, grad):
    table[i] = grad
    return (_EMPTY,)


def _file_grad_graph(table, i, node_ctx, grad):
    table[i] = grad
    return (Tensor._wrap(_EMPTY),)


def _call_backward(cls, ctx, args, outputs, diff, grads, graph=False):
    """Call the user's backward with one gradient per output and turn its result into one gradient per parent:
    arrays (first order, backward run in no_grad) or, with graph=True, Tensors (backward run in grad mode)."""
    grad_outputs = []
    for i, o in enumerate(outputs):
        g = grads.get(i) if i in diff else None
        if g is None and isinstance(o, Tensor) and ctx.materialize_grads:
            g = np.zeros(o._data.shape, o._data.dtype)
        if graph:
            grad_outputs.append(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g))
        else:  # a copy: backward may write in it
            grad_outputs.append(None if g is None else Tensor._wrap(np.array(g, copy=True)))
    grads.clear()
    if graph:  # saved outputs read as the recorded outputs, so a backward that uses them is differentiable
        saved = ctx._saved
        ctx._saved = tuple(_recorded(ctx, t) for t in saved)
        try:
            with enable_grad():
                result = cls.backward(ctx, *grad_outputs)
        finally:
            ctx._saved = saved
    else:
        with no_grad():
            result = cls.backward(ctx, *grad_outputs)
    result = result if isinstance(result, tuple) else (result,)
    n = len(args)
    if len(result) > n and all(r is None for r in result[n:]):
        result = result[:n]
    if len(result) != n:
        raise GradError(f"function {cls.__name__}Backward returned an incorrect number of gradients (expected {n}, "
                        f"got {len(result)}): backward must return one gradient (or None) per forward argument.")
    out = []
    for k, (a, need) in enumerate(zip(args, ctx.needs_input_grad)):
        if not need:
            continue
        r = result[k]
        if r is None:
            out.append(None)
            continue
        if not isinstance(r, Tensor):  # values only (an array): under create_graph, differentiating it raises
            arr = np.asarray(r)
            r = opaque(arr, tuple(grad_outputs) + tuple(args), f"{cls.__name__}Backward") if graph else Tensor._wrap(arr)
        if r._data.shape != a._data.shape:
            try:
                expandable = np.broadcast_shapes(r._data.shape, a._data.shape) == r._data.shape
            except ValueError:
                expandable = False
            if not expandable:
                raise GradError(f"Function {cls.__name__}Backward returned an invalid gradient at index {k}: got "
                                f"shape {shape_str(r._data.shape)} but expected a shape that sums to the input's "
                                f"{shape_str(a._data.shape)}.")
            with enable_grad() if graph else no_grad():
                r = sum_to(r, a._data.shape)
        if graph:
            out.append(cast(r, a._data.dtype))
        else:
            out.append(r._data.astype(a._data.dtype, copy=False))
    return tuple(out)


def once_differentiable(backward):
    """Decorator for a custom Function's backward that computes on values (not differentiable): it runs under
    no_grad, and under create_graph its gradients are known only by their values, so differentiating them raises
    GradError (PyTorch returns them as constants when the incoming gradients need no grad: cnnlab never gives that
    silent zero). As torch.autograd.function.once_differentiable.

    >>> import cnnlab
    >>> from cnnlab.autograd.function import Function, once_differentiable
    >>> class Square(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     @once_differentiable
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * g
    >>> x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    >>> cnnlab.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    (tensor([2., 4.], grad_fn=<SquareBackwardBackward0>),)
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        recording = is_grad_enabled()
        with no_grad():
            result = backward(ctx, *grad_outputs)
        if not recording:
            return result
        values = tuple(r._data if isinstance(r, Tensor) else r for r in (result if isinstance(result, tuple)
                                                                          else (result,)))
        return values if isinstance(result, tuple) else values[0]
    return wrapper
