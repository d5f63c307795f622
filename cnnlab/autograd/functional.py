"""Higher-level autograd on whole functions: vjp, jvp, jacobian, hessian, vhp, hvp. Matches
torch.autograd.functional: the same signatures, results, tuple-or-single conventions and errors (GradError where
PyTorch raises RuntimeError; it is a RuntimeError too).

Everything is built from `autograd.grad`; the products that need forward mode (jvp, hvp, a Jacobian by
columns) use the double-backward trick, as PyTorch's module does: the gradient of a vjp is linear in the
upstream gradient u, so differentiating `vjp(u)` with respect to u in the direction v gives J v. This needs
create_graph=True to work for every op on the way (see docs/autograd.md).
"""
from ..creation import zeros_like
from ..errors import ArgumentError, GradError
from ..grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from ..ops.shape import stack
from .functional_args import (as_tuple, check_requires_grad, check_v, default_v_error, finish, grad_or_none, prepare,
                              scalar_output, unpack, zeros_for_none)

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- the public functions ------------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Jacobian product v^T J of func at inputs (one backward pass). Matches
    torch.autograd.functional.vjp.

    Args:
        func: takes Tensors, returns a Tensor or a tuple of Tensors.
        inputs (Tensor or tuple of Tensors): the point.
        v (Tensor or tuple, default None): one per output, of its shape; may be left out when func returns a
            single one-element Tensor.
        create_graph (bool, default False): make the output and the product differentiable.
        strict (bool, default False): raise when an output does not depend on some input, instead of giving
            zeros for it.

    Returns:
        (func's output, vjp): vjp has the inputs' shapes (a tuple when inputs is a tuple).

    Raises:
        GradError: v missing or of the wrong shape; with strict, an independent input.

    >>> import cnnlab
    >>> from cnnlab.autograd.functional import vjp
    >>> out, g = vjp(lambda x: (x * x).sum(dim=1), cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]), cnnlab.ones(2))
    >>> out, g
    (tensor([ 5., 25.]), tensor([[2., 4.],
            [6., 8.]]))
    """
    with enable_grad():
        is_inputs_tuple, inputs = as_tuple(inputs, "inputs", "vjp")
        inputs = prepare(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            v = prepare(as_tuple(v, "v", "vjp")[1], create_graph, need_graph=False)
            check_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise default_v_error("user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = grad_or_none(outputs, inputs, v, create_graph=create_graph)
        result = zeros_for_none(grads, inputs, strict, create_graph, "back")
    return (unpack(finish(outputs, create_graph), is_outputs_tuple),
            unpack(finish(result, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Jacobian-vector product J v of func at inputs, by the double-backward trick (two backward passes,
    the second through the first). Matches torch.autograd.functional.jvp.

    Args:
        func, inputs, create_graph, strict: as in vjp.
        v (Tensor or tuple, default None): one per input, of its shape; may be left out when there is a single
            one-element input.

    Returns:
        (func's output, jvp): jvp has the outputs' shapes.

    Raises:
        GradError: v missing or of the wrong shape; an op on the way without a double backward; with strict,
        an independent input.

    >>> import cnnlab
    >>> from cnnlab.autograd.functional import jvp
    >>> jvp(lambda x: x * x, cnnlab.tensor([1.0, 2.0]), cnnlab.tensor([1.0, 0.5]))[1]
    tensor([2., 2.])
    """
    with enable_grad():
        is_inputs_tuple, inputs = as_tuple(inputs, "inputs", "jvp")
        inputs = prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            v = prepare(as_tuple(v, "v", "jvp")[1], create_graph, need_graph=False)
            check_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise default_v_error("input to the user-provided function is")
        is_outputs_tuple, outputs = as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        check_requires_grad(outputs, "outputs", strict)
    result = _double_backward_trick(outputs, inputs, v, outputs, create_graph, strict, "back_trick",
                                    lambda grad_inputs: check_requires_grad(grad_inputs, "grad_inputs", strict))
    return (unpack(finish(outputs, create_graph), is_outputs_tuple),
            unpack(finish(result, create_graph), is_outputs_tuple))


def _double_backward_trick(ys, xs, v, like, create_graph, strict, stage, check_first):
    """J v for ys = f(xs) from reverse mode alone: the vjp u -> J^T u is linear in u, so its gradient with respect
    to u along v is J v. u's value never reaches the result (zeros keep inf/NaN out); `like` gives u's shapes
    (ys may hold None) and the zeros for an independent entry."""
    with enable_grad():
        u = tuple(zeros_like(t, requires_grad=True) for t in like)
        vjp_of_u = grad_or_none(ys, xs, u, create_graph=True)
        check_first(vjp_of_u)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = grad_or_none(vjp_of_u, u, v, create_graph=create_graph)
        return zeros_for_none(grads, like, strict, create_graph, stage)


def _basis_rows(out):
    """The one-hot upstream gradients of out, one per element in C order (row j of the identity)."""
    flat = zeros_like(out).reshape(-1)
    for j in range(out.nelement()):
        e = flat.clone()
        e[j] = 1
        yield e.reshape(out.shape)


def _jacobian_by_rows(outputs, inputs, create_graph, strict):
    """Reverse mode: one backward pass per output element; jac[i][k] has shape out_i.shape + in_k.shape."""
    jac = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        for e in _basis_rows(out):
            grads = grad_or_none((out,), inputs, (e,), create_graph=create_graph, retain_graph=True)
            for k, g in enumerate(grads):
                if g is None:
                    if strict:
                        raise GradError(f"Output {i} of the user-provided function is independent of input {k}. "
                                        "This is not allowed in strict mode.")
                    g = zeros_like(inputs[k])
                elif strict and create_graph and not g.requires_grad:
                    raise GradError(f"The jacobian of the user-provided function is independent of input {k}. "
                                    "This is not allowed in strict mode when create_graph=True.")
                rows[k].append(g)
        jac.append(tuple(_stack_as(r, out.shape + inputs[k].shape, inputs[k]) for k, r in enumerate(rows)))
    return tuple(jac)


def _stack_as(parts, shape, like):
    if not parts:  # an output without elements
        return zeros_like(like).reshape(-1)[:0].reshape(shape)
    return stack(parts, dim=0).view(shape)


def _jacobian_by_columns(func, inputs):
    """Forward mode by the double-backward trick: one jvp per input element; jac[i][k] as above."""
    is_outputs_tuple, columns = None, []
    for k, x in enumerate(inputs):
        for e in _basis_rows(x):
            v = tuple(e if m == k else zeros_like(y) for m, y in enumerate(inputs))
            out, col = jvp(func, inputs, v)
            is_outputs_tuple = isinstance(out, tuple)
            columns.append((k, col if is_outputs_tuple else (col,), out if is_outputs_tuple else (out,)))
    outs = columns[0][2] if columns else ()
    jac = []
    for i, out in enumerate(outs):
        per_input = []
        for k, x in enumerate(inputs):
            cols = [c[1][i] for c in columns if c[0] == k]
            # cols[m] is d out_i / d x_k[m]: stack on the last dim, then unflatten it into x_k's shape
            per_input.append(_stack_as(cols, x.shape + out.shape, x).permute(
                *range(x.dim(), x.dim() + out.dim()), *range(x.dim())).contiguous())
        jac.append(per_input)
    return is_outputs_tuple, jac  # lists, as PyTorch's forward mode gives them


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs. Matches torch.autograd.functional.jacobian.

    Args:
        func, inputs, create_graph, strict: as in vjp.
        vectorize (bool, default False): accepted for PyTorch's code; cnnlab has no vmap, so the rows (or
            columns) are computed one pass at a time either way (same values). As in PyTorch, it cannot be
            combined with strict.
        strategy (str, default "reverse-mode"): "reverse-mode" (one backward pass per output element) or
            "forward-mode" (one double-backward jvp per input element; needs vectorize=True, as PyTorch).

    Returns:
        jac[i][j] of shape outputs[i].shape + inputs[j].shape, unpacked to a tuple or a single Tensor where
        func's output or the inputs are single.

    Raises:
        ArgumentError: an unknown strategy; GradError: strict with vectorize or forward mode, or an independent
        input under strict; NotImplementedError: forward mode with create_graph or without vectorize (PyTorch's).

    >>> import cnnlab
    >>> from cnnlab.autograd.functional import jacobian
    >>> jacobian(lambda x: x * x, cnnlab.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ArgumentError('jacobian: strategy must be either "forward-mode" or "reverse-mode". Hint: If your '
                            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                            f'Otherwise, prefer to use "reverse-mode". Got strategy={strategy!r}.')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise GradError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
                            'not supported together (yet). Please either set `strict=False` or '
                            '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                                      "implemented for `vectorize=True`.")
        is_inputs_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
        is_outputs_tuple, jac = _jacobian_by_columns(func, inputs)
        return unpack(jac, (is_outputs_tuple, is_inputs_tuple))
    with enable_grad():
        is_inputs_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
        inputs = prepare(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise GradError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                            "supported together. Please either set `strict=False` or `vectorize=False`.")
        jac = _jacobian_by_rows(outputs, inputs, create_graph, strict)
        return unpack(finish(jac, create_graph), (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient. Matches torch.autograd.functional.hessian.

    Args:
        func: takes Tensors, returns a Tensor with one element.
        inputs, create_graph, strict, vectorize: as in jacobian.
        outer_jacobian_strategy (str, default "reverse-mode"): the strategy of the outer Jacobian.

    Returns:
        H[i][j] of shape inputs[i].shape + inputs[j].shape (a single Tensor for a single input).

    >>> import cnnlab
    >>> from cnnlab.autograd.functional import hessian
    >>> hessian(lambda x: (x * x * x).sum(), cnnlab.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    is_inputs_tuple, inputs = as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ArgumentError('hessian: outer_jacobian_strategy must be either "forward-mode" or "reverse-mode". '
                            f"Got outer_jacobian_strategy={outer_jacobian_strategy!r}.")

    def scalar_func(*inp):
        return scalar_output(func(*inp), "hessian", strict)[0].reshape(())

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(scalar_func, inp, create_graph=True)
        check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _hessian_products_setup(func, inputs, v, create_graph, strict, fn_name):
    """What vhp and hvp share: the prepared inputs and v, func's output and its gradient (with a graph)."""
    is_inputs_tuple, inputs = as_tuple(inputs, "inputs", fn_name)
    inputs = prepare(inputs, create_graph, need_graph=True)
    if v is not None:
        v = prepare(as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
        check_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].nelement() != 1:
        raise default_v_error("input to the user-provided function is")
    outputs = scalar_output(func(*inputs), fn_name, strict)
    jac = grad_or_none(outputs, inputs, create_graph=True)
    check_requires_grad(jac, "jacobian", strict)
    return is_inputs_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Hessian product v^T H of a scalar function (two backward passes). Matches
    torch.autograd.functional.vhp.

    Args:
        func: takes Tensors, returns a Tensor with one element.
        inputs, create_graph, strict: as in vjp.
        v (Tensor or tuple, default None): one per input, of its shape.

    Returns:
        (func's output, vhp): vhp has the inputs' shapes.

    >>> import cnnlab
    >>> from cnnlab.autograd.functional import vhp
    >>> vhp(lambda x: (x * x * x).sum(), cnnlab.tensor([1.0, 2.0]), cnnlab.tensor([1.0, 1.0]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _hessian_products_setup(func, inputs, v, create_graph, strict,
                                                                           "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = grad_or_none(jac, inputs, v, create_graph=create_graph)
        result = zeros_for_none(grads, inputs, strict, create_graph, "double_back")
    return finish(outputs, create_graph)[0], unpack(finish(result, create_graph), is_inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Hessian-vector product H v of a scalar function, by the double-backward trick on its gradient
    (equal to vhp when the Hessian is symmetric, and slower). Matches torch.autograd.functional.hvp.

    Args, Returns: as in vhp.

    >>> import cnnlab
    >>> from cnnlab.autograd.functional import hvp
    >>> hvp(lambda x, y: (x * x * y).sum(), (cnnlab.tensor([1.0]), cnnlab.tensor([2.0])),
    ...     (cnnlab.tensor([1.0]), cnnlab.tensor([0.0])))[1]
    (tensor([4.]), tensor([2.]))
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _hessian_products_setup(func, inputs, v, create_graph, strict,
                                                                           "hvp")
    result = _double_backward_trick(jac, inputs, v, inputs, create_graph, strict, "double_back_trick",
                                    lambda _: check_requires_grad(jac, "hessian", strict))
    return finish(outputs, create_graph)[0], unpack(finish(result, create_graph), is_inputs_tuple)
