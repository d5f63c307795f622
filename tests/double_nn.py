"""Second- and third-order gradient checks of one op against PyTorch (float64), for the nn families'
double-backward tests (test_double_activation/loss/norm).

For out = op(*inputs) and a random upstream g: grad = d(out . g)/d(inputs) with create_graph=True (g a leaf
that requires grad, multiplied in, so d/dg is checked through the formulas' dependence on grad), then the
gradient of (grad . v) (v random) with respect to every differentiable input AND g; with order=3, the gradient
of (that . u) again. Inputs a torch op does not differentiate in second order give zeros on both sides.
"""
import numpy as np
import torch

import cnnlab

RTOL, ATOL = 1e-7, 1e-9


def _grad(lib, out, wrt, create_graph):
    """d(out)/d(wrt) of a scalar out, as a list with zeros where out does not depend on an input (or does not
    require grad at all: an op whose gradient is constant)."""
    needs = [w for w in wrt if w.requires_grad]
    res = [None] * len(needs)
    if out.requires_grad:
        res = lib.autograd.grad(out, needs, create_graph=create_graph, allow_unused=True)
    it = iter(res)
    full = []
    for w in wrt:
        r = next(it) if w.requires_grad else None
        full.append(r if r is not None else lib.zeros_like(w))
    return full


def _to(lib, a, diff):
    return lib.tensor(a, requires_grad=diff)


def _as_np(t):
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else t.detach().numpy()  # ZeroTensors


def _close(name, a, b, rtol, atol):
    a, b = _as_np(a), _as_np(b)
    assert a.shape == b.shape, f"{name}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


def check_double(cl_fn, torch_fn, *inputs, diff=None, order=2, seed=0, rtol=RTOL, atol=ATOL):
    """Compare the 1st, 2nd (and with order=3 the 3rd) derivatives of cl_fn and torch_fn at inputs (NumPy
    arrays; diff[i] says whether input i is differentiated, default: every float array)."""
    if diff is None:
        diff = [np.asarray(a).dtype.kind == "f" for a in inputs]
    results = {}
    for lib, fn in ((cnnlab, cl_fn), (torch, torch_fn)):
        r = np.random.default_rng(seed)
        xs = [_to(lib, np.asarray(a), d) for a, d in zip(inputs, diff)]
        out = fn(*xs)
        g = _to(lib, r.standard_normal(tuple(out.shape)), True)
        wrt = [x for x, d in zip(xs, diff) if d]
        first = _grad(lib, (out * g).sum(), wrt, True)  # g in the graph: its derivative is checked too
        vs = [_to(lib, r.standard_normal(tuple(f.shape)), False) for f in first]
        s = sum((f * v).sum() for f, v in zip(first, vs))
        second = _grad(lib, s, wrt + [g], order > 2)
        stages = [out, *first, *second]
        if order > 2:
            us = [_to(lib, r.standard_normal(tuple(f.shape)), False) for f in second]
            s3 = sum((f * u).sum() for f, u in zip(second, us))
            stages += _grad(lib, s3, wrt + [g], False)
        results[lib] = stages
    for i, (a, b) in enumerate(zip(results[cnnlab], results[torch])):
        _close(f"stage {i}", a, b, rtol, atol)
