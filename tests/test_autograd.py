"""Autograd semantics against PyTorch: accumulation, retain_graph, shared subexpressions, grad modes, detach,
leaves and grad_fn, retain_grad, hooks, graph freeing, deep graphs, ownership of gradient arrays, errors."""
import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import cnnlab
from oracle import check, rand

torch = pytest.importorskip("torch")


def _pair(x, rg=True):
    return cnnlab.tensor(x, requires_grad=rg), torch.tensor(x, requires_grad=rg)


def test_gradients_accumulate_across_backward_calls():
    x = rand(3, seed=1)
    for lib_x in _pair(x):
        (lib_x * lib_x).sum().backward()
        (lib_x * 3).sum().backward()
    c, p = _pair(x)
    (c * c).sum().backward()
    (c * 3).sum().backward()
    (p * p).sum().backward()
    (p * 3).sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), p.grad.numpy())


def test_accumulation_keeps_the_grad_tensor_and_adds_in_place():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    held = g.numpy()
    (x * 3).sum().backward()
    assert x.grad is g and held.tolist() == [5.0, 5.0]  # PyTorch also accumulates into the same tensor


def test_retain_graph_allows_a_second_backward():
    x = rand(2, 3, seed=2)
    c, p = _pair(x)
    for t in (c, p):
        y = (t.exp() * t).sum()
        y.backward(retain_graph=True)
        y.backward()
    np.testing.assert_allclose(c.grad.numpy(), p.grad.numpy())


def test_second_backward_without_retain_graph_raises():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(cnnlab.GradError, match=r"backward: trying to backward through the graph a second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="second time"):  # PyTorch's exception type and wording
        y.backward()
    pt = torch.tensor([1.0, 2.0], requires_grad=True)
    py = (pt * pt).sum()
    py.backward()
    with pytest.raises(RuntimeError, match="second time"):
        py.backward()


def test_shared_subexpressions_sum_their_gradients():
    def fn(lib, x, w):
        h = x @ w  # used three times
        a = h * h
        b = h.exp().sum(1, keepdim=True)
        return a / b + h - x.sum() * h.mean()
    check(fn, rand(4, 3, seed=3), rand(3, 5, seed=4))


def test_same_tensor_twice_in_one_op():
    for fn in (lambda lib, x: x * x, lambda lib, x: x + x, lambda lib, x: x - x * 2, lambda lib, x: x / (x * x + 1),
               lambda lib, x: x @ x, lambda lib, x: lib.torch.cat([x, x, x]), lambda lib, x: lib.torch.stack([x, x]),
               lambda lib, x: lib.torch.maximum(x, x)):
        check(fn, rand(3, 3, seed=5))


def test_backward_with_explicit_gradient():
    x = rand(2, 3, seed=6)
    g = rand(2, 3, seed=7)
    c, p = _pair(x)
    (c * 2).exp().backward(cnnlab.tensor(g))
    (p * 2).exp().backward(torch.tensor(g))
    np.testing.assert_allclose(c.grad.numpy(), p.grad.numpy())
    c2 = cnnlab.tensor(x, requires_grad=True)
    (c2 * 2).exp().backward(g)  # a NumPy array works as well
    np.testing.assert_allclose(c2.grad.numpy(), p.grad.numpy())
    assert np.all(g == rand(2, 3, seed=7))  # the given gradient is not modified


def test_backward_from_a_single_element_tensor_that_is_not_0d():
    c, p = _pair(rand(3, seed=8))
    (c.sum(0, keepdim=True) * 2).backward()
    (p.sum(0, keepdim=True) * 2).backward()
    np.testing.assert_allclose(c.grad.numpy(), p.grad.numpy())


def test_backward_on_a_leaf():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    x.backward(cnnlab.tensor([3.0, 4.0]))
    assert x.grad.tolist() == [3.0, 4.0]


def test_backward_errors():
    x = cnnlab.ones(2, 3, requires_grad=True)
    with pytest.raises(cnnlab.GradError, match=r"backward: a gradient can be created implicitly only for a "
                                                r"single-value output; .* Got shape=\(2, 3\)\."):
        (x * 2).backward()
    with pytest.raises(RuntimeError):
        (torch.ones(2, 3, requires_grad=True) * 2).backward()
    with pytest.raises(cnnlab.GradError, match=r"backward: gradient must have the tensor's shape. Got "
                                                r"gradient.shape=\(3,\), tensor shape=\(2, 3\)\."):
        (x * 2).backward(cnnlab.ones(3))
    with cnnlab.no_grad():
        y = (x * 2).sum()
    with pytest.raises(cnnlab.GradError, match=r"backward: the tensor does not require grad and has no grad_fn, .*"
                                                r"no_grad\(\)"):
        y.backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_context_and_decorator():
    w = cnnlab.ones(3, requires_grad=True)
    with cnnlab.no_grad():
        assert not cnnlab.is_grad_enabled()
        y = w * 2
    assert cnnlab.is_grad_enabled() and not y.requires_grad and y.grad_fn is None and y.is_leaf

    @cnnlab.no_grad()
    def step(t):
        assert not cnnlab.is_grad_enabled()
        return t * 2

    assert not step(w).requires_grad and cnnlab.is_grad_enabled()
    with cnnlab.no_grad():
        with cnnlab.enable_grad():
            z = w * 2
        assert not cnnlab.is_grad_enabled()
    assert z.requires_grad and z.grad_fn is not None

    @cnnlab.enable_grad()
    def inner(t):
        return t * 3

    with cnnlab.no_grad():
        assert inner(w).requires_grad


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with cnnlab.no_grad():
            1 / 0
    assert cnnlab.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    w = cnnlab.ones(2, requires_grad=True)
    with cnnlab.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert cnnlab.is_grad_enabled()

    @cnnlab.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert cnnlab.is_grad_enabled()  # decorating does not switch the mode
    assert not f(w).requires_grad and cnnlab.is_grad_enabled()
    cnnlab.set_grad_enabled(False)
    try:
        assert not cnnlab.is_grad_enabled()
    finally:
        cnnlab.set_grad_enabled(True)
    with cnnlab.inference_mode():
        assert not (w * 2).requires_grad
    with cnnlab.inference_mode(False):
        assert (w * 2).requires_grad


def test_grad_mode_is_per_thread_like_torch():
    seen = []
    with cnnlab.no_grad():
        t = threading.Thread(target=lambda: seen.append(cnnlab.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_detach_and_data_leave_the_graph_and_share_memory():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 10.0  # shares memory with y, as in PyTorch
    assert y[0].item() == 10.0
    assert not x.data.requires_grad and np.shares_memory(x.data.numpy(), x.detach().numpy())
    x.data = cnnlab.tensor([5.0, 6.0])
    assert x.tolist() == [5.0, 6.0] and x.requires_grad and x.is_leaf
    (y.detach() * x).sum().backward()
    assert x.grad.tolist() == [10.0, 4.0]
    z = x * 1
    z.detach_()
    assert z.is_leaf and not z.requires_grad


def test_requires_grad_flag_rules():
    x = cnnlab.zeros(2)
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    x.requires_grad = False
    assert not x.requires_grad
    x.requires_grad = True
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0" and repr(y.grad_fn) == "<MulBackward0>"
    with pytest.raises(cnnlab.GradError, match=r"requires_grad_: requires_grad can only be switched off on leaf"):
        y.requires_grad_(False)
    with pytest.raises(cnnlab.DTypeError, match=r"requires_grad_: only floating-point tensors can require "
                                                 r"gradients. Got dtype=cnnlab.int64"):
        cnnlab.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):  # as PyTorch
        cnnlab.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).requires_grad_()
    assert cnnlab.tensor([1, 2]).is_leaf and (cnnlab.ones(2) * 2).is_leaf


def test_grad_flows_only_into_tensors_that_require_it():
    a, b = cnnlab.tensor([1.0, 2.0], requires_grad=True), cnnlab.tensor([3.0, 4.0])
    (a * b).sum().backward()
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None


def test_retain_grad_on_a_non_leaf():
    x = rand(3, seed=9)
    c, p = _pair(x)
    outs = []
    for t in (c, p):
        h = t * 2
        h.retain_grad()
        (h * h).sum().backward(retain_graph=True)
        (h * 3).sum().backward()
        outs.append(h.grad.numpy() if h.grad is not None else None)
    np.testing.assert_allclose(outs[0], outs[1])
    h = c * 2
    assert h.grad is None and not h.retains_grad
    with pytest.raises(cnnlab.GradError, match=r"retain_grad: the tensor does not require grad"):
        cnnlab.ones(2).retain_grad()


def test_hooks_see_and_replace_gradients_like_torch():
    x = rand(3, seed=10)
    results = []
    for lib, t in zip((cnnlab, torch), _pair(x)):
        seen = []
        h = t * 2
        h.register_hook(lambda g: seen.append(g.clone()))
        handle = t.register_hook(lambda g: g * 10)
        (h * h + h).sum().backward(retain_graph=True)
        handle.remove()
        (h * h + h).sum().backward()
        results.append((t.grad.numpy().copy(), [s.numpy() for s in seen]))
    np.testing.assert_allclose(results[0][0], results[1][0])
    assert len(results[0][1]) == len(results[1][1]) == 2
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b)


def test_graph_is_freed_after_backward():
    x = cnnlab.tensor(rand(100, seed=11), requires_grad=True)
    h = x * 2
    ref_h = weakref.ref(h)
    ref_e = weakref.ref(h.exp())
    loss = (h.exp() * h).sum()
    del h
    gc.collect()
    assert ref_h() is not None  # the graph keeps the intermediate alive until backward
    loss.backward()
    assert ref_h() is None  # without retain_graph the intermediates go with the graph (no gc needed)
    assert ref_e() is None
    assert loss.grad_fn is not None and not loss.is_leaf


def test_graph_is_kept_with_retain_graph_and_freed_with_the_output():
    x = cnnlab.tensor(rand(10, seed=12), requires_grad=True)
    h = x * 2
    ref_h = weakref.ref(h)
    loss = (h * h).sum()
    del h
    loss.backward(retain_graph=True)
    assert ref_h() is not None
    del loss
    assert ref_h() is None  # plain reference counting frees it: the graph holds no cycles


def test_no_reference_cycles_in_a_typical_graph():
    gc.collect()
    gc.disable()
    try:
        x = cnnlab.tensor(rand(4, 3, seed=13), requires_grad=True)
        w = cnnlab.tensor(rand(3, 2, seed=14), requires_grad=True)
        out = (x @ w).exp().sum(1).max()
        ref = weakref.ref(out)
        out.backward(retain_graph=True)
        del out
        assert ref() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_deep_graph_does_not_hit_the_recursion_limit():
    limit = sys.getrecursionlimit()
    x = cnnlab.tensor([0.5], dtype=cnnlab.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000], rtol=1e-10)
    assert sys.getrecursionlimit() == limit
    z = x
    for _ in range(20000):  # deleting a long chain without backward must not overflow the C stack either
        z = z + 1.0
    del z


def test_backward_order_is_topological_with_diamonds():
    # a node reached along paths of different lengths gets its full gradient before it passes it on
    def fn(lib, x):
        a = x * 2
        b = a.exp()
        c = a * b
        d = (c + a).sin() * b
        return d + a
    check(fn, rand(5, seed=15))


def test_fresh_gradient_arrays_are_taken_over_but_never_shared():
    a = cnnlab.tensor(rand(3, seed=16), requires_grad=True)
    b = cnnlab.tensor(rand(3, seed=17), requires_grad=True)
    (a + b).sum().backward()  # one upstream gradient for both parents
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.numpy()[0] = 100.0
    assert b.grad.numpy()[0] == 1.0
    assert a.grad.numpy().flags.writeable and b.grad.numpy().flags.writeable
    x = cnnlab.tensor(rand(2, 3, seed=18), requires_grad=True)
    x.expand(4, 2, 3).sum().backward()  # broadcast views upstream: the stored gradient is a real array
    assert x.grad.numpy().flags.writeable and x.grad.numpy().base is None
    g = np.ones((2, 3))
    (x * 1.0).backward(g)  # a user's gradient array is copied before anything is added into it
    x.grad.numpy()[:] = 0
    assert np.all(g == 1.0)


def test_a_shared_first_gradient_is_added_into_the_fresh_second_one():
    """The residual pattern: a's first gradient is the upstream array itself (add passes it through), its
    second a fresh array from mul; the sum is formed in the fresh one, and the shared one is left alone."""
    x = cnnlab.tensor(rand(2, 3, seed=19), requires_grad=True)
    a = x * 2.0
    b = a * 3.0
    seen = []
    a.register_hook(lambda g: seen.append(g.numpy().copy()))
    g = rand(2, 3, seed=20)
    g_before = g.copy()
    (a + b).backward(g)
    np.testing.assert_array_equal(g, g_before)
    np.testing.assert_allclose(seen[0], 4 * g_before)  # d(a + 3a)/da
    np.testing.assert_allclose(x.grad.numpy(), 8 * g_before)
    y = cnnlab.tensor(rand(3, seed=21), requires_grad=True)
    z = y * 1.0
    (z + z * 2.0 + z * 3.0).sum().backward()  # shared first, then two fresh ones
    np.testing.assert_allclose(y.grad.numpy(), np.full(3, 6.0))


def test_gradients_keep_the_leaf_dtype():
    x = cnnlab.tensor(rand(3, seed=19).astype(np.float32), requires_grad=True)
    y64 = cnnlab.tensor(rand(3, seed=20))
    out = x * y64  # float32 * float64 -> float64
    assert out.dtype == cnnlab.float64
    out.sum().backward()
    assert x.grad.dtype == cnnlab.float32
    pt = torch.tensor(rand(3, seed=19).astype(np.float32), requires_grad=True)
    (pt * torch.tensor(rand(3, seed=20))).sum().backward()
    assert pt.grad.dtype == torch.float32
    np.testing.assert_allclose(x.grad.numpy(), pt.grad.numpy())


def test_casts_are_differentiable():
    check(lambda lib, x: x.float().double() * 2, rand(3, seed=21), rtol=1e-6)
    check(lambda lib, x: x.to(lib.torch.float32).sum(), rand(3, seed=21), rtol=1e-6)
    check(lambda lib, x: x.clone() * x, rand(3, seed=21))


def test_inplace_rules():
    w = cnnlab.ones(3, requires_grad=True)
    with pytest.raises(cnnlab.GradError, match=r"\+=: a leaf tensor that requires grad cannot be modified in place"):
        w += 1
    with pytest.raises(RuntimeError):  # as PyTorch
        torch.ones(3, requires_grad=True).__iadd__(1)
    with pytest.raises(cnnlab.GradError, match=r"add_: a tensor that requires grad cannot be modified in place"):
        w.add_(1)
    with cnnlab.no_grad():
        w -= 0.5 * cnnlab.ones(3)  # the optimizer-step idiom
        w.mul_(2)
    assert w.tolist() == [1.0, 1.0, 1.0] and w.is_leaf and w.requires_grad
    h = w * 2
    h_before = h
    h += 1  # a non-leaf in the graph: in place and recorded, as in PyTorch
    h *= h
    assert h is h_before and not h.is_leaf
    h.sum().backward()
    assert w.grad.tolist() == [12.0, 12.0, 12.0]  # d/dw (2w + 1)^2 = 4 (2w + 1) at w = 1
    p = cnnlab.ones(2)
    q = p
    p += 1  # outside the graph: truly in place
    assert q.tolist() == [2.0, 2.0] and p is q


def test_composite_model_step_matches_torch():
    def fn(lib, x, w1, b1, w2):
        h = (x @ w1 + b1).clamp(min=0)
        logits = h @ w2
        m = logits.max(1, keepdim=True).values
        z = logits - m
        return (z - z.exp().sum(1, keepdim=True).log()).mean()
    check(fn, rand(5, 4, seed=22), rand(4, 6, seed=23), rand(6, seed=24), rand(6, 3, seed=25))


GRAPHS = [
    lambda a, b: (a + b).sum(),
    lambda a, b: (a.reshape(6) + b.reshape(6)).sum(),
    lambda a, b: (a.view(3, 2).t() * 2 + b.t().reshape(2, 3)).sum(),
    lambda a, b: cnnlab.cat([a, b]).reshape(-1).sum() + cnnlab.stack([a, b]).sum(),
    lambda a, b: (a @ b.t()).sum() + (a.flatten() * b.flatten()).sum(),
    lambda a, b: sum(p.sum() for p in cnnlab.cat([a, b], 1).split(1, 1)),
    lambda a, b: (a[:, ::-1] + b.flip(1)).sum() + a.unsqueeze(0).expand(4, 2, 3).sum(),
]


@pytest.mark.parametrize("graph", GRAPHS)
def test_leaf_gradients_never_share_memory(graph):
    a = cnnlab.tensor(rand(2, 3, seed=30), requires_grad=True)
    b = cnnlab.tensor(rand(2, 3, seed=31), requires_grad=True)
    graph(a, b).backward()
    ga, gb = a.grad.numpy(), b.grad.numpy()
    assert not np.shares_memory(ga, gb) and ga.flags.writeable and gb.flags.writeable
    before_b = gb.copy()
    ga += 1000.0  # an optimizer writing into one gradient must not touch another
    np.testing.assert_array_equal(b.grad.numpy(), before_b)
    graph(a, b).backward()  # a second pass adds the same gradient once more
    np.testing.assert_allclose(b.grad.numpy(), 2 * before_b)


def test_autograd_grad_matches_torch_and_leaves_dot_grad_alone():
    x, w = rand(3, 4, seed=40), rand(4, 2, seed=41)
    res = []
    for lib in (cnnlab, torch):
        tx, tw = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        h = tx @ tw
        out = (h.exp() * h).sum()
        gx, gh, gw = lib.autograd.grad(out, [tx, h, tw], retain_graph=True)
        (g2,) = lib.autograd.grad([out, h.sum() * 2], tw)
        assert tx.grad is None and tw.grad is None
        res.append([gx.numpy(), gh.numpy(), gw.numpy(), g2.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)


def test_autograd_grad_errors():
    x = cnnlab.ones(2, requires_grad=True)
    y = cnnlab.ones(2, requires_grad=True)
    with pytest.raises(cnnlab.GradError, match=r"grad: inputs\[1\] was not used to compute the outputs"):
        cnnlab.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = cnnlab.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gy is None
    with pytest.raises(cnnlab.GradError, match=r"grad: every input must require grad"):
        cnnlab.autograd.grad((x * 2).sum(), cnnlab.ones(2))
    (g,) = cnnlab.autograd.grad(x * 3, x, grad_outputs=cnnlab.tensor([1.0, 2.0]))
    assert g.tolist() == [3.0, 6.0]


INPLACE_GRAPHS = [
    lambda lib, x, w: lib.torch.zeros(3, 4, dtype=lib.torch.float64).add_(w * 2).mul_(x),
    lambda lib, x, w: (x * 1).sub_(w, alpha=0.5).div_(w.exp()),
    lambda lib, x, w: lib.torch.ones(3, 4, dtype=lib.torch.float64).copy_(w[0]) * x,
    lambda lib, x, w: _iadd(_iadd(lib.torch.zeros(3, 4, dtype=lib.torch.float64), w), x * w),
    lambda lib, x, w: (w * 3).add_(1.0).mul_(2),
]


def _iadd(t, other):
    t += other
    return t


@pytest.mark.parametrize("fn", INPLACE_GRAPHS)
def test_inplace_ops_inside_the_graph_match_torch(fn):
    check(fn, rand(3, 4, seed=50), rand(3, 4, seed=51))


def test_accumulating_into_a_buffer_keeps_the_gradient():
    res = []
    for lib in (cnnlab, torch):
        w = lib.tensor(rand(3, seed=52), requires_grad=True)
        acc = lib.zeros(3, dtype=lib.float64)
        held = acc
        for k in range(3):
            acc.add_(w * k)
        acc.sum().backward()
        res.append((w.grad.numpy(), held is acc))
    np.testing.assert_allclose(res[0][0], res[1][0])
    assert res[0][1] and res[1][1]


def test_inplace_change_of_a_tensor_already_used_in_the_graph():
    w = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1
    y = h * 2  # y's op takes h as input
    h += 1  # so += falls back to h = h + 1: y still sees the old h
    (y.sum() + h.sum()).backward()
    assert w.grad.tolist() == [3.0, 3.0]
    h2 = w * 1
    z = h2.exp()
    with pytest.raises(cnnlab.GradError, match=r"mul_: this tensor was already used as an input of another op"):
        h2.mul_(3)
    with pytest.raises(cnnlab.GradError, match=r"setitem: this tensor was already used as an input"):
        h2[0] = h2[1] * 2
    assert z.requires_grad


def test_grad_mode_decorators_without_parentheses_like_torch():
    w = cnnlab.ones(2, requires_grad=True)

    @cnnlab.no_grad
    def f(t):
        return t * 2

    @cnnlab.inference_mode
    def g(t):
        return t * 2

    @cnnlab.enable_grad
    def h(t):
        return t * 2

    assert f.__name__ == "f" and not f(w).requires_grad and not g(w).requires_grad
    with cnnlab.no_grad():
        assert h(w).requires_grad
    assert cnnlab.is_grad_enabled()


def test_variable_for_old_tutorials():
    v = cnnlab.autograd.Variable(cnnlab.ones(2), requires_grad=True)
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]


def _spy(x, seen):
    """y = 2x whose backward records grad_owned() and doubles its gradient in place when allowed."""
    def backward(g):
        owned = cnnlab.autograd.grad_owned()
        seen.append(owned)
        return (np.multiply(g, 2.0, out=g) if owned else g * 2.0,)
    return cnnlab.Tensor._from_op(x._data * 2.0, (x,), backward, "Spy")


def test_grad_owned_only_when_nothing_else_sees_the_gradient():
    x = cnnlab.tensor(rand(3, seed=40), requires_grad=True)
    seen = []
    (_spy(x, seen) * 3.0).sum().backward()  # mul's fresh array: the spy may overwrite it
    assert seen == [True]
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 6.0))
    cases = {
        "retain_grad": lambda y: (y.retain_grad(), (y * 3.0).sum().backward()),
        "hook": lambda y: (y.register_hook(lambda g: None), (y * 3.0).sum().backward()),
        "caller's gradient": lambda y: y.backward(np.full(3, 3.0)),
        "autograd.grad": lambda y: cnnlab.autograd.grad((y * 3.0).sum(), [y, x]),
        "shared with x": lambda y: ((y + x) * 3.0).sum().backward(),  # add hands one array to both inputs
    }
    for name, run in cases.items():
        x.grad, seen = None, []
        y = _spy(x, seen)
        run(y)
        assert seen == [False], name
    x.grad, seen = None, []
    y = _spy(x, seen)
    (y + y * 0.5).sum().backward()  # shared first, then fresh: summed in the fresh array, which y then owns
    assert seen == [True]
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 3.0))
    assert not cnnlab.autograd.grad_owned()  # reset after the pass


def test_in_place_backward_of_relu_and_batch_norm_keeps_every_other_gradient():
    """relu and batch_norm write their input gradient into the one they were handed when they own it; the
    gradients that hooks, retain_grad and autograd.grad see stay as PyTorch gives them."""
    xs = rand(4, 3, 5, seed=41)
    w, b = rand(3, seed=42), rand(3, seed=43)
    for retain_r in (True, False):  # retain_grad on relu's output keeps relu from writing in place
        grads = {}
        for lib in (cnnlab, torch):
            x = lib.tensor(xs, requires_grad=True)
            ww, bb = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
            h = (lib.nn.functional.batch_norm(x * 1.5, None, None, ww, bb, training=True) * 2.0)
            h.retain_grad()
            r = lib.nn.functional.relu(h)
            if retain_r:
                r.retain_grad()
            (r * lib.tensor(rand(4, 3, 5, seed=44))).sum().backward()
            ts = (x, ww, bb, h) + ((r,) if retain_r else ())
            grads[lib.__name__] = [t.grad.detach().numpy() if lib is torch else t.grad.numpy() for t in ts]
        for ours, theirs in zip(grads["cnnlab"], grads["torch"]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
