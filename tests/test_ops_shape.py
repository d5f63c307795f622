"""Shape ops against PyTorch: reshape/view, flatten, permute/transpose, squeeze/unsqueeze, expand, repeat, flip,
cat/stack, split/chunk/unbind; finite-difference gradients, float32, and the error messages."""
import numpy as np
import pytest

import cnnlab
from oracle import check, check_float32, gradcheck, rand

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape,new", [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1, 2)),
                                       ((6,), (1, 6, 1)), ((), (1,)), ((1,), ((),)), ((2, 3), ((3, 2),)),
                                       ((0, 3), (3, 0)), ((0, 3), (-1, 1))], ids=str)
def test_reshape_and_view(shape, new):
    x = rand(*shape, seed=1)
    check(lambda lib, x: x.reshape(*new), x)
    check(lambda lib, x: x.view(*new), x)
    check(lambda lib, x: lib.torch.reshape(x, new[0] if len(new) == 1 and isinstance(new[0], tuple) else new), x)


@pytest.mark.parametrize("args", [(), (1,), (0, 1), (1, -1), (-2, -1), (2, 2), (0, -1)], ids=str)
def test_flatten(args):
    check(lambda lib, x: x.flatten(*args), rand(2, 3, 4, seed=2))
    check(lambda lib, x: lib.torch.flatten(x), rand(seed=2))


@pytest.mark.parametrize("dims", [(0, 1, 2), (2, 0, 1), (1, 0, 2), (-1, -3, -2)], ids=str)
def test_permute(dims):
    check(lambda lib, x: x.permute(*dims), rand(2, 3, 4, seed=3))
    check(lambda lib, x: lib.torch.permute(x, dims), rand(2, 3, 4, seed=3))


@pytest.mark.parametrize("d0,d1", [(0, 1), (1, 2), (0, 2), (-1, -2), (2, 0), (1, 1)])
def test_transpose(d0, d1):
    check(lambda lib, x: x.transpose(d0, d1), rand(2, 3, 4, seed=4))


def test_t_T_mT():
    check(lambda lib, x: x.t(), rand(3, 4, seed=5))
    check(lambda lib, x: x.t(), rand(4, seed=5))
    check(lambda lib, x: x.T, rand(3, 4, seed=5))
    check(lambda lib, x: x.mT, rand(2, 3, 4, seed=5))
    check(lambda lib, x: lib.torch.t(x), rand(3, 4, seed=5))


@pytest.mark.parametrize("dim", [None, 0, 1, 2, 3, -1, -4, (0, 2), (1, 3)], ids=str)
def test_squeeze(dim):
    x = rand(1, 3, 1, 2, seed=6)
    check(lambda lib, x: x.squeeze() if dim is None else x.squeeze(dim), x)


@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -2, -4])
def test_unsqueeze(dim):
    check(lambda lib, x: x.unsqueeze(dim), rand(2, 3, 4, seed=7))
    check(lambda lib, x: lib.torch.unsqueeze(x, dim), rand(2, 3, 4, seed=7))
    check(lambda lib, x: x.unsqueeze(-(dim % 2)), rand(seed=7))


@pytest.mark.parametrize("shape,sizes", [((3, 1), (3, 4)), ((3, 1), (2, 3, 5)), ((1,), (4,)), ((), (2, 3)),
                                         ((2, 1, 3), (-1, 4, -1)), ((3, 1), (2, -1, 4))], ids=str)
def test_expand(shape, sizes):
    check(lambda lib, x: x.expand(*sizes), rand(*shape, seed=8))
    check(lambda lib, x, y: x.expand_as(y), rand(*shape, seed=8),
          np.zeros(tuple(s if s != -1 else (shape[i - len(sizes) + len(shape)]) for i, s in enumerate(sizes))),
          grad=[True, False])


@pytest.mark.parametrize("shape,reps", [((2, 3), (2, 1)), ((2, 3), (1, 2, 3)), ((3,), (4,)), ((2, 1), (1, 3)),
                                        ((), (2, 2))], ids=str)
def test_repeat(shape, reps):
    check(lambda lib, x: x.repeat(*reps), rand(*shape, seed=9))


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1), (-1,), (0, 2)], ids=str)
def test_flip(dims):
    check(lambda lib, x: x.flip(dims), rand(2, 3, 4, seed=10))
    check(lambda lib, x: lib.torch.flip(x, list(dims)), rand(2, 3, 4, seed=10))


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_cat(dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[dim] = i + 1
    check(lambda lib, a, b, c: lib.torch.cat([a, b, c], dim), *(rand(*s, seed=i) for i, s in enumerate(shapes)))
    check(lambda lib, a, b, c: lib.torch.cat((a, b, c), dim=dim), *(rand(*s, seed=i) for i, s in enumerate(shapes)),
          grad=[True, False, True])
    check(lambda lib, a: lib.torch.cat([a], dim), rand(2, 3, 4, seed=1))


def test_cat_promotes_dtypes_like_torch():
    check(lambda lib, a, b: lib.torch.cat([a, b]), rand(2, seed=1).astype(np.float32), rand(3, seed=2))
    check(lambda lib, a, b: lib.torch.cat([a, b]), np.array([1, 2]), rand(3, seed=2))


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(dim):
    check(lambda lib, a, b, c: lib.torch.stack([a, b, c], dim), rand(2, 3, seed=1), rand(2, 3, seed=2),
          rand(2, 3, seed=3))
    check(lambda lib, a, b: lib.torch.stack((a, b), dim=dim % 2), rand(4, seed=1), rand(4, seed=2))
    check(lambda lib, a, b: lib.torch.stack((a, b), dim=0), rand(seed=1), rand(seed=2))


@pytest.mark.parametrize("size,dim", [(2, 0), (3, 1), (1, -1), (5, 1), (7, 1), ([1, 2, 2], 1), ((2, 0, 3), 1),
                                      ([2], 0)], ids=str)
def test_split(size, dim):
    check(lambda lib, x: x.split(size, dim), rand(2, 5, 3, seed=11))
    check(lambda lib, x: lib.torch.split(x, size, dim=dim), rand(2, 5, 3, seed=12))


@pytest.mark.parametrize("chunks,dim", [(2, 1), (3, 1), (5, 1), (6, 1), (1, 0), (4, 0), (2, -1)])
def test_chunk(chunks, dim):
    check(lambda lib, x: x.chunk(chunks, dim), rand(3, 5, 4, seed=13))
    check(lambda lib, x: lib.torch.chunk(x, chunks, dim), rand(3, 5, 4, seed=13))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim):
    check(lambda lib, x: x.unbind(dim), rand(2, 3, 4, seed=14))
    check(lambda lib, x: lib.torch.unbind(x, dim=dim), rand(3, 2, seed=14))


def test_shape_ops_share_memory_like_torch_views():
    x = cnnlab.arange(6.0)
    v = x.view(2, 3)
    v[0, 0] = 10.0
    assert x[0].item() == 10.0
    x.transpose(0, 0)[1] = 11.0  # a view of x too
    assert x[1].item() == 11.0


def test_chained_shape_ops_gradient():
    check(lambda lib, x: x.permute(2, 0, 1).reshape(4, -1).unsqueeze(0).expand(2, 4, 6).flip(2).transpose(0, 2),
          rand(2, 3, 4, seed=15))


@pytest.mark.parametrize("fn", [
    lambda x: x.reshape(3, 8).t(), lambda x: x.permute(1, 2, 0).flatten(1), lambda x: x[:, None].expand(2, 5, 3, 4),
    lambda x: x.repeat(1, 2, 1), lambda x: cnnlab.cat([x, x * 2], 1), lambda x: cnnlab.stack([x, x.flip(0)], 3),
    lambda x: x.split([1, 2], 1)[1], lambda x: x.chunk(2, 2)[0] * x.chunk(2, 2)[1], lambda x: x.unbind(1)[2],
])
def test_gradcheck_shape_ops(fn):
    gradcheck(fn, rand(2, 3, 4, seed=16))


def test_float32_shape_ops_stay_float32():
    check_float32(lambda lib, x, y: lib.torch.cat([x.permute(1, 0), y.reshape(6, 2).t().flip(0)], 1).unsqueeze(0)
                  .expand(3, 2, 9).sum(0) + lib.torch.stack(x.unbind(0), 1).repeat(1, 3), rand(3, 2, seed=1),
                  rand(2, 6, seed=2))


# ---- errors -----------------------------------------------------------------------------------------------
def test_shape_errors():
    x = cnnlab.ones(2, 3)
    with pytest.raises(cnnlab.ShapeError, match=r"reshape: the new shape must hold the same number of elements. "
                                                 r"Got shape=\(4, 2\) for an input of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(RuntimeError):  # as torch
        x.view(5)
    with pytest.raises(ValueError, match=r"permute: dims must be a permutation of the 2 dims. Got dims=\(0, 0\)"):
        x.permute(0, 0)
    with pytest.raises(cnnlab.ShapeError, match=r"expand: a dim can only be expanded from size 1"):
        x.expand(2, 4)
    with pytest.raises(cnnlab.ShapeError, match=r"expand: -1 may only stand for an existing dim"):
        x.expand(-1, 2, 3)
    with pytest.raises(cnnlab.ShapeError, match=r"cat: tensors must have the same shape except in the cat dim. "
                                                 r"Got dim=0, tensors\[0\].shape=\(2, 3\), tensors\[1\].shape=\(2, 4\)"):
        cnnlab.cat([x, cnnlab.ones(2, 4)])
    with pytest.raises(cnnlab.ShapeError, match=r"cat: 0-d tensors cannot be concatenated"):
        cnnlab.cat([cnnlab.tensor(1.0), cnnlab.tensor(2.0)])
    with pytest.raises(cnnlab.ShapeError, match=r"stack: all tensors must have the same shape"):
        cnnlab.stack([x, cnnlab.ones(3, 2)])
    with pytest.raises(TypeError, match=r"cat: expects a list or tuple of tensors. Got Tensor"):
        cnnlab.cat(x)
    with pytest.raises(ValueError, match=r"cat: expects a non-empty list of tensors"):
        cnnlab.cat([])
    with pytest.raises(ValueError, match=r"split: the sections must add up to the size of dim 1"):
        x.split([1, 1], 1)
    with pytest.raises(IndexError, match=r"unsqueeze: dim must be in \[-3, 2\]. Got dim=3"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match=r"transpose: dim must be in \[-2, 1\] for a 2-d tensor. Got dim=2"):
        x.transpose(0, 2)
    with pytest.raises(ValueError, match=r"t: expects a tensor with at most 2 dims"):
        cnnlab.ones(2, 3, 4).t()
    with pytest.raises(TypeError, match=r"reshape: sizes must be ints"):
        x.reshape(2.0, 3)


@pytest.mark.parametrize("shifts,dims", [(1, None), (-2, None), (1, 0), (-1, 1), ((1, -1), (0, 1)), ((2, 5), (1, 0))],
                         ids=str)
def test_roll(shifts, dims):
    check(lambda lib, x: lib.torch.roll(x, shifts, dims), rand(3, 4, seed=17))
    if dims is not None:
        check(lambda lib, x: x.roll(shifts, dims), rand(2, 3, 4, seed=18))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    check(lambda lib, a, b, c: lib.torch.meshgrid(a, b, c, indexing=indexing), rand(2, seed=1), rand(3, seed=2),
          rand(4, seed=3))
    check(lambda lib, a, b: lib.torch.meshgrid([a, b], indexing=indexing), rand(2, seed=1), rand(3, seed=2))
