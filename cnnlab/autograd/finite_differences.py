"""gradcheck: autograd's Jacobian against central finite differences, as torch.autograd.gradcheck.
"""
import warnings

import numpy as np

from ..grad_mode import no_grad
from ..tensor import Tensor
from .api import grad


class GradcheckError(RuntimeError):
    """The analytical and numerical Jacobians differ (torch.autograd.gradcheck.GradcheckError)."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Check the gradients of func at inputs: for every input that requires grad, the Jacobian autograd gives
    (one backward pass per output element) against central differences (f(x + eps) - f(x - eps)) / (2 eps),
    elementwise within atol + rtol * |numerical|. Use float64 inputs. Matches torch.autograd.gradcheck.

    Args:
        func: takes the inputs, returns a tensor or a tuple of tensors.
        inputs (Tensor or tuple): the point; tensors with requires_grad=True are checked.
        eps (float, default 1e-6), atol (float, default 1e-5), rtol (float, default 1e-3).
        raise_exception (bool, default True): raise GradcheckError on a mismatch instead of returning False.
        The other PyTorch options are accepted; forward-mode and batched checks are not run.

    Returns:
        True when the Jacobians agree (else False, or GradcheckError).

    >>> import cnnlab
    >>> from cnnlab.autograd import gradcheck
    >>> x = cnnlab.randn(3, dtype=cnnlab.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t.sigmoid() * t).sum(), (x,))
    True
    """
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input tensor to require gradient, but none of them "
                         "have requires_grad=True.")
    for i in checked:
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. This check "
                          "will likely fail if all the inputs are not of double precision floating point. ",
                          stacklevel=2)
    outputs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]

    def evaluate():
        with no_grad():
            return [o._data.astype(np.float64).reshape(-1)
                    for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]

    for k, out in enumerate(outputs):
        n_out = out.numel()
        for i in checked:
            x = inputs[i]
            analytical = np.zeros((x.numel(), n_out))
            if out.requires_grad:
                for j in range(n_out):
                    g = np.zeros(n_out, out._data.dtype)
                    g[j] = 1
                    (gx,) = grad(out, x, Tensor._wrap(g.reshape(out.shape)), retain_graph=True, allow_unused=True)
                    if gx is not None:
                        analytical[:, j] = gx._data.reshape(-1)
            numerical = np.zeros_like(analytical)
            data = x._data  # perturbed in place, one element at a time (rows in C order, as analytical's)
            for m, idx in enumerate(np.ndindex(data.shape)):
                old = data[idx]
                data[idx] = old + eps
                plus = evaluate()[k]
                data[idx] = old - eps
                minus = evaluate()[k]
                data[idx] = old
                numerical[m] = (plus - minus) / (2 * eps)
            if not np.allclose(analytical, numerical, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {k} with respect to input {i},\n"
                                     f"numerical:{numerical}\nanalytical:{analytical}\n")
    return True
