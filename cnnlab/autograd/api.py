"""The entry points of the backward pass: Tensor.backward, autograd.backward, autograd.grad (and Variable).

Each checks its arguments, then runs the first-order walk on arrays (engine.run_backward, the training hot
path) or, with create_graph=True, the recording walk (graph.backward_graph). cnnlab/_methods.py binds
tensor_backward to Tensor as its backward method: tensor.py sits below the engine and does not import it.
"""
import numpy as np

from ..errors import GradError, shape_str
from ..tensor import Tensor
from . import graph
from .engine import accumulate_grad, run_backward


def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaf) * gradient into `.grad` of every leaf that requires grad.

    Args:
        gradient (Tensor or array, default None): d(loss)/d(self); may be omitted for a one-element tensor.
        retain_graph (bool, default create_graph): keep the graph so backward can run through it again.
        create_graph (bool, default False): record the backward pass, so that the gradients (each `.grad`
            then has a grad_fn) can be differentiated again.
        inputs (Tensor or sequence of Tensors, default None): accumulate only into these tensors' `.grad`.
    Raises:
        GradError (a ValueError and RuntimeError): self does not require grad, self is not a single value
        and no gradient was given, gradient has another shape, or the graph was already freed.

    >>> import cnnlab
    >>> x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x * x).sum().backward(create_graph=True)
    >>> x.grad  # 3 x^2, itself differentiable
    tensor([ 3., 12.], grad_fn=<CopyBackwards>)
    """
    backward([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs=inputs,
             _op="backward")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None,
             _op="backward"):
    """Accumulate the gradients of tensors (summed, each weighted by its grad_tensors entry) into the `.grad` of
    the leaves (or of `inputs` only). Matches torch.autograd.backward.

    >>> import cnnlab
    >>> x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    >>> cnnlab.autograd.backward([x * 2, x * x], [cnnlab.ones(2), cnnlab.ones(2)])
    >>> x.grad
    tensor([4., 6.])
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _grad_arrays(tensors, grad_tensors, _op)
    retain = create_graph if retain_graph is None else bool(retain_graph)
    targets = None
    if inputs is not None:
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not targets:
            raise GradError(f"{_op}: inputs= must name at least one tensor. Got inputs={inputs!r}.")
        for i, t in enumerate(targets):
            if not t._requires_grad:
                raise GradError(f"{_op}: every tensor in inputs= must require grad. Got inputs[{i}] with "
                                "requires_grad=False.")
    if create_graph:
        capture = None if targets is None else {id(t): None for t in targets}
        graph.backward_graph(tensors, _graph_grads(grads, grad_tensors), retain, capture)
        for t in targets or ():
            if capture[id(t)] is not None:
                graph.accumulate(t, capture[id(t)])
        return
    for k, (t, (g, owned)) in enumerate(zip(tensors, grads)):
        last = k == len(tensors) - 1
        if targets is None:
            run_backward(t, g, retain_graph=retain or not last, owned=owned)
            continue
        capture = {id(x): None for x in targets}
        run_backward(t, g, retain_graph=retain or not last, capture=capture)
        for x in targets:
            if capture[id(x)] is not None:
                accumulate_grad(x, np.asarray(capture[id(x)]))


def _graph_grads(arrays, given):
    """The root gradients of a create_graph walk: the caller's Tensors themselves where given (a grad_output that
    requires grad makes the result differentiable with respect to it, as in PyTorch), else Tensors around the
    checked arrays."""
    given = [None] * len(arrays) if given is None else [given] if isinstance(given, Tensor) else list(given)
    out = []
    for (arr, _), g in zip(arrays, given):
        if isinstance(g, Tensor) and g._requires_grad:
            out.append(g if g._data.dtype == arr.dtype else graph.cast(g, arr.dtype))
        else:
            out.append(Tensor._wrap(arr))
    return out


def _grad_arrays(outputs, grad_outputs, op):
    """One (ndarray gradient, owned) per output: ones for an omitted single-value output's gradient."""
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise GradError(f"{op}: grad_outputs must have one entry per output (PyTorch: grad_outputs should be a "
                        f"sequence of length {len(outputs)}). Got {len(grad_outputs)} grad_outputs for "
                        f"{len(outputs)} outputs.")
    out = []
    for k, (t, g) in enumerate(zip(outputs, grad_outputs)):
        name = "the tensor" if op == "backward" else f"outputs[{k}]"
        if not t._requires_grad:
            if op == "backward":
                raise GradError("backward: the tensor does not require grad and has no grad_fn, so there is "
                                "nothing to differentiate (was it computed under no_grad(), or only from tensors "
                                f"with requires_grad=False?). Got requires_grad=False, shape={shape_str(t.shape)}.")
            raise GradError(f"{op}: {name} does not require grad and has no grad_fn (PyTorch: element {k} of "
                            "tensors does not require grad and does not have a grad_fn).")
        if g is None:
            if t._data.size != 1:
                if op == "backward":
                    raise GradError("backward: a gradient can be created implicitly only for a single-value "
                                    "output; pass gradient= for other outputs (or call .sum() first). "
                                    f"Got shape={shape_str(t.shape)}.")
                raise GradError(f"{op}: grad_outputs can be omitted only for single-value outputs (PyTorch: grad "
                                f"can be implicitly created only for scalar outputs). Got {name}.shape="
                                f"{tuple(t.shape)}.")
            out.append((np.ones_like(t._data), True))
            continue
        arr = np.asarray(g._data if isinstance(g, Tensor) else g)
        if arr.shape != t._data.shape:
            if op == "backward":
                raise GradError(f"backward: gradient must have the tensor's shape. Got gradient.shape="
                                f"{shape_str(arr.shape)}, tensor shape={shape_str(t.shape)}.")
            raise GradError(f"{op}: each grad_output must have its output's shape (PyTorch: Mismatch in shape). "
                            f"Got grad_outputs[{k}].shape={shape_str(arr.shape)}, outputs[{k}].shape="
                            f"{shape_str(t.shape)}.")
        out.append((arr.astype(t._data.dtype, copy=False), False))
    return out


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of outputs with respect to inputs, returned instead of accumulated into `.grad`.

    Args:
        outputs (Tensor or sequence of Tensors): what to differentiate (summed when several).
        inputs (Tensor or sequence of Tensors): leaves or intermediate tensors that require grad.
        grad_outputs (Tensor or sequence, default None): d(loss)/d(output); may be omitted for single values.
        retain_graph (bool, default create_graph): keep the graph for another backward or grad call.
        create_graph (bool, default False): record the backward pass: the gradients returned have a grad_fn
            and can be differentiated again (higher-order gradients).
        allow_unused (bool, default False): give None for an input the outputs do not depend on, instead of
            raising.
        is_grads_batched (bool, default False): the first dim of each grad_output is a batch: one gradient per
            row, stacked (create_graph=False only).
        materialize_grads (bool, default False): zeros instead of None for unused inputs (implies allow_unused).

    Returns:
        tuple of Tensors (or None for unused inputs), one per input, each of its input's shape.

    Raises:
        GradError: an input does not require grad, or is unused and allow_unused is False. Matches
        torch.autograd.grad.

    >>> import cnnlab
    >>> x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    >>> cnnlab.autograd.grad((x * x).sum(), x)
    (tensor([2., 4.]),)
    >>> (g,) = cnnlab.autograd.grad((x * x * x).sum(), x, create_graph=True)
    >>> g, cnnlab.autograd.grad(g.sum(), x)
    (tensor([ 3., 12.], grad_fn=<AddBackward0>), (tensor([ 6., 12.]),))
    """
    if materialize_grads and allow_unused is False:
        raise GradError("grad: materialize_grads=True needs allow_unused to be True or not passed (PyTorch: "
                        "Expected allow_unused to be True or not passed when materialize_grads=True). Got "
                        "allow_unused=False.")
    allow_unused = bool(allow_unused) or bool(materialize_grads)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise GradError(f"grad: every input must require grad (PyTorch: One of the differentiated Tensors does "
                            f"not require grad). Got inputs[{i}] with requires_grad=False.")
    retain = create_graph if retain_graph is None else bool(retain_graph)
    if is_grads_batched:
        return _batched(outputs, inputs, grad_outputs, retain, create_graph, allow_unused, materialize_grads)
    grads = _grad_arrays(outputs, grad_outputs, "grad")
    capture = {id(t): None for t in inputs}
    if create_graph:
        graph.backward_graph(outputs, _graph_grads(grads, grad_outputs), retain, capture)
    else:
        total = {}
        for k, (out, (g, _)) in enumerate(zip(outputs, grads)):
            part = dict(capture)
            run_backward(out, g, retain_graph=retain or k < len(outputs) - 1, capture=part)
            for key, value in part.items():
                if value is not None:
                    total[key] = value if total.get(key) is None else total[key] + value
        capture = {key: None if total.get(key) is None else Tensor._wrap(np.asarray(total[key])) for key in capture}
    result = []
    for i, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None:
            if not allow_unused:
                raise GradError(f"grad: inputs[{i}] was not used to compute the outputs; pass allow_unused=True to "
                                "get None for it (PyTorch: One of the differentiated Tensors appears to not have "
                                "been used in the graph).")
            result.append(Tensor._wrap(np.zeros_like(t._data)) if materialize_grads else None)
        elif create_graph:
            result.append(graph.cast(g, t._data.dtype))
        else:
            result.append(Tensor._wrap(np.array(g._data, dtype=t._data.dtype, copy=True)))
    return tuple(result)


def _batched(outputs, inputs, grad_outputs, retain, create_graph, allow_unused, materialize_grads):
    """grad with is_grads_batched: one grad call per row of the grad_outputs, the results stacked."""
    if create_graph:
        raise GradError("grad: is_grads_batched=True is supported only with create_graph=False; call grad once per "
                        "row of grad_outputs instead. Got is_grads_batched=True, create_graph=True.")
    rows = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or ())
    if len(rows) != len(outputs):
        raise GradError(f"grad: is_grads_batched=True needs one batched grad_output per output. Got "
                        f"{len(rows)} grad_outputs for {len(outputs)} outputs.")
    arrays = [np.asarray(r._data if isinstance(r, Tensor) else r) for r in rows]
    n = arrays[0].shape[0] if arrays and arrays[0].ndim else 0
    if any(a.ndim == 0 or a.shape[0] != n for a in arrays):
        raise GradError("grad: with is_grads_batched=True every grad_output needs the same batch size in dim 0. "
                        f"Got shapes {[shape_str(a.shape) for a in arrays]}.")
    per_row = [grad(outputs, inputs, [Tensor._wrap(a[j]) for a in arrays], retain_graph=retain or j < n - 1,
                    allow_unused=allow_unused, materialize_grads=materialize_grads) for j in range(n)]
    return tuple(None if per_row and per_row[0][i] is None else
                 Tensor._wrap(np.stack([r[i]._data for r in per_row]) if per_row else
                              np.zeros((0,) + t._data.shape, t._data.dtype))
                 for i, t in enumerate(inputs))


def Variable(data, requires_grad=False, volatile=False):
    """The pre-0.4 PyTorch wrapper, kept for old tutorials: a tensor sharing data's memory, requiring grad if
    asked. Matches torch.autograd.Variable."""
    arr = data._data if isinstance(data, Tensor) else np.asarray(data)
    return Tensor._wrap(arr, requires_grad)
