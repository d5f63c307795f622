"""gradgradcheck: second derivatives against finite differences of the first, as
torch.autograd.gradgradcheck.

It is gradcheck applied to the function (inputs, u) -> d(outputs . u)/d(inputs), the first-order gradient for
upstream gradients u computed with create_graph=True: its Jacobian with respect to the inputs is the Hessian
part, the one with respect to u checks that the backward formula is the derivative's transpose (and is linear).
"""
import numpy as np

from ..grad_mode import enable_grad
from ..random import Generator, rng
from ..tensor import Tensor
from .api import grad as _grad
from .finite_differences import gradcheck


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable(outputs):
    return tuple(o for o in _as_tuple(outputs) if isinstance(o, Tensor) and o.requires_grad)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False, seed=None):
    """Check the gradients of func's gradients at inputs: gradcheck on the first-order gradient (computed with
    create_graph=True) as a function of the inputs and of the upstream gradients. Use float64 inputs. Matches
    torch.autograd.gradgradcheck.

    Args:
        func: takes the inputs, returns a tensor or a tuple of tensors.
        inputs (Tensor or tuple): the point; tensors with requires_grad=True are checked.
        grad_outputs (Tensor or tuple, default None): the upstream gradients, one per differentiable output;
            by default uniform in [-1, 1), requiring grad.
        eps (float, default 1e-6), atol (float, default 1e-5), rtol (float, default 1e-3), raise_exception
            (bool, default True): as in gradcheck.
        seed (int, default None): a cnnlab extension: the seed of the default grad_outputs (else the default
            generator draws them).
        gen_non_contig_grad_outputs, nondet_tol, check_undefined_grad, check_grad_dtypes, check_batched_grad,
        fast_mode, masked: accepted and ignored (cnnlab's results do not depend on memory layout, are
        deterministic and have no batched or sparse path). check_fwd_over_rev: cnnlab has no forward mode,
        so only reverse-over-reverse is checked.

    Returns:
        True when the second derivatives agree (else False, or GradcheckError).

    Raises:
        GradcheckError: a mismatch (with raise_exception); GradError: an op on the way has no double backward.

    >>> import cnnlab
    >>> from cnnlab.autograd import gradgradcheck
    >>> x = cnnlab.randn(3, dtype=cnnlab.float64, requires_grad=True)
    >>> gradgradcheck(lambda t: t * t * t, (x,))
    True
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise ValueError("gradgradcheck: at least one of check_fwd_over_rev or check_rev_over_rev must be True. "
                         f"Got check_fwd_over_rev={check_fwd_over_rev}, check_rev_over_rev={check_rev_over_rev}.")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        draw = rng(Generator().manual_seed(seed) if seed is not None else None)
        grad_outputs = tuple(Tensor._wrap(draw.uniform(-1, 1, tuple(o.shape)).astype(
            o._data.dtype if o.is_floating_point() else np.float64), True) for o in _differentiable(func(*inputs)))
    grad_outputs = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,)
    n_out = len(grad_outputs)
    diff_inputs = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}
    if not diff_inputs:
        raise ValueError("gradgradcheck: expected at least one input tensor to require gradient, but none of "
                         "them have requires_grad=True.")

    def first_order(*args):
        with enable_grad():
            xs, us = args[:-n_out], args[-n_out:]
            outputs = _differentiable(func(*xs))
            grads = _grad(outputs, [x for i, x in enumerate(xs) if i in diff_inputs], list(us),
                          create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_order, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
