"""Higher-order comparisons with PyTorch for the math ops' create_graph formulas (tests/test_double_math*.py).

`derivatives_match(fn, *arrays, order=2)` is oracle.check_higher_order on the op itself (power 1): the math ops
are nonlinear, so their input direction is reached without a cube around them. torch_nan covers PyTorch's
formulas that leak a masked inf into a NaN.
"""
from oracle import check_higher_order, rand


def pos(*shape, seed=0):
    """Positive test data away from zero (log, sqrt, pow's base, division)."""
    return rand(*shape, seed=seed, low=0.5, high=1.5)


def derivatives_match(fn, *arrays, torch_fn=None, order=2, rtol=1e-7, atol=1e-9, seed=0, torch_nan=None):
    """Assert cnnlab's derivatives of fn up to `order` equal PyTorch's (float64).
    torch_nan: where PyTorch's derivative is nan (a formula of its that leaks a masked inf), cnnlab's must be
    this value instead (cnnlab's formulas make masked branches safe)."""
    return check_higher_order(fn, *arrays, torch_fn=torch_fn, order=order, rtol=rtol, atol=atol, seed=seed,
                              torch_nan=torch_nan)
