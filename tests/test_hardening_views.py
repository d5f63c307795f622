"""Views are views: a write through a view reaches its base and a write to the base shows in the view, exactly
where PyTorch's op returns a view; where PyTorch refuses (view of a tensor whose strides do not allow it, a
write into an expanded tensor) cnnlab raises too."""
import numpy as np
import pytest

import cnnlab
from oracle import check, rand

torch = pytest.importorskip("torch")


def _lib_of(b):
    return torch if isinstance(b, torch.Tensor) else cnnlab


VIEW_OPS = {
    "view": lambda b: b.view(6, 4),
    "view_split_transposed": lambda b: b.transpose(0, 1).view(3, 2, 2, 2),
    "view_as": lambda b: b.view_as(b.reshape(4, 6)),
    "reshape_contiguous": lambda b: b.reshape(24),
    "unflatten": lambda b: b.unflatten(2, (2, 2)),
    "narrow": lambda b: b.narrow(1, 1, 2),
    "select": lambda b: b.select(1, 1),
    "unbind": lambda b: b.unbind(1)[1],
    "split": lambda b: b.split(2, 2)[1],
    "split_sizes": lambda b: b.split([1, 2], 1)[1],
    "chunk": lambda b: b.chunk(2, 1)[1],
    "t": lambda b: b[0].t(),
    "transpose": lambda b: b.transpose(0, 2),
    "permute": lambda b: b.permute(2, 0, 1),
    "movedim": lambda b: b.movedim(0, 2),
    "diagonal": lambda b: b.diagonal(0, 1, 2),
    "diagonal_offset": lambda b: b.diagonal(-1, 2, 1),
    "unfold": lambda b: b.unfold(2, 2, 2),
    "squeeze": lambda b: b[:1].squeeze(0),
    "unsqueeze": lambda b: b.unsqueeze(1),
    "flatten": lambda b: b.flatten(),
    "flatten_copy": lambda b: b.transpose(0, 1).flatten(),  # PyTorch copies here: both lose the write
    "slices": lambda b: b[:, 1:, ::2],
    "int_index": lambda b: b[1],
    "ellipsis": lambda b: b[..., 1],
    "none_index": lambda b: b[None, 0],
    "detach": lambda b: b.detach(),
    "as_strided": lambda b: b.as_strided((2, 2), (1, 2)),
    "as_strided_offset": lambda b: b[1].as_strided((3, 2), (4, 1), 13),
    "contiguous": lambda b: b.contiguous(),
    "diag_copy": lambda b: b[0].diag(),  # torch.diag copies
    "flip_copy": lambda b: b.flip(0),  # torch.flip copies
    "mT": lambda b: b.mT,
}


def _write_through(lib, op):
    b = lib.arange(24.).double().reshape(2, 3, 4)
    v = op(b)
    v.mul_(-1)
    forward = b.numpy().copy()
    b.fill_(5.0)
    return forward, v.numpy().copy()


@pytest.mark.parametrize("name", sorted(VIEW_OPS))
def test_writes_through_views_match_torch(name):
    op = VIEW_OPS[name]
    ours, theirs = _write_through(cnnlab, op), _write_through(torch, op)
    np.testing.assert_array_equal(ours[0], theirs[0])  # the base after writing through the view
    np.testing.assert_array_equal(ours[1], theirs[1])  # the view after writing the base


@pytest.mark.parametrize("make", [lambda lib: lib.arange(6.).reshape(2, 3).t().view(6),
                                  lambda lib: lib.arange(24.).reshape(2, 3, 4).permute(1, 0, 2).view(6, 4),
                                  lambda lib: lib.arange(24.).reshape(4, 6)[:, :3].view(12),
                                  lambda lib: lib.arange(6.).reshape(2, 3).t().view_as(lib.zeros(6))])
def test_view_of_incompatible_strides_raises_like_torch(make):
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        make(torch)
    with pytest.raises(RuntimeError, match=r"view: view size is not compatible .* Use \.reshape\(\.\.\.\) instead\. "
                                           r"Got shape="):
        make(cnnlab)


def test_view_wrong_number_of_elements_raises_like_torch():
    for lib in (torch, cnnlab):
        with pytest.raises(RuntimeError):
            lib.zeros(2, 3).view(4, 2)
        with pytest.raises(RuntimeError):
            lib.zeros(0, 3).view(0, -1)  # -1 next to a 0 is ambiguous
    with pytest.raises(RuntimeError, match=r"view: the new shape must hold the same number of elements\. Got "
                                           r"shape=\(4, 2\) for an input of 6 elements\."):
        cnnlab.zeros(2, 3).view(4, 2)


def test_view_succeeds_exactly_where_torch_does():
    """Random strided tensors (permuted, sliced, with size-1 and 0-size dims) and random target shapes:
    cnnlab's view succeeds exactly when PyTorch's does, with the same values and shared memory."""
    rng = np.random.default_rng(0)
    tried = failed = 0
    for _ in range(400):
        shape = tuple(int(s) for s in rng.integers(1, 4, rng.integers(1, 5)))
        if rng.random() < 0.1:
            shape = shape[:-1] + (0,)
        base = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
        perm = tuple(rng.permutation(len(shape)))
        step = int(rng.integers(1, 3))
        pt, cn = torch.tensor(base).permute(perm), cnnlab.tensor(base).permute(perm)
        pt, cn = pt[..., ::step], cn[..., ::step]
        n = pt.numel()
        dims = [d for d in range(1, n + 1) if n % d == 0] or [0]
        a = int(rng.choice(dims))
        target = (a, -1) if n else (0, int(rng.integers(0, 3)))
        try:
            want = pt.view(target)
        except RuntimeError:
            want = None
        try:
            got = cn.view(target)
        except RuntimeError:
            got = None
        assert (want is None) == (got is None), (shape, perm, step, target)
        tried += 1
        if want is not None:
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            assert np.shares_memory(got.numpy(), cn.numpy()) or n == 0
        else:
            failed += 1
    assert failed > 20 and tried - failed > 100  # both outcomes were exercised


def test_contiguous_copies_only_when_needed_and_keeps_the_graph():
    x = cnnlab.arange(6.).reshape(2, 3)
    assert x.contiguous() is x
    check(lambda lib, a: a.t().contiguous().view(6) * lib.torch.arange(6.), rand(2, 3))
    y = x.t().contiguous()
    assert y.is_contiguous() and not x.t().is_contiguous()
    y[0, 0] = 100.0  # a copy: the base keeps its value, as in PyTorch
    assert x[0, 0].item() == 0.0


def test_leaf_gradients_are_contiguous_like_torch():
    """A leaf's .grad is row-major even when the gradient arrived through a transpose, so the common
    `p.grad.view(-1)` works as in PyTorch."""
    w = cnnlab.tensor(rand(3, 4), requires_grad=True)
    (w.t() * cnnlab.tensor(rand(4, 3, seed=1))).sum().backward()
    assert w.grad.is_contiguous()
    wt = torch.tensor(rand(3, 4), requires_grad=True)
    (wt.t() * torch.tensor(rand(4, 3, seed=1))).sum().backward()
    np.testing.assert_allclose(w.grad.view(-1).numpy(), wt.grad.view(-1).numpy())


def test_view_dtype_reinterprets_the_bytes_like_torch():
    a = rand(2, 4)
    got = cnnlab.tensor(a).view(cnnlab.int64)
    want = torch.tensor(a).view(torch.int64)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    v = cnnlab.tensor(a.astype(np.float32)).view(cnnlab.int32)
    assert v.dtype == cnnlab.int32 and tuple(v.shape) == (2, 4)


@pytest.mark.parametrize("size,stride,offset", [((3, 3), (2, 5), 3), ((2, 2), (1, 2), None), ((4,), (0,), 2),
                                                ((2, 0), (3, 1), 0)])
def test_as_strided_values_and_gradient_match_torch(size, stride, offset):
    check(lambda lib, x: x.t()[1:].as_strided(size, stride, offset), rand(4, 6))


def test_as_strided_outside_the_storage_raises_like_torch():
    for lib in (torch, cnnlab):
        with pytest.raises(RuntimeError):
            lib.zeros(6).as_strided((3, 3), (3, 1))
    with pytest.raises(RuntimeError, match=r"as_strided: the view must lie inside the storage\. Got size=\(3, 3\), "
                                           r"stride=\(3, 1\), storage_offset=0, which needs 9 elements, storage "
                                           r"size=6\."):
        cnnlab.zeros(6).as_strided((3, 3), (3, 1))


def test_storage_offset_matches_torch():
    for make in (lambda lib: lib.arange(12).reshape(3, 4)[1, 1:], lambda lib: lib.arange(12).reshape(3, 4).t()[2],
                 lambda lib: lib.arange(5)):
        assert make(cnnlab).storage_offset() == make(torch).storage_offset()


def test_unfold_view_gradient_still_matches_torch():
    check(lambda lib, x: x.unfold(1, 3, 2), rand(2, 8))
    check(lambda lib, x: x.diagonal(1, 0, 2), rand(3, 2, 4))


GRAPH_VIEWS = {"slice": lambda y: y[1:], "diagonal": lambda y: y.diagonal(), "t": lambda y: y.t(),
               "view": lambda y: y.view(9), "unfold": lambda y: y.unfold(1, 1, 2), "squeeze": lambda y: y[None].squeeze(0)}


@pytest.mark.parametrize("name", sorted(GRAPH_VIEWS))
@pytest.mark.parametrize("write", ["mul_", "setitem", "augmented"])
def test_in_place_change_of_a_view_inside_the_graph_is_refused_not_lost(name, write):
    """PyTorch rebases the base's graph onto a write through a view; cnnlab used to give the view new memory, so
    the base kept its old values and a wrong gradient, silently. Until the rebase exists it raises instead."""
    x = cnnlab.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    y = x * 1
    v = GRAPH_VIEWS[name](y)
    with pytest.raises(RuntimeError, match=r"is a view of another tensor that requires grad .* would not reach"):
        if write == "mul_":
            v.mul_(2)
        elif write == "setitem":
            v[0] = 5.0
        else:
            v *= 2
    np.testing.assert_array_equal(y.detach().numpy(), np.arange(9.0).reshape(3, 3))  # nothing half-written


def test_in_place_on_a_view_outside_the_graph_still_writes_through():
    y = cnnlab.arange(9.0).reshape(3, 3)
    y.diagonal().mul_(-1)
    y[1:].add_(100)
    with cnnlab.no_grad():
        w = cnnlab.ones(3, 3, requires_grad=True) * 1
        w.t()[0].fill_(7)
    ref = np.arange(9.0).reshape(3, 3)
    ref[np.diag_indices(3)] *= -1
    ref[1:] += 100
    np.testing.assert_array_equal(y.numpy(), ref)
    assert w[:, 0].tolist() == [7.0, 7.0, 7.0]
