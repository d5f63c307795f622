"""Second- and third-order gradient checks of one op against PyTorch (float64), for the nn families'
double-backward tests (test_double_activation/loss/norm).

`check_double(cl_fn, torch_fn, *inputs)` is oracle.check_higher_order for ops written once per library
(F.gelu and torch's F.gelu): every input becomes a tensor, `diff` says which are differentiated.
"""
import numpy as np

from oracle import CN, check_higher_order

RTOL, ATOL = 1e-7, 1e-9


def check_double(cl_fn, torch_fn, *inputs, diff=None, order=2, seed=0, rtol=RTOL, atol=ATOL):
    """Compare the outputs and the 1st, 2nd (and with order=3 the 3rd) derivatives of cl_fn and torch_fn at
    inputs (NumPy arrays; diff[i] says whether input i is differentiated, default: every float array)."""
    inputs = [np.asarray(a) for a in inputs]
    if diff is None:
        diff = [a.dtype.kind == "f" for a in inputs]
    return check_higher_order(lambda lib, *xs: (cl_fn if lib is CN else torch_fn)(*xs), *inputs, grad=list(diff),
                              order=order, seed=seed, rtol=rtol, atol=atol)
