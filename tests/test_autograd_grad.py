"""autograd.grad, autograd.backward and Tensor.backward(inputs=) against PyTorch: allow_unused,
materialize_grads, retain_graph defaulting to create_graph, several outputs with a sequence of grad_outputs,
non-leaf inputs, is_grads_batched, and the errors (PyTorch's words quoted in ours)."""
import numpy as np
import pytest

import cnnlab
from oracle import rand

torch = pytest.importorskip("torch")


def _close(c, p):
    np.testing.assert_allclose(c.detach().numpy(), p.detach().numpy(), rtol=1e-12, atol=1e-12)


def _leaves(lib, *seeds):
    return [lib.tensor(rand(3, seed=s), requires_grad=True) for s in seeds]


@pytest.mark.parametrize("create_graph", [False, True])
def test_several_outputs_with_a_sequence_of_grad_outputs_and_a_non_leaf_input(create_graph):
    out = []
    for lib in (cnnlab, torch):
        x, y = _leaves(lib, 1, 2)
        h = x * y  # a non-leaf input
        o1, o2 = (h * x).sum(), h * 2 + y
        g2 = lib.tensor(rand(3, seed=3))
        out.append(lib.autograd.grad([o1, o2], [h, x, y], [None, g2], create_graph=create_graph))
        assert all(g.requires_grad == create_graph for g in out[-1])
    for c, p in zip(*out):
        _close(c, p)


@pytest.mark.parametrize("create_graph", [False, True])
def test_allow_unused_and_materialize_grads(create_graph):
    for lib in (cnnlab, torch):
        x, y = _leaves(lib, 4, 5)
        with pytest.raises(RuntimeError, match="(?i)not have been used in the graph"):
            lib.autograd.grad((x * x).sum(), (x, y), create_graph=create_graph)
        gx, gy = lib.autograd.grad((x * x).sum(), (x, y), allow_unused=True, create_graph=create_graph)
        assert gy is None
        gx, gy = lib.autograd.grad((x * x).sum(), (x, y), materialize_grads=True, create_graph=create_graph)
        assert gy.shape == y.shape and not gy.detach().numpy().any()
        with pytest.raises((RuntimeError, ValueError), match="allow_unused to be True or not passed"):
            lib.autograd.grad((x * x).sum(), (x, y), materialize_grads=True, allow_unused=False)


def test_retain_graph_defaults_to_create_graph_in_grad():
    for lib in (cnnlab, torch):
        (x,) = _leaves(lib, 6)
        y = (x * x).sum()
        lib.autograd.grad(y, x, create_graph=True)
        lib.autograd.grad(y, x)  # kept by the first call
        with pytest.raises(RuntimeError, match="second time"):
            lib.autograd.grad(y, x)


def test_errors_quote_pytorch():
    for lib in (cnnlab, torch):
        (x,) = _leaves(lib, 7)
        c = lib.tensor(rand(3, seed=8))
        with pytest.raises(RuntimeError, match="does not require grad"):
            lib.autograd.grad((x * 2).sum(), c)
        with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
            lib.autograd.grad(c.sum(), x)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            lib.autograd.grad(x * 2, x)
        with pytest.raises(RuntimeError, match="Mismatch in shape"):
            lib.autograd.grad(x * 2, x, lib.ones(2, dtype=lib.float64))


def test_is_grads_batched_stacks_one_gradient_per_row():
    out = []
    for lib in (cnnlab, torch):
        (x,) = _leaves(lib, 9)
        rows = lib.tensor(rand(4, 3, seed=10))
        out.append(lib.autograd.grad(x * x, x, rows, is_grads_batched=True)[0])
    _close(*out)
    (x,) = _leaves(cnnlab, 9)
    with pytest.raises(cnnlab.GradError, match="is_grads_batched=True is supported only with create_graph=False"):
        cnnlab.autograd.grad(x * x, x, cnnlab.ones(2, 3, dtype=cnnlab.float64), is_grads_batched=True,
                             create_graph=True)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # PyTorch's reference-cycle note
def test_backward_inputs_accumulates_only_into_those_tensors(create_graph):
    out = []
    for lib in (cnnlab, torch):
        x, y = _leaves(lib, 11, 12)
        h = x * y
        h.retain_grad()
        (h * x).sum().backward(inputs=[y, h], create_graph=create_graph)
        assert x.grad is None
        out.append((y.grad, h.grad))
    for c, p in zip(*out):
        _close(c, p)


def test_autograd_backward_with_several_tensors():
    out = []
    for lib in (cnnlab, torch):
        x, y = _leaves(lib, 13, 14)
        lib.autograd.backward([x * y, (x * x).sum()], [lib.tensor(rand(3, seed=15)), None])
        out.append((x.grad, y.grad))
    for c, p in zip(*out):
        _close(c, p)
