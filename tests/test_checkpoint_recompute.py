"""cnnlab.utils.checkpoint (activation recomputation) against PyTorch's torch.utils.checkpoint and against the
plain (not checkpointed) cnnlab run: gradients of inputs and parameters in both modes, dropout's mask
reproduced from the saved random state, intermediate activations not kept (weak references and graph size),
multiple outputs, keyword arguments, checkpoint_sequential, and the errors and warnings."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
from cnnlab.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")
import torch.utils.checkpoint as tcheckpoint  # noqa: E402

torch.set_num_threads(1)


def _pair(dropout=0.0):
    make = lambda L: L.nn.Sequential(L.nn.Linear(6, 8), L.nn.Tanh(), L.nn.Linear(8, 8), L.nn.ReLU(),  # noqa: E731
                                     L.nn.Dropout(dropout), L.nn.Linear(8, 3))
    c, p = make(cnnlab).double(), make(torch).double()
    c.load_state_dict({k: cnnlab.tensor(v.detach().numpy()) for k, v in p.state_dict().items()})
    return c, p


X = np.random.default_rng(0).standard_normal((5, 6))
G = np.random.default_rng(1).standard_normal((5, 3))


def _grads(model, x):
    return [x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


def _run_cnnlab(model, use_ckpt, reentrant=False, x_requires_grad=True):
    x = cnnlab.tensor(X, requires_grad=x_requires_grad)
    y = checkpoint(model, x, use_reentrant=reentrant) if use_ckpt else model(x)
    (y * cnnlab.tensor(G)).sum().backward()
    return y, x


@pytest.mark.parametrize("reentrant", [True, False])
def test_gradients_equal_plain_run_and_torch_checkpoint(reentrant):
    c, p = _pair()
    y_plain, x_plain = _run_cnnlab(c, False)
    plain = _grads(c, x_plain)
    c.zero_grad()
    y, x = _run_cnnlab(c, True, reentrant)
    assert y.grad_fn is not None and "CheckpointFunction" in repr(y.grad_fn)
    np.testing.assert_array_equal(y.detach().numpy(), y_plain.detach().numpy())
    for a, b in zip(_grads(c, x), plain):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    xp = torch.tensor(X, requires_grad=True)
    yp = tcheckpoint.checkpoint(p, xp, use_reentrant=reentrant)
    (yp * torch.tensor(G)).sum().backward()
    ref = [xp.grad.numpy()] + [q.grad.numpy() for q in p.parameters()]
    for a, b in zip(_grads(c, x), ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("reentrant", [True, False])
def test_dropout_mask_is_reproduced_in_the_recomputation(reentrant):
    c, _ = _pair(dropout=0.5)
    cnnlab.manual_seed(7)
    _, x_plain = _run_cnnlab(c, False)
    plain = _grads(c, x_plain)
    after_plain = cnnlab.rand(3).numpy()
    c.zero_grad()
    cnnlab.manual_seed(7)
    _, x = _run_cnnlab(c, True, reentrant)
    for a, b in zip(_grads(c, x), plain):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    # the recomputation's draws are not taken from the ongoing stream: the next numbers are the plain run's
    np.testing.assert_array_equal(cnnlab.rand(3).numpy(), after_plain)


def test_without_preserved_rng_state_the_mask_differs():
    c, _ = _pair(dropout=0.5)
    cnnlab.manual_seed(7)
    _, x_plain = _run_cnnlab(c, False)
    plain = _grads(c, x_plain)
    c.zero_grad()
    cnnlab.manual_seed(7)
    x = cnnlab.tensor(X, requires_grad=True)
    y = checkpoint(c, x, use_reentrant=False, preserve_rng_state=False)
    (y * cnnlab.tensor(G)).sum().backward()
    assert not np.allclose(_grads(c, x)[0], plain[0])


def _tracked_block(store):
    """Three layers whose intermediate outputs are recorded as weak references."""
    lins = [nn.Linear(64, 64).double() for _ in range(3)]

    def block(x):
        for lin in lins:
            x = lin(x).tanh()
            store.append(weakref.ref(x))
        return x
    return block, lins


@pytest.mark.parametrize("reentrant", [True, False])
def test_intermediate_activations_are_not_kept(reentrant):
    x = cnnlab.randn(32, 64, dtype=cnnlab.float64, requires_grad=True)
    plain_refs, ckpt_refs = [], []
    block, _ = _tracked_block(plain_refs)
    y_plain = block(x)
    gc.collect()
    assert sum(r() is not None for r in plain_refs) == 3  # the graph holds them for backward
    block_c, lins = _tracked_block(ckpt_refs)
    y = checkpoint(block_c, x, use_reentrant=reentrant)
    gc.collect()
    assert [r() for r in ckpt_refs[:-1]] == [None, None]  # only the output remains (as y's data)
    assert ckpt_refs[-1]() is None or ckpt_refs[-1]() is not y

    def graph_size(t):
        seen, stack = set(), [t]
        while stack:
            n = stack.pop()
            if id(n) not in seen and n._backward is not None:
                seen.add(id(n))
                stack.extend(n._parents)
        return len(seen)
    assert graph_size(y) == 1 and graph_size(y_plain) == 6  # (linear, tanh) x 3
    y.sum().backward()  # recomputation works after the originals are gone
    assert x.grad is not None and all(lin.weight.grad is not None for lin in lins)


def test_non_reentrant_reaches_parameters_without_input_grad_and_supports_autograd_grad():
    c, p = _pair()
    y, _ = _run_cnnlab(c, True, reentrant=False, x_requires_grad=False)
    assert all(q.grad is not None for q in c.parameters())
    yp = tcheckpoint.checkpoint(p, torch.tensor(X), use_reentrant=False)
    (yp * torch.tensor(G)).sum().backward()
    for a, b in zip(c.parameters(), p.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-13)
    c.zero_grad()
    y = checkpoint(c, cnnlab.tensor(X), use_reentrant=False)
    (gw,) = cnnlab.autograd.grad((y * cnnlab.tensor(G)).sum(), [c[0].weight])
    np.testing.assert_allclose(gw.numpy(), p[0].weight.grad.numpy(), rtol=1e-10, atol=1e-13)
    assert c[0].weight.grad is None


def test_reentrant_without_input_grad_warns_and_records_nothing_like_torch():
    c, p = _pair()
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(c, cnnlab.tensor(X), use_reentrant=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        yp = tcheckpoint.checkpoint(p, torch.tensor(X), use_reentrant=True)
    assert y.requires_grad is False and yp.requires_grad is False


@pytest.mark.parametrize("reentrant", [True, False])
def test_several_outputs_and_non_tensor_arguments(reentrant):
    def fn(L):
        return lambda a, b, scale: ((a * b).tanh() * scale, (a - b).exp())

    a_np, b_np = np.random.default_rng(2).standard_normal((2, 4, 3))
    res = []
    for L, ck in [(cnnlab, checkpoint), (torch, tcheckpoint.checkpoint)]:
        a, b = L.tensor(a_np, requires_grad=True), L.tensor(b_np, requires_grad=True)
        u, v = ck(fn(L), a, b, 1.5, use_reentrant=reentrant)
        (u.sum() * 2 + (v * v).sum()).backward()
        res.append((u.detach().numpy(), v.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
    for c, p in zip(*res):
        np.testing.assert_allclose(c, p, rtol=1e-12)
    a = cnnlab.tensor(a_np, requires_grad=True)
    u, v = checkpoint(fn(cnnlab), a, cnnlab.tensor(b_np), 1.5, use_reentrant=reentrant)
    u.sum().backward()  # only one output reaches the loss: the other's gradient is zero
    np.testing.assert_allclose(a.grad.numpy(), (1.5 * (1 - np.tanh(a_np * b_np) ** 2) * b_np), rtol=1e-12)


def test_keyword_arguments():
    x = cnnlab.tensor(X, requires_grad=True)
    y = checkpoint(lambda t, k=1.0: t * k, x, k=3.0, use_reentrant=False)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full_like(X, 3.0))
    with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
        checkpoint(lambda t, k=1.0: t * k, x, k=3.0, use_reentrant=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
        tcheckpoint.checkpoint(lambda t, k=1.0: t * k, torch.tensor(X, requires_grad=True), k=3.0,
                               use_reentrant=True)


def test_use_reentrant_not_given_warns_like_torch():
    x = cnnlab.tensor(X, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda t: t * 2, x)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        tcheckpoint.checkpoint(lambda t: t * 2, torch.tensor(X, requires_grad=True))


def test_under_no_grad_it_is_a_plain_call():
    c, _ = _pair()
    with cnnlab.no_grad():
        y = checkpoint(c, cnnlab.tensor(X, requires_grad=True), use_reentrant=False)
    assert y.grad_fn is None and not y.requires_grad


def test_a_recomputation_with_other_shapes_is_an_error():
    state = {"n": 3}

    def fn(t):
        return t[: state["n"]] * 2
    x = cnnlab.tensor(X, requires_grad=True)
    y = checkpoint(fn, x, use_reentrant=False)
    state["n"] = 2
    with pytest.raises(RuntimeError, match="recomputed outputs differ"):
        y.sum().backward()


@pytest.mark.parametrize("segments", [1, 2, 3, 6])
@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_sequential_matches_torch(segments, reentrant):
    c, p = _pair()
    x, xp = cnnlab.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y = checkpoint_sequential(c, segments, x, use_reentrant=reentrant)
    yp = tcheckpoint.checkpoint_sequential(p, segments, xp, use_reentrant=reentrant)
    np.testing.assert_allclose(y.detach().numpy(), yp.detach().numpy(), rtol=1e-12)
    (y * cnnlab.tensor(G)).sum().backward()
    (yp * torch.tensor(G)).sum().backward()
    for a, b in zip(_grads(c, x), [xp.grad.numpy()] + [q.grad.numpy() for q in p.parameters()]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)



def _count_checkpoint_nodes(y):
    seen, stack, count = set(), [y], 0
    while stack:
        t = stack.pop()
        if id(t) in seen or t._backward is None:
            continue
        seen.add(id(t))
        count += t._op == "CheckpointFunctionBackward"
        stack.extend(t._parents)
    return count


@pytest.mark.parametrize("segments", [1, 2, 3, 6])
def test_checkpoint_sequential_checkpoints_all_segments_but_the_last(segments):
    c, _ = _pair()
    y = checkpoint_sequential(c, segments, cnnlab.tensor(X, requires_grad=True), use_reentrant=False)
    assert _count_checkpoint_nodes(y) == segments - 1


def test_checkpoint_sequential_errors():
    c, _ = _pair()
    for bad in (0, 7):
        with pytest.raises(ValueError, match="segments must be an int in"):
            checkpoint_sequential(c, bad, cnnlab.tensor(X), use_reentrant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
            checkpoint_sequential(c, 2, cnnlab.tensor(X), foo=1)


def test_context_fn_and_determinism_check():
    entered = []

    class Ctx:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            entered.append(self.name)

        def __exit__(self, *exc):
            return False
    x = cnnlab.tensor(X, requires_grad=True)
    y = checkpoint(lambda t: t.tanh(), x, use_reentrant=False, context_fn=lambda: (Ctx("forward"), Ctx("recompute")))
    assert entered == ["forward"]
    y.sum().backward()
    assert entered == ["forward", "recompute"]
    for lib, ck in [(cnnlab, checkpoint), (torch, tcheckpoint.checkpoint)]:
        with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
            ck(lambda t: t * 2, lib.tensor(X, requires_grad=True), use_reentrant=True, context_fn=lambda: (Ctx("a"),
                                                                                                          Ctx("b")))
        with pytest.raises(ValueError, match="determinism_check should be one of"):
            ck(lambda t: t * 2, lib.tensor(X, requires_grad=True), use_reentrant=False, determinism_check="foo")
    state = {"n": 3}
    y = checkpoint(lambda t: t[: state["n"]] * 2, cnnlab.tensor(X, requires_grad=True), use_reentrant=False,
                   determinism_check="none")
    state["n"] = 2
    with pytest.raises(RuntimeError, match="recomputed outputs differ"):  # checked anyway: no NumPy error
        y.sum().backward()
