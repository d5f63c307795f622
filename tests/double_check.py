"""Second- and third-order comparisons with PyTorch for the shape, indexing and sorting ops' formulas.

`check2(fn, *arrays)` is oracle.check_higher_order with a cube around the op by default: loss =
sum_k (out_k ** power * g_k).sum() with g_k random tensors that require grad. The shape and indexing ops are
linear, so with power=1 (oracle.check's second_order mode) their second derivative lives only in the g_k direction
(d/dg of J^T g . v = J v); power > 1 puts a nonlinearity around the op, so that the x direction passes through the
formula and its own derivative too, and order=3 differentiates once more.
"""
from oracle import check_higher_order


def check2(fn, *arrays, torch_fn=None, power=3, order=2, rtol=1e-7, atol=1e-9, seed=0):
    """Assert cnnlab's outputs, first, second (and with order=3 third) derivatives of fn equal PyTorch's."""
    return check_higher_order(fn, *arrays, torch_fn=torch_fn, power=power, order=order, rtol=rtol, atol=atol,
                              seed=seed)
