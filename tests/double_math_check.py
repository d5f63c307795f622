"""Higher-order comparisons with PyTorch for the math ops' create_graph formulas (tests/test_double_math*.py).

`derivatives_match(fn, *arrays, order=2)` builds, in both libraries, loss = sum_k (out_k * g_k).sum() with
random upstream gradients g_k that require grad, takes the input gradients with create_graph=True, and then
order - 1 more times the gradient of (previous gradients . v) (v random) with respect to every input and every
g_k, comparing every level (float64) with PyTorch's.
"""
import numpy as np
import pytest

import cnnlab

torch = pytest.importorskip("torch")


def rand(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def pos(*shape, seed=0):
    return rand(*shape, seed=seed, low=0.5, high=1.5)


class _Lib:
    def __init__(self, top):
        self.torch = top
        self.F = top.nn.functional
        self.tensor = (lambda a, rg: top.tensor(a, requires_grad=rg))
        self.grad = top.autograd.grad


CN, PT = _Lib(cnnlab), _Lib(torch)


def _np(t):
    t = t.detach()
    return t.numpy(force=True) if isinstance(t, torch.Tensor) else t.numpy()


def _levels(lib, fn, arrays, order, seed):
    xs = [lib.tensor(a, a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in arrays]
    leaves = [x for x in xs if getattr(x, "requires_grad", False)]
    outs = fn(lib, *xs)
    outs = [o for o in (outs if isinstance(outs, (tuple, list)) else (outs,)) if getattr(o, "requires_grad", False)]
    rng = np.random.default_rng(seed + 1)
    gs = [lib.tensor(rng.standard_normal(tuple(o.shape)), True) for o in outs]
    loss = sum((o * g).sum() for o, g in zip(outs, gs))
    level = lib.grad(loss, leaves, create_graph=True, allow_unused=True)
    levels = [level]
    wrt = leaves + gs
    for k in range(order - 1):
        vs = [rng.standard_normal(tuple(d.shape)) if d is not None else None for d in level]
        terms = [(d * lib.tensor(v, False)).sum() for d, v in zip(level, vs) if d is not None and d.requires_grad]
        if not terms:
            levels.append([None] * len(wrt))
            break
        level = lib.grad(sum(terms[1:], terms[0]), wrt, create_graph=k < order - 2, allow_unused=True)
        levels.append(level)
    shapes = [tuple(x.shape) for x in wrt]
    return [[None if d is None else _np(d) for d in lv] for lv in levels], shapes


def derivatives_match(fn, *arrays, torch_fn=None, order=2, rtol=1e-7, atol=1e-9, seed=0, torch_nan=None):
    """Assert cnnlab's derivatives of fn up to `order` equal PyTorch's (see the module docstring).
    torch_nan: where PyTorch's derivative is nan (a formula of its that leaks a masked inf), cnnlab's must be
    this value instead (cnnlab's formulas make masked branches safe)."""
    cn, shapes = _levels(CN, fn, arrays, order, seed)
    pt, _ = _levels(PT, torch_fn or fn, arrays, order, seed)
    assert len(cn) == len(pt), f"cnnlab reached order {len(cn)}, torch {len(pt)}"
    for k, (c_level, p_level) in enumerate(zip(cn, pt), start=1):
        assert len(c_level) == len(p_level)
        for i, (c, p) in enumerate(zip(c_level, p_level)):
            c = np.zeros(shapes[i]) if c is None else c  # unused: None in one library, zeros in the other
            p = np.zeros(shapes[i]) if p is None else p
            if torch_nan is not None:
                p = np.where(np.isnan(p), torch_nan, p)
            np.testing.assert_allclose(c, p, rtol=rtol, atol=atol,
                                       err_msg=f"order-{k} derivative w.r.t. input {i} differs from torch")
