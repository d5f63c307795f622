"""PyTorch as the oracle: run one op in cnnlab and in PyTorch on the same inputs and compare everything.

The usual test is one line:

    check(lambda lib, x, w: lib.F.linear(x, w), rand(4, 3), rand(5, 3))

`fn(lib, *tensors)` is written once against the shared PyTorch names; `lib` is `CN` (cnnlab) or `PT`
(PyTorch), each with `.torch` (the top-level module) and `.F` (nn.functional). `check` feeds both libraries the
same float64 inputs, compares the outputs, backpropagates `(out * g).sum()` with a random `g` (an all-ones
gradient hides indexing bugs) and compares the gradient of every floating input. `gradcheck` compares
autograd with central finite differences and needs no PyTorch.

Second order (issue 18): `check(..., second_order=True)` also differentiates the gradient. With the upstream
gradients g requiring grad, it takes the input gradients with create_graph=True, then the gradient of
(grad . v) (v random) with respect to every input and every g, in both libraries, and compares them (a missing
double-backward formula raises, a wrong one differs). Where PyTorch has no second derivative, cnnlab must refuse
too (GradError) or give one that agrees with finite differences of its own gradient. `second_order=None` follows
SECOND_ORDER: on, unless the environment variable CNNLAB_TEST_SECOND_ORDER is 0. `check_higher_order` is the same
machinery on its own, with a third order, a power around the op and a stand-in for PyTorch's NaNs; the families'
double-backward helpers (tests/double_check.py, double_math_check.py, double_nn.py) are thin wrappers of it.
"""
import os
import types

import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as cnF

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

# whether check() also compares second derivatives when the test does not say: on (every op's double backward is
# compared with PyTorch's); CNNLAB_TEST_SECOND_ORDER=0 turns it off for a quicker first-order run
SECOND_ORDER = os.environ.get("CNNLAB_TEST_SECOND_ORDER", "1").strip().lower() not in ("", "0", "false", "no", "off")

CN = types.SimpleNamespace(torch=cnnlab, F=cnF, name="cnnlab", tensor=lambda a, rg: cnnlab.tensor(a, requires_grad=rg))
PT = types.SimpleNamespace(torch=torch, F=torch.nn.functional, name="torch",
                           tensor=lambda a, rg: torch.tensor(a, requires_grad=rg))


def rand(*shape, seed=0, low=-1.0, high=1.0, dtype=np.float64):
    """Reproducible uniform test data (float64 unless dtype says otherwise)."""
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def _as_tuple(out):
    if isinstance(out, (tuple, list)):
        return tuple(out)
    return (out,)


def _to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)  # force: a second derivative may be a ZeroTensor
    if isinstance(t, cnnlab.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def _run(lib, fn, arrays, grad_mask, seed, reuse=False):
    """fn's outputs and input gradients in lib. reuse: every input that requires grad is also used a second
    time in the loss ((t * t).sum() is added), so the op's gradient meets another one in the accumulator."""
    tensors = [lib.tensor(a, rg) if isinstance(a, np.ndarray) else a for a, rg in zip(arrays, grad_mask)]
    outs = _as_tuple(fn(lib, *tensors))
    grads = [None] * len(arrays)
    diff_outs = [o for o in outs if getattr(o, "requires_grad", False)]
    if any(grad_mask) and diff_outs:
        rng = np.random.default_rng(seed + 1)
        loss = None
        for o in diff_outs:
            g = lib.tensor(rng.standard_normal(tuple(o.shape)).astype(_to_numpy(o).dtype), False)
            term = (o * g).sum()
            loss = term if loss is None else loss + term
        if reuse:
            for t, rg in zip(tensors, grad_mask):
                if rg:
                    loss = loss + (t * t).sum()
        loss.backward()
        grads = [_to_numpy(t.grad) if rg and t.grad is not None else None for t, rg in zip(tensors, grad_mask)]
    return [_to_numpy(o) for o in outs], grads


def _zero_d(a):
    """A 0-d array holding a's first element (arrays only; an empty array stays as it is)."""
    if isinstance(a, np.ndarray) and a.size:
        return a.reshape(-1)[:1].reshape(())
    return a


def _compare_0d_and_reuse(fn, torch_fn, arrays, grad_mask, rtol, atol, seed):
    """The two graphs that once broke scalar autograd (issue 19): the inputs used twice in one graph, and every
    array input cut down to 0-d. Whatever PyTorch accepts there, cnnlab must accept and match."""
    variants = [("inputs used twice", list(arrays))]
    if any(isinstance(a, np.ndarray) and a.ndim for a in arrays):
        variants.append(("0-d inputs used twice", [_zero_d(a) for a in arrays]))
    for label, args in variants:
        try:
            pt = _run(PT, torch_fn or fn, args, grad_mask, seed, reuse=True)
        except Exception:  # noqa: BLE001 -- PyTorch refuses this variant (a dim out of range on 0-d, ...)
            continue
        cn = _run(CN, fn, args, grad_mask, seed, reuse=True)
        _compare(cn, pt, rtol, atol, label)


def _compare(cn, pt, rtol, atol, label=""):
    (cn_out, cn_grads), (pt_out, pt_grads) = cn, pt
    where = f" ({label})" if label else ""
    assert len(cn_out) == len(pt_out), f"cnnlab returned {len(cn_out)} outputs, torch {len(pt_out)}{where}"
    for i, (c, p) in enumerate(zip(cn_out, pt_out)):
        assert c.shape == p.shape, f"output {i}: cnnlab shape {c.shape} != torch shape {p.shape}{where}"
        assert c.dtype == p.dtype, f"output {i}: cnnlab dtype {c.dtype} != torch dtype {p.dtype}{where}"
        np.testing.assert_allclose(c, p, rtol=rtol, atol=atol, err_msg=f"output {i} differs from torch{where}")
    for i, (c, p) in enumerate(zip(cn_grads, pt_grads)):
        if p is None:
            assert c is None or not np.any(c), f"input {i}: cnnlab has a gradient where torch has none{where}"
            continue
        assert c is not None, f"input {i}: torch has a gradient, cnnlab has none{where}"
        np.testing.assert_allclose(c, p, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i} differs from torch{where}")


def _power(o, n):
    """o ** n as a product (Mul only: a family's test should not lean on pow's formulas)."""
    out = o
    for _ in range(n - 1):
        out = out * o
    return out


def derivative_levels(lib, fn, arrays, grad_mask, seed=0, power=1, order=2):
    """In lib: fn's outputs; the input gradients of sum_k (out_k ** power * g_k).sum() for random upstream
    gradients g_k that require grad, computed with create_graph=True (level 1); then order - 1 times the gradient
    of (previous level . v) (v random) with respect to every input that requires grad and every g_k (levels 2..).
    power > 1 puts a nonlinearity around a linear op, so that its formula's own derivative is reached in the input
    direction too. Returns (outputs, levels, shapes of inputs + g) as arrays (None: no gradient, i.e. zero)."""
    tensors = [lib.tensor(a, rg) if isinstance(a, np.ndarray) else a for a, rg in zip(arrays, grad_mask)]
    xs = [t for t, rg in zip(tensors, grad_mask) if rg]
    all_outs = _as_tuple(fn(lib, *tensors))
    outs = [o for o in all_outs if getattr(o, "requires_grad", False)]
    all_outs = [_to_numpy(o) for o in all_outs]
    if not xs or not outs:
        return all_outs, [], []
    rng = np.random.default_rng(seed + 1)  # the same g as the first-order run
    gs = [lib.tensor(rng.standard_normal(tuple(o.shape)).astype(_to_numpy(o).dtype), True) for o in outs]
    level = lib.torch.autograd.grad([_power(o, power) for o in outs], xs, gs, create_graph=True, allow_unused=True)
    levels, wrt = [level], xs + gs
    rng = np.random.default_rng(seed + 2)
    for k in range(order - 1):
        total = None
        for x, d in zip(xs if k == 0 else wrt, level):
            v = lib.tensor(rng.standard_normal(tuple(x.shape)).astype(_to_numpy(x).dtype), False)
            if d is not None and d.requires_grad:
                term = (d * v).sum()
                total = term if total is None else total + term
        if total is None:
            levels.append([None] * len(wrt))
            break
        if lib is PT and _has_error_node(total):
            raise RuntimeError("torch: the graph of the gradient holds an Error node (no double backward)")
        level = lib.torch.autograd.grad(total, wrt, create_graph=k < order - 2, allow_unused=True)
        levels.append(level)
    return (all_outs, [[None if d is None else _to_numpy(d) for d in lv] for lv in levels],
            [tuple(x.shape) for x in wrt])


def _has_error_node(t):
    """Whether PyTorch recorded an Error node (its mark for "not differentiable twice", e.g. a once_differentiable
    backward) on the way: PyTorch may then give None (zero) silently instead of raising."""
    stack, seen = [t.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        if fn.name() == "torch::autograd::Error":
            return True
        stack.extend(f for f, _ in fn.next_functions)
    return False


def _same_or_zero(c, p, rtol, atol, what, exact=True):
    """None and all-zeros are the same derivative (a graph connection that carries zero); exact=False lets the
    other side be zero to within atol (a rounding residue, e.g. det's 1x1 second derivative)."""
    if p is None or c is None:
        other = c if p is None else p
        if other is not None and not exact:
            np.testing.assert_allclose(other, 0.0, rtol=0, atol=atol, err_msg=f"{what}: nonzero where the other "
                                       f"library has none ({'cnnlab' if p is None else 'torch'} has one)")
            return
        assert other is None or not np.any(other), f"{what}: {'cnnlab' if p is None else 'torch'} has one, " \
            f"the other library none (nonzero where zero is expected)"
        return
    assert c.shape == p.shape, f"{what}: cnnlab shape {c.shape} != torch shape {p.shape}"
    np.testing.assert_allclose(c, p, rtol=rtol, atol=atol, err_msg=f"{what} differs from torch")


def _directional_second_order_check(fn, arrays, grad_mask, seed, power=1, directions=2):
    """cnnlab's second derivatives in the inputs' directions against central differences of its first-order
    gradients (the same g, float64 copies of the inputs): for random u, (grad(x + h u) - grad(x - h u)) / 2h . v
    must equal u . d(grad . v)/dx. Cheap at any size (two first-order runs per step), unlike gradgradcheck; a
    step that straddles a kink of a piecewise op misses, so three steps are tried. The upstream gradients'
    direction needs no check (the gradient is linear in g, d/dg is exact)."""
    wide = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in arrays]
    idx = [i for i, rg in enumerate(grad_mask) if rg]
    _, levels, _ = derivative_levels(CN, fn, wide, grad_mask, seed, power)
    if not levels:
        return
    second = levels[1]
    rng = np.random.default_rng(seed + 2)  # the v of derivative_levels
    vs = [rng.standard_normal(wide[i].shape) for i in idx]
    rng = np.random.default_rng(seed + 3)
    for _ in range(directions):
        us = [rng.standard_normal(wide[i].shape) for i in idx]
        analytic = sum(float((d * u).sum()) for d, u in zip(second, us) if d is not None)
        numerics = []
        for h in (1e-6, 1e-7, 1e-5):
            ends = []
            for sign in (1, -1):
                moved = list(wide)
                for i, u in zip(idx, us):
                    moved[i] = np.asarray(wide[i] + sign * h * u)  # a 0-d input stays an array
                ends.append(derivative_levels(CN, fn, moved, grad_mask, seed, power, order=1)[1][0])
            numerics.append(sum(float(((p - m) * v).sum()) for p, m, v in zip(*ends, vs) if p is not None) / (2 * h))
            if abs(numerics[-1] - analytic) <= 1e-4 * max(1.0, abs(numerics[-1]), abs(analytic)):
                break
        else:
            raise AssertionError(f"second order where torch has none: cnnlab's d(grad . v)/dx . u = {analytic} but "
                                 f"finite differences of its gradient give {numerics} (steps 1e-6, 1e-7, 1e-5)")


def _compare_higher_order(fn, torch_fn, arrays, grad_mask, rtol, atol, seed, power=1, order=2, torch_nan=None,
                          outputs=False, exact_zero=True):
    """PyTorch's derivatives up to `order`, or its refusal (then cnnlab's GradError, or second derivatives that
    agree with finite differences of cnnlab's gradient: the issue's "or do better"). torch_nan: where PyTorch's
    derivative is NaN (a formula of its that leaks a masked inf), cnnlab's must be this value instead."""
    try:
        pt_out, pt, _ = derivative_levels(PT, torch_fn or fn, arrays, grad_mask, seed, power, order)
    except RuntimeError as e:  # PyTorch has no double backward here: cnnlab refuses too, or does better and
        try:                   # its second derivatives then agree with finite differences
            derivative_levels(CN, fn, arrays, grad_mask, seed, power, order)
        except cnnlab.GradError:
            return f"torch refused: {e}"
        _directional_second_order_check(fn, arrays, grad_mask, seed, power)
        return f"torch refused, cnnlab's second derivatives checked by finite differences: {e}"
    try:
        cn_out, cn, _ = derivative_levels(CN, fn, arrays, grad_mask, seed, power, order)
    except cnnlab.GradError as e:
        raise AssertionError(f"order {order}: cnnlab raised where torch computes it: {e}") from e
    if outputs:
        _compare((cn_out, []), (pt_out, []), rtol, atol)
    assert len(cn) == len(pt), f"cnnlab reached order {len(cn)}, torch {len(pt)}"
    n_in = len(pt[0]) if pt else 0
    for k, (c_level, p_level) in enumerate(zip(cn, pt), start=1):
        for i, (c, p) in enumerate(zip(c_level, p_level)):
            if torch_nan is not None and p is not None:
                p = np.where(np.isnan(p), torch_nan, p)
            name = "second derivative d(grad . v)" if k == 2 else f"order-{k} derivative"
            what = (f"create_graph gradient of differentiable input {i}" if k == 1 else
                    f"{name}/d(input {i})" if i < n_in else f"{name}/d(upstream gradient of output {i - n_in})")
            _same_or_zero(c, p, rtol, atol, what, exact_zero)
    return None


def check_higher_order(fn, *arrays, torch_fn=None, grad=None, power=1, order=2, rtol=1e-7, atol=1e-9, seed=0,
                       torch_nan=None):
    """Assert fn's outputs and derivatives up to `order` (2 or 3) equal PyTorch's, float64 (see
    derivative_levels; fn, torch_fn and grad as in check). torch_nan: what cnnlab must give where PyTorch's
    derivative is NaN. Where PyTorch refuses, cnnlab must raise GradError or agree with finite differences."""
    grad_mask = grad if grad is not None else [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    return _compare_higher_order(fn, torch_fn, arrays, grad_mask, rtol, atol, seed, power, order, torch_nan,
                                 outputs=True, exact_zero=False)


def check(fn, *arrays, torch_fn=None, grad=None, rtol=1e-7, atol=1e-9, seed=0, variants=True, second_order=None):
    """Assert fn gives the same outputs and input gradients in cnnlab and PyTorch.

    Args:
        fn: fn(lib, *tensors) -> tensor or tuple of tensors (non-tensor outputs are compared as values).
        arrays: the inputs; NumPy arrays become tensors, anything else is passed as it is.
        torch_fn: PyTorch's side when its spelling differs (then fn is cnnlab's side).
        grad: which inputs require grad (default: every floating-point array).
        variants: also compare with every input used twice in the graph, and on 0-d cuts of the inputs
            wherever PyTorch accepts them (off only for ops whose result depends on more than the values,
            e.g. random ones).
        second_order: also compare second derivatives (see the module docstring): True, False, or None for
            SECOND_ORDER. Where PyTorch raises for them, cnnlab must raise GradError, or give second
            derivatives that agree with finite differences of its gradient.
    Returns the cnnlab outputs and gradients of the plain run, for further checks.
    """
    grad_mask = grad if grad is not None else [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    cn_out, cn_grads = _run(CN, fn, arrays, grad_mask, seed)
    pt_out, pt_grads = _run(PT, torch_fn or fn, arrays, grad_mask, seed)
    _compare((cn_out, cn_grads), (pt_out, pt_grads), rtol, atol)
    if variants:
        _compare_0d_and_reuse(fn, torch_fn, arrays, grad_mask, rtol, atol, seed)
    if SECOND_ORDER if second_order is None else second_order:
        _compare_higher_order(fn, torch_fn, arrays, grad_mask, rtol, atol, seed)
    return cn_out, cn_grads


def check_float32(fn, *arrays, torch_fn=None, rtol=1e-4, atol=1e-5, seed=0, second_order=None):
    """check() on float32 copies of the float64 inputs, at float32 tolerance; also asserts the outputs
    stay float32 (no silent promotion to float64)."""
    arrays32 = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in arrays]
    cn_out, _ = check(fn, *arrays32, torch_fn=torch_fn, rtol=rtol, atol=atol, seed=seed, second_order=second_order)
    return cn_out


def gradcheck(fn, *arrays, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0):
    """Compare cnnlab's autograd with central finite differences of (fn(*tensors) * g).sum(), float64.

    fn(*tensors) uses cnnlab only. Every floating array is perturbed element by element, so keep inputs small.
    """
    tensors = [cnnlab.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else
               (cnnlab.tensor(a) if isinstance(a, np.ndarray) else a) for a in arrays]
    out = _as_tuple(fn(*tensors))[0]
    g = np.random.default_rng(seed + 7).standard_normal(tuple(out.shape))
    (out * cnnlab.tensor(g)).sum().backward()
    for i, (t, a) in enumerate(zip(tensors, arrays)):
        if not (isinstance(t, cnnlab.Tensor) and t.requires_grad):
            continue
        numeric = np.zeros_like(a)
        base = a.copy()
        for idx in np.ndindex(a.shape):
            vals = []
            for step in (eps, -eps):
                pert = base.copy()
                pert[idx] += step
                args = [cnnlab.tensor(pert) if j == i else
                        (cnnlab.tensor(x._data) if isinstance(x, cnnlab.Tensor) else x)
                        for j, x in enumerate(tensors)]
                with cnnlab.no_grad():
                    vals.append(float((_as_tuple(fn(*args))[0].numpy() * g).sum()))
            numeric[idx] = (vals[0] - vals[1]) / (2 * eps)
        analytic = t.grad.numpy() if t.grad is not None else np.zeros_like(a)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"autograd gradient of input {i} differs from finite differences")
