"""cnnlab.linalg (norms, inv, det) and torch.cdist against PyTorch: values and gradients."""
import numpy as np
import pytest

import cnnlab
from oracle import check, gradcheck, rand

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kwargs", [{}, dict(dim=1), dict(ord=1, dim=0), dict(ord=float("inf"), dim=1),
                                    dict(ord=3, dim=1), dict(dim=(0, 1)), dict(dim=1, keepdim=True), dict(ord="fro"),
                                    dict(ord=-float("inf"), dim=0)])
def test_linalg_norm(kwargs):
    check(lambda lib, a: lib.torch.linalg.norm(a, **kwargs), rand(3, 4, seed=1))


def test_vector_and_matrix_norm():
    check(lambda lib, a: lib.torch.linalg.vector_norm(a, ord=0.5, dim=-1), rand(2, 3, 4, seed=2))
    check(lambda lib, a: lib.torch.linalg.vector_norm(a), rand(2, 3, 4, seed=3))
    check(lambda lib, a: lib.torch.linalg.matrix_norm(a), rand(2, 3, 4, seed=4))
    # zero norm: gradient 0; its second order 0 too, where torch's is nan (tests/test_double_math_reduce.py)
    check(lambda lib, a: lib.torch.linalg.norm(a * 0), rand(3, seed=5), second_order=False)


def _well_conditioned(*shape, seed):
    return rand(*shape, seed=seed) + 3 * np.eye(shape[-1])


def test_inv_and_det():
    check(lambda lib, a: lib.torch.linalg.inv(a), _well_conditioned(3, 3, seed=6))
    check(lambda lib, a: lib.torch.inverse(a), _well_conditioned(2, 4, 4, seed=7))
    check(lambda lib, a: lib.torch.linalg.det(a), _well_conditioned(3, 3, seed=8))
    check(lambda lib, a: lib.torch.det(a), rand(2, 3, 3, seed=9))
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
    check(lambda lib, a: lib.torch.linalg.det(a), singular, grad=[False], atol=1e-14)   # the value only: below
    gradcheck(lambda a: cnnlab.linalg.inv(a), _well_conditioned(3, 3, seed=10))
    with pytest.raises(ValueError, match=r"inv: the matrix is singular"):
        cnnlab.linalg.inv(cnnlab.tensor(singular))


def _cofactors(a):
    """The cofactor matrix of a 3x3 matrix from its 2x2 minors (no LU, no inverse): d det(A)/dA."""
    out = np.empty_like(a)
    for i in range(3):
        for j in range(3):
            rows, cols = [r for r in range(3) if r != i], [c for c in range(3) if c != j]
            m = a[np.ix_(rows, cols)]
            out[i, j] = (-1) ** (i + j) * (m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0])
    return out


@pytest.mark.parametrize("a", [np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]]),   # rank 2
                               np.array([[1.0, 2.0, 0.0], [3.0, 6.0, 0.0], [1.0, 1.0, 0.0]])],  # rank 2, 0 column
                         ids=["dependent-rows", "zero-column"])
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(a):
    """det is a polynomial, so its gradient exists everywhere: the cofactor matrix (adjugate transposed), which
    is not zero at a matrix of rank n-1. PyTorch is wrong there on some CPUs: where its LU gives det == 0
    exactly (AMD EPYC AVX2; here with MKL_ENABLE_INSTRUCTIONS=SSE4_2) its gradient of the first matrix is all
    zeros, where the LU rounds det to -6.7e-16 (AVX-512) it gives the cofactors. So the gradient at a singular
    matrix is checked against the cofactors and finite differences, not PyTorch."""
    t = cnnlab.tensor(a, requires_grad=True)
    d = cnnlab.linalg.det(t)
    assert abs(d.item()) <= 1e-14
    g = np.random.default_rng(3).standard_normal()
    (d * g).backward()
    expected = g * _cofactors(a)
    assert np.abs(expected).max() > 1   # the test means something: the right answer is not 0
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12, atol=1e-13)
    gradcheck(lambda m: cnnlab.linalg.det(m), a)


def test_inv_of_a_singular_matrix_raises_linalg_error_like_torch():
    singular = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.inv(torch.tensor(singular))
    with pytest.raises(cnnlab.linalg.LinAlgError, match=r"inv: the matrix is singular \(not invertible\). "
                                                        r"Got shape=\(2, 2, 2\)") as info:
        cnnlab.linalg.inv(cnnlab.tensor(singular))
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match=r"det: A must be a square matrix or a batch of them"):
        cnnlab.linalg.det(cnnlab.ones(2, 3))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
def test_cdist(p):
    # second order: torch has none for cdist, cnnlab's is tested in tests/test_double_math_linalg.py
    check(lambda lib, a, b: lib.torch.cdist(a, b, p=p), rand(4, 3, seed=11), rand(5, 3, seed=12), second_order=False)
    check(lambda lib, a, b: lib.torch.cdist(a, b, p=p), rand(2, 3, 2, seed=13), rand(2, 4, 2, seed=14),
          second_order=False)


def test_cdist_zero_distance_gradient():
    x = rand(3, 2, seed=15)
    check(lambda lib, a, b: lib.torch.cdist(a, b), x, x.copy(), second_order=False)  # torch: no second order


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")])
@pytest.mark.parametrize("kwargs", [{}, dict(dim=(0, 2)), dict(dim=(2, 0), keepdim=True), dict(dim=(-1, 1))])
def test_matrix_norm_orders(ord, kwargs):
    check(lambda lib, a: lib.torch.linalg.matrix_norm(a, ord=ord, **kwargs), rand(2, 3, 4, seed=16))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf"), 3, 0.5])
def test_norm_picks_vector_or_matrix_norm_as_torch(ord):
    if isinstance(ord, str) or ord not in (3, 0.5):
        check(lambda lib, a: lib.torch.linalg.norm(a, ord=ord), rand(3, 4, seed=17))   # 2-D, no dim: matrix
    if not isinstance(ord, str):
        check(lambda lib, a: lib.torch.linalg.norm(a, ord=ord), rand(5, seed=18))      # 1-D: vector
        check(lambda lib, a: lib.torch.linalg.norm(a, ord, (1,)), rand(2, 5, seed=19))  # one dim: vector


def test_norm_errors_like_torch():
    a = cnnlab.ones(2, 3, 4)
    with pytest.raises(ValueError, match=r"norm: if dim is not given but ord is, the input must be 1-D or 2-D"):
        cnnlab.linalg.norm(a, ord=1)
    with pytest.raises(RuntimeError):
        torch.linalg.norm(torch.ones(2, 3, 4), ord=1)
    with pytest.raises(ValueError, match=r"matrix_norm: ord must be one of .* Got ord=3"):
        cnnlab.linalg.matrix_norm(a, ord=3)
    with pytest.raises(ValueError, match=r"matrix_norm: the two dims must be different. Got dim=\(1, 1\)"):
        cnnlab.linalg.matrix_norm(a, dim=(1, 1))
    with pytest.raises(ValueError, match=r"matrix_norm: A must have at least 2 dims"):
        cnnlab.linalg.matrix_norm(cnnlab.ones(3))
    with pytest.raises(TypeError, match=r"vector_norm: ord must be a number. Got ord='fro'"):
        cnnlab.linalg.vector_norm(a, ord="fro")
