"""diag, diagonal, trace, tril/triu, rot90, Tensor.unfold and einsum against PyTorch (values and gradients)."""
import numpy as np
import pytest

import cnnlab
from oracle import check, check_float32, gradcheck, rand

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("k", [0, 1, -1, 2, -3, 5])
def test_diag_1d_and_2d(k):
    check(lambda lib, x: lib.torch.diag(x, k), rand(4, seed=1))
    check(lambda lib, x: lib.torch.diag(x, k), rand(3, 5, seed=2))
    check(lambda lib, x: x.diag(k), rand(5, 3, seed=3))


@pytest.mark.parametrize("offset,d1,d2", [(0, 0, 1), (1, 0, 1), (-1, 1, 0), (2, 2, 0), (0, -1, -2), (-2, 1, 2)])
def test_diagonal(offset, d1, d2):
    check(lambda lib, x: lib.torch.diagonal(x, offset, d1, d2), rand(3, 4, 5, seed=4))
    check(lambda lib, x: x.diagonal(offset=offset, dim1=d1, dim2=d2), rand(2, 3, 4, seed=5))


def test_trace_values_dtypes_and_gradient():
    check(lambda lib, x: lib.torch.trace(x), rand(4, 3, seed=6))
    check(lambda lib, x: x.trace(), rand(2, 5, seed=7))
    check_float32(lambda lib, x: x.trace(), rand(3, 3, seed=8))
    check(lambda lib, x: lib.torch.trace(x), np.arange(9).reshape(3, 3))  # int64 result
    assert cnnlab.trace(cnnlab.ones(2, 2, dtype=cnnlab.bool)).dtype == cnnlab.int64


@pytest.mark.parametrize("k", [0, 1, -1, 3, -4])
def test_tril_triu(k):
    check(lambda lib, x: lib.torch.tril(x, k), rand(4, 5, seed=9))
    check(lambda lib, x: x.triu(k), rand(2, 3, 4, seed=10))
    check(lambda lib, x: lib.torch.triu(x, diagonal=k), np.arange(12).reshape(3, 4))


@pytest.mark.parametrize("k,dims", [(1, [0, 1]), (2, [0, 1]), (3, [1, 0]), (-1, [0, 2]), (5, [2, 1]), (0, [0, 1]),
                                    (1, [-1, -2])])
def test_rot90(k, dims):
    check(lambda lib, x: lib.torch.rot90(x, k, dims), rand(2, 3, 4, seed=11))
    check(lambda lib, x: x.rot90(k, dims), rand(3, 5, 2, seed=12))


def test_rot90_default_and_int():
    check(lambda lib, x: lib.torch.rot90(x), np.arange(6).reshape(2, 3))


@pytest.mark.parametrize("dim,size,step", [(0, 2, 1), (1, 3, 2), (2, 4, 1), (-1, 2, 3), (1, 5, 5), (0, 1, 1),
                                           (2, 5, 2)])
def test_tensor_unfold(dim, size, step):
    check(lambda lib, x: x.unfold(dim, size, step), rand(3, 5, 6, seed=13))


def test_tensor_unfold_twice_as_patches():
    check(lambda lib, x: x.unfold(2, 3, 1).unfold(3, 2, 2), rand(1, 2, 5, 6, seed=14))
    check_float32(lambda lib, x: x.unfold(2, 3, 1).unfold(3, 2, 1), rand(1, 2, 4, 5, seed=15))
    gradcheck(lambda x: x.unfold(1, 3, 1), rand(2, 5, seed=16))


def test_unfold_diag_errors():
    x = cnnlab.zeros(3, 4)
    with pytest.raises(ValueError, match=r"unfold: size must not exceed the length of the dimension. Got size=5"):
        x.unfold(1, 5, 1)
    with pytest.raises(ValueError, match=r"unfold: .*step a positive int. Got size=2, step=0"):
        x.unfold(1, 2, 0)
    with pytest.raises(ValueError, match=r"diag: the input must be 1-D .* Got shape=\(2, 3, 4\)"):
        cnnlab.diag(cnnlab.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"trace: the input must be a 2-D matrix. Got shape=\(3,\)"):
        cnnlab.trace(cnnlab.zeros(3))
    with pytest.raises(ValueError, match=r"rot90: the two dims must be different. Got dims=\(1, 1\)"):
        cnnlab.rot90(x, 1, (1, 1))
    with pytest.raises(ValueError, match=r"diagonal: dim1 and dim2 must be different"):
        cnnlab.diagonal(x, 0, 1, -1)
    for fn in (lambda lib: lib.diag(lib.zeros(2, 3, 4)), lambda lib: lib.trace(lib.zeros(3)),
               lambda lib: lib.rot90(lib.zeros(3, 4), 1, (1, 1)), lambda lib: lib.zeros(3, 4).unfold(1, 5, 1)):
        with pytest.raises(RuntimeError):  # the type PyTorch raises too
            fn(torch)
        with pytest.raises(RuntimeError):
            fn(cnnlab)


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 2)]),  # implicit output
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ijk->", [(2, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("nchwij,ocij->nohw", [(1, 3, 4, 5, 2, 2), (2, 3, 2, 2)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,jk->...ik", [(2, 2, 3, 4), (4, 5)]),
    ("b...,b->...", [(3, 2, 4), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("a,b,c->abc", [(2,), (3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (1, 4)]),  # size-1 broadcast, as torch
    ("i j , j k -> i k", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_torch(eq, shapes):
    arrays = [rand(*s, seed=20 + i) for i, s in enumerate(shapes)]
    check(lambda lib, *xs: lib.torch.einsum(eq, *xs), *arrays)
    check(lambda lib, *xs: lib.torch.einsum(eq, list(xs)), *arrays)  # operands as one list


def test_einsum_float32_sublist_and_diagonals():
    check_float32(lambda lib, a, b: lib.torch.einsum("ij,kj->ik", a, b), rand(3, 4, seed=1), rand(5, 4, seed=2))
    check(lambda lib, a, b: lib.torch.einsum(a, [0, 1], b, [1, 2], [0, 2]), rand(2, 3, seed=3), rand(3, 4, seed=4))
    check(lambda lib, a: lib.torch.einsum("ii->i", a), rand(3, 3, seed=5))
    check(lambda lib, a: lib.torch.einsum("ii", a), rand(3, 3, seed=6))
    check(lambda lib, a, b: lib.torch.einsum("iji,jk->ki", a, b), rand(3, 2, 3, seed=9), rand(2, 4, seed=10))
    check(lambda lib, a, b: lib.torch.einsum("bii,bi->b", a, b), rand(2, 3, 3, seed=11), rand(2, 3, seed=12))
    check(lambda lib, a: lib.torch.einsum("ijij->", a), rand(2, 3, 2, 3, seed=13))
    gradcheck(lambda a, b: cnnlab.einsum("ij,jk,k->i", a, b, b[0]), rand(2, 3, seed=7), rand(3, 3, seed=8))


def test_einsum_errors():
    a = cnnlab.zeros(3, 4, requires_grad=True)
    with pytest.raises(ValueError, match=r"einsum: a subscript must have one size in every operand \(or 1\). "
                                         r"Got 'j' of sizes 4 and 5"):
        cnnlab.einsum("ij,jk->ik", a, cnnlab.zeros(5, 2))
    with pytest.raises(ValueError, match=r"einsum: each subscript term must name one letter per dim"):
        cnnlab.einsum("ijk->i", a)
    with pytest.raises(ValueError, match=r"einsum: the equation must have one subscript term per operand"):
        cnnlab.einsum("ij,jk->ik", a)
    with pytest.raises(RuntimeError):
        torch.einsum("ij,jk->ik", torch.zeros(3, 4), torch.zeros(5, 2))
    with pytest.raises(RuntimeError):
        cnnlab.einsum("ij,jk->ik", a, cnnlab.zeros(5, 2))
