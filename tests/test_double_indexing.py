"""Double backward of indexing, gather/scatter, masked ops and in-place writes (cnnlab/derivatives/indexing.py)
against PyTorch: the derivative of (grad . v) with respect to the inputs and the upstream gradient, float64,
and a third order on some (tests/double_check.py)."""
import numpy as np
import pytest

import cnnlab
from cnnlab.errors import GradError
from double_check import check2
from oracle import check, rand

torch = pytest.importorskip("torch")

IDX = np.array([[0, 2, 2], [1, 0, 1]])


@pytest.mark.parametrize("fn", [
    lambda lib, x: x[1],
    lambda lib, x: x[:, 1:3],
    lambda lib, x: x[..., ::2],
    lambda lib, x: x[None, 1],
    lambda lib, x: x[...],
    lambda lib, x: x[:, None, 2],
    lambda lib, x: x[[0, 2, 2]],  # repeated rows add up
    lambda lib, x: x[:, [3, 0, 3, 1]],
    lambda lib, x: x[[0, 1], [1, 1]],
    lambda lib, x: x[1, :, [0, 0, 2]],  # the int selects first (PyTorch's order)
    lambda lib, x: x[x > 0],
    lambda lib, x: x[(x > 0)[:, :, 0]],
    lambda lib, x: x[lib.torch.tensor([[0, 1], [2, 2]])],
    lambda lib, x: x.select(2, -1),
    lambda lib, x: x.index_select(1, lib.torch.tensor([3, 0, 0])),
    lambda lib, x: x.masked_select(x > 0.2),
    lambda lib, x: x.take(lib.torch.tensor([0, -1, 5, 5])),
    lambda lib, x: lib.torch.diff(x, dim=1),
], ids=lambda f: "")
def test_getitem_family(fn):
    check2(fn, rand(3, 4, 3, seed=1), order=3)


def test_getitem_0d_and_negative_step():
    check2(lambda lib, x: x.index_select(0, lib.torch.tensor([0])), rand(seed=2), order=3)
    # PyTorch has no negative steps: flip is the same map
    check2(lambda lib, x: x[::-1, 1:], rand(4, 3, seed=3), order=3, torch_fn=lambda lib, x: x.flip(0)[:, 1:])


@pytest.mark.parametrize("dim", [0, 1])
def test_gather(dim):
    idx = IDX if dim == 1 else np.array([[2, 0], [2, 2], [1, 0]])
    check2(lambda lib, x: x.gather(dim, lib.torch.tensor(idx)), rand(3, 4, seed=4), order=3)
    check2(lambda lib, x: x.gather(0, lib.torch.tensor(0)), rand(seed=4), order=3)


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_family(dim):
    idx = IDX if dim == 1 else np.array([[2, 0, 1], [2, 2, 0]])
    x, s = rand(3, 4, seed=5), rand(2, 3, seed=6)  # (torch's own backward refuses a src larger than index)
    check2(lambda lib, x, s: x.scatter(dim, lib.torch.tensor(idx), s), x, s, order=3)
    check2(lambda lib, x: x.scatter(dim, lib.torch.tensor(idx), 2.5), x, order=3)
    check2(lambda lib, x, s: x.scatter_add(dim, lib.torch.tensor(idx), s), x, s, order=3)
    check2(lambda lib, x, s: lib.torch.scatter_add(x, dim, lib.torch.tensor(idx), s * s), x, s)
    check2(lambda lib, s: lib.torch.zeros(3, 4, dtype=lib.torch.float64).scatter(dim, lib.torch.tensor(idx), s), s)


def test_index_add():
    x, s = rand(4, 3, seed=7), rand(3, 3, seed=8)
    check2(lambda lib, x, s: x.index_add(0, lib.torch.tensor([2, 0, 2]), s), x, s, order=3)
    check2(lambda lib, x, s: x.index_add(1, lib.torch.tensor([1, 1, 0]), s.t(), alpha=-1.5), x, rand(3, 4, seed=8))


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin", "prod"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    x, s = rand(3, 4, seed=9, low=0.5, high=2.0), rand(2, 4, seed=10, low=0.5, high=2.0)
    s[1, 2] = x[0, 2]  # a tie with input's own value
    idx = np.array([[0, 2, 0, 1], [0, 0, 0, 1]])
    check2(lambda lib, x, s: x.scatter_reduce(0, lib.torch.tensor(idx), s, reduce, include_self=include_self),
           x, s, order=3, rtol=1e-6)
    check2(lambda lib, x, s: x.scatter_reduce(1, lib.torch.tensor(idx[:, :3]), s, reduce, include_self=include_self),
           x, s[:, :3].copy(), rtol=1e-6)


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros(include_self):
    # a zero factor gets the product of the others (first order too: it used to get 0), as torch's
    x, s = rand(3, 4, seed=11, low=0.5, high=2.0), rand(2, 4, seed=12, low=0.5, high=2.0)
    x[0, 1] = x[2, 2] = 0.0
    s[0, 3] = s[1, 2] = 0.0
    idx = np.array([[0, 2, 0, 1], [0, 0, 0, 1]])

    def fn(lib, x, s):
        return x.scatter_reduce(0, lib.torch.tensor(idx), s, "prod", include_self=include_self)

    check(fn, x, s)
    check2(fn, x, s, order=3)


def test_scatter_reduce_prod_two_zeros_in_one_place():
    x, s = rand(2, 3, seed=13, low=0.5, high=2.0), np.array([[0.0, 1.5, 2.0], [0.0, 0.7, 1.1]])
    idx = np.array([[1, 0, 0], [1, 1, 0]])
    check(lambda lib, x, s: x.scatter_reduce(0, lib.torch.tensor(idx), s, "prod"), x, s)
    t, u = cnnlab.tensor(x, requires_grad=True), cnnlab.tensor(s, requires_grad=True)
    out = t.scatter_reduce(0, cnnlab.tensor(idx), u, "prod")
    gs = cnnlab.autograd.grad((out * out).sum(), u, create_graph=True)[0]
    with pytest.raises(GradError, match="more than one zero in src"):  # PyTorch refuses this double backward too
        cnnlab.autograd.grad(gs.sum(), u)


def test_scatter_with_reduce_has_no_derivative():
    x = cnnlab.tensor(rand(3, seed=1), requires_grad=True)
    y = (x * 1).scatter(0, cnnlab.tensor([0, 0]), cnnlab.tensor(rand(2)), reduce="add")
    with pytest.raises(GradError, match="scatter with reduce is not implemented"):
        cnnlab.autograd.grad(y.sum(), x, create_graph=True)


def test_masked_fill():
    x = rand(3, 4, seed=13)
    check2(lambda lib, x: x.masked_fill(lib.torch.tensor(x.detach().numpy() > 0), -1.0), x, order=3)
    check2(lambda lib, x: x.masked_fill(lib.torch.tensor([True, False, False, True]), 2.0), x, order=3)


@pytest.mark.parametrize("key", [1, (slice(None), 2), (slice(1, None), slice(None, None, 2)), ([0, 2],),
                                 (1, [0, 0, 3]), (Ellipsis, [3, 1])], ids=str)
def test_setitem(key):
    x, v = rand(3, 4, seed=14), rand(4, seed=15)

    region = np.zeros((3, 4))[key].shape

    def fn(lib, x, v):
        out = x * 2
        out[key] = v[:region[-1]] * v[:region[-1]]
        return out

    check2(fn, x, v, order=3)


def test_setitem_constant_and_repeated():
    def constant(lib, x):
        out = x * 1
        out[1:, 0] = 5.0
        return out

    check2(constant, rand(3, 4, seed=16), order=3)

    def into_zeros(lib, v):  # a fresh tensor that does not require grad gets a value that does
        out = lib.torch.zeros(3, 4, dtype=lib.torch.float64)
        out[:, 1] = v
        out[0] = v[0] * v[1]
        return out

    check2(into_zeros, rand(3, seed=17), order=3)


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_", "copy_"])
def test_recorded_inplace(op):
    def fn(lib, x, y):
        out = x * 1
        getattr(out, op)(y)
        return out

    check2(fn, rand(3, 4, seed=18), rand(4, seed=19, low=0.5, high=1.5), order=3)


def test_gradgradcheck_where_pytorch_is_no_oracle():
    # finite differences of the create_graph gradient: negative steps (PyTorch has none), and setitem through one
    from cnnlab.autograd import gradgradcheck
    x = cnnlab.tensor(rand(4, 3, seed=20), requires_grad=True)
    v = cnnlab.tensor(rand(2, seed=21), requires_grad=True)
    assert gradgradcheck(lambda x: x[::-2, ::-1] * x[1::2], (x,), seed=0)

    def write(x, v):
        out = x * x
        out[::-2, 1] = v * v
        return out

    assert gradgradcheck(write, (x, v), seed=1)


@pytest.mark.parametrize("reduce", ["mean", "amax", "prod"])
def test_float32_stays_float32(reduce):
    x = cnnlab.tensor(rand(3, 4, seed=22, low=0.5, high=2.0), dtype=cnnlab.float32, requires_grad=True)
    s = cnnlab.tensor(rand(2, 4, seed=23, low=0.5, high=2.0), dtype=cnnlab.float32, requires_grad=True)
    out = x.scatter_reduce(0, cnnlab.tensor([[0, 2, 0, 1], [0, 0, 0, 1]]), s, reduce)[1:, ::2].flip(0)
    gx, gs = cnnlab.autograd.grad((out * out).sum(), (x, s), create_graph=True)
    hx, hs = cnnlab.autograd.grad((gx * gx).sum() + (gs * gs).sum(), (x, s))
    assert {gx.dtype, gs.dtype, hx.dtype, hs.dtype} == {cnnlab.float32}


def test_augmented_assignment_in_the_graph():
    def fn(lib, x, y):
        out = x * 1
        out += y
        out *= y
        out[0] = y * x[2]
        return out

    check2(fn, rand(3, 4, seed=24), rand(4, seed=25), order=3)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x[1], lambda lib, x: x[:, 1:], lambda lib, x: x[[0, 0]], lambda lib, x: x.t(),
    lambda lib, x: x.permute(1, 0), lambda lib, x: x.flip(0), lambda lib, x: x.gather(1, lib.tensor([[0], [1], [2]])),
    lambda lib, x: x.repeat(2, 1), lambda lib, x: x.diagonal(), lambda lib, x: x.unfold(1, 2, 1),
    lambda lib, x: x.sort(1).values, lambda lib, x: x.cummax(1).values, lambda lib, x: x.split(1)[0],
    lambda lib, x: x.masked_fill(x > 0, 0.0), lambda lib, x: x.as_strided((2, 2), (1, 2)),
    lambda lib, x: x.index_select(0, lib.tensor([1])),
], ids=lambda f: "")
def test_gradient_nodes_are_named_as_torch_names_them(fn):
    names = []
    for lib in (cnnlab, torch):
        x = lib.tensor(rand(3, 3, seed=26), requires_grad=True)
        y = fn(lib, x)
        gx, = lib.autograd.grad(y, x, lib.ones(tuple(y.shape), dtype=lib.float64, requires_grad=True),
                                create_graph=True)
        names.append(gx.grad_fn.name())
    assert names[0] == names[1]
