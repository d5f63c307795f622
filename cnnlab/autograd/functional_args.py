"""The argument handling and checks behind cnnlab.autograd.functional: tuples in and out, fresh input tensors,
v's shapes, strict mode's refusals, in PyTorch's words (GradError where PyTorch raises RuntimeError)."""
from ..creation import zeros_like
from ..errors import GradError
from ..tensor import Tensor
from .api import grad


# ---- tuples in, tuples out -----------------------------------------------------------------------------
def as_tuple(value, arg_name, fn_name):
    """(was it a tuple, the tuple of Tensors). Only a tuple counts as several, as in PyTorch."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, el in enumerate(values):
        if not isinstance(el, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where} has type {type(el)}.")
    return is_tuple, values


def unpack(res, to_unpack):
    """Undo as_tuple on a result: to_unpack is one flag, or (outer flag, inner flag) for a nested result."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        return res if to_unpack[0] else res[0]
    return res if to_unpack else res[0]


def prepare(inputs, create_graph, need_graph):
    """Fresh tensors for the inputs, so that the function's own captured copies are told apart from them: a
    differentiable view when the caller wants gradients to reach the originals, else a detached leaf."""
    if create_graph:
        return tuple(x.view_as(x) if x.requires_grad else x.detach().requires_grad_(need_graph) for x in inputs)
    return tuple(x.detach().requires_grad_(need_graph) for x in inputs)


def finish(values, create_graph):
    """Without create_graph the results carry no history (nested tuples too)."""
    if create_graph:
        return values
    return tuple(v.detach() if isinstance(v, Tensor) else finish(v, create_graph) for v in values)


def check_v(v, other, other_is_tuple):
    if len(v) != len(other):
        if other_is_tuple:
            raise GradError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise GradError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.size() != b.size():
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise GradError(f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}.")


_STRICT_MESSAGES = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs must be "
               "computed in a differentiable manner from the input when running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the user-provided "
                   "function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with respect "
                "to input {i} is independent of the input. This is not allowed in strict mode. You should ensure "
                "that your function is twice differentiable and that the jacobian depends on the inputs (this "
                "would be violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent of the input. "
               "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
               "and that the hessian depends on the inputs.",
}


def check_requires_grad(values, kind, strict):
    if not strict:
        return
    for i, t in enumerate(values):
        if t is None:
            raise GradError(f"The output of the user-provided function is independent of input {i}. This is not "
                            "allowed in strict mode.")
        if not t.requires_grad:
            raise GradError(_STRICT_MESSAGES[kind].format(i=i))


def grad_or_none(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None in outputs allowed); None for unused inputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)


_FILL_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in "
            "strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def zeros_for_none(grads, refs, strict, create_graph, stage):
    """Replace a None gradient by zeros of its reference's shape (strict: raise instead)."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise GradError(_FILL_MESSAGES[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise GradError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                            "allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def default_v_error(of):
    return GradError(f"The vector v can only be None if the {of} a single Tensor with a single element.")


def scalar_output(out, fn_name, strict):
    is_tuple, outs = as_tuple(out, "outputs of the user-provided function", fn_name)
    check_requires_grad(outs, "outputs", strict)
    if is_tuple:
        raise GradError(f"The function given to {fn_name} should return a single Tensor")
    if outs[0].nelement() != 1:
        raise GradError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return outs
