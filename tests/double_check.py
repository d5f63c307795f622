"""Second- and third-order comparisons with PyTorch for the shape, indexing and sorting ops' formulas.

`check2(fn, *arrays)` (fn(lib, *tensors) as in oracle.check) builds, in both libraries,
loss = sum_k (out_k ** power * g_k).sum() with g_k random tensors that require grad, takes grad = d loss / d inputs
with create_graph=True, and compares the gradient of (grad . v) (v random) with respect to every input and every
g_k. The shape and indexing ops are linear, so with power=1 (oracle.check's second_order mode) their second
derivative lives only in the g_k direction (d/dg of J^T g . v = J v); power > 1 puts a nonlinearity around the op,
so that the x direction passes through the formula and its own derivative too, and order=3 differentiates once
more.
"""
import numpy as np
import pytest

from oracle import CN, PT

torch = pytest.importorskip("torch")


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _np(t):
    return None if t is None else t.detach().numpy()


def _power(o, n):
    """o ** n as a product (Mul only: the test of one family should not lean on pow's formulas)."""
    out = o
    for _ in range(n - 1):
        out = out * o
    return out


def _run(lib, fn, arrays, power, order, seed):
    """[first-order grads, second-order grads, third-order grads] as arrays (None where unused)."""
    tensor, grad = lib.tensor, lib.torch.autograd.grad
    xs = [tensor(a, a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in arrays]
    leaves = [x for x in xs if getattr(x, "requires_grad", False)]
    outs = [o for o in _as_tuple(fn(lib, *xs)) if getattr(o, "requires_grad", False)]
    rng = np.random.default_rng(seed + 1)
    gs = [tensor(rng.standard_normal(tuple(o.shape)), True) for o in outs]
    loss = sum((_power(o, power) * g).sum() for o, g in zip(outs, gs))
    first = grad(loss, leaves, create_graph=True, allow_unused=True)
    results = [[_np(f) for f in first]]
    wrt = leaves + gs
    level = first
    for k in range(order - 1):
        vs = [tensor(rng.standard_normal(tuple(x.shape)), False) for x in (leaves if k == 0 else wrt)]
        terms = [(f * v).sum() for f, v in zip(level, vs) if f is not None and f.requires_grad]
        if not terms:
            results.append([None] * len(wrt))
            break
        level = grad(sum(terms), wrt, create_graph=k < order - 2, allow_unused=True)
        results.append([_np(f) for f in level])
    return results, [tuple(x.shape) for x in wrt]


def check2(fn, *arrays, torch_fn=None, power=3, order=2, rtol=1e-7, atol=1e-9, seed=0):
    """Assert cnnlab's first, second (and with order=3 third) derivatives of fn equal PyTorch's (float64)."""
    cn, shapes = _run(CN, fn, arrays, power, order, seed)
    pt, _ = _run(PT, torch_fn or fn, arrays, power, order, seed)
    assert len(cn) == len(pt), f"cnnlab reached order {len(cn)}, torch {len(pt)}"
    for k, (c_level, p_level) in enumerate(zip(cn, pt), start=1):
        for i, (c, p) in enumerate(zip(c_level, p_level)):
            c = np.zeros(shapes[i]) if c is None else c  # an unused input: None in one library, zeros in the other
            p = np.zeros(shapes[i]) if p is None else p
            np.testing.assert_allclose(c, p, rtol=rtol, atol=atol,
                                       err_msg=f"order-{k} derivative w.r.t. input {i} differs from torch")
    return cn
