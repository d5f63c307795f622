"""Tensor creation against PyTorch: dtypes and shapes of every factory, seeded generators, randint forms."""
import numpy as np
import pytest

import cnnlab

torch = pytest.importorskip("torch")


def _same(c, p):
    assert tuple(c.shape) == tuple(p.shape), (c.shape, p.shape)
    assert c.dtype.name == str(p.dtype).split(".")[-1], (c.dtype, p.dtype)


DATA = [[1, 2, 3], [1.0, 2.0], [True, False], [[1, 2], [3, 4]], 3, 2.5, True, [], [[1.5]], [1, 2.5],
        np.array([1, 2], dtype=np.int32), np.array([1.0], dtype=np.float64), np.float64(2.0), np.int32(3),
        np.array([1.0], dtype=np.float16), np.array([1, 2], dtype=np.uint8)]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_infers_dtypes_like_torch(data):
    c, p = cnnlab.tensor(data), torch.tensor(data)
    _same(c, p)
    np.testing.assert_array_equal(c.numpy(), p.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "uint8", "float16"])
def test_tensor_with_explicit_dtype(dtype):
    data = [[0, 1.5], [2, -3]]
    c, p = cnnlab.tensor(data, dtype=getattr(cnnlab, dtype)), torch.tensor(data, dtype=getattr(torch, dtype))
    _same(c, p)
    np.testing.assert_array_equal(c.numpy(), p.numpy())


def test_tensor_copies_and_from_numpy_shares():
    a = np.ones(3, dtype=np.float32)
    t, f, s = cnnlab.tensor(a), cnnlab.from_numpy(a), cnnlab.as_tensor(a)
    a[0] = 5.0
    assert t[0].item() == 1.0 and f[0].item() == 5.0 and s[0].item() == 5.0 and f.dtype == cnnlab.float32
    x = cnnlab.ones(2)
    assert cnnlab.as_tensor(x) is x and cnnlab.as_tensor(x, dtype=cnnlab.float64).dtype == cnnlab.float64
    assert cnnlab.tensor([cnnlab.tensor(1.0), cnnlab.tensor(2.0)]).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match=r"from_numpy: expects a numpy.ndarray. Got list"):
        cnnlab.from_numpy([1, 2])
    with pytest.raises(TypeError, match=r"tensor: data must be numbers or booleans"):
        cnnlab.tensor(["a", "b"])
    with pytest.raises(ValueError, match=r"tensor: nested sequences must be rectangular"):
        cnnlab.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match=r"dtype: cnnlab has no dtype for NumPy's complex128"):
        cnnlab.from_numpy(np.ones(2, dtype=complex))


FACTORIES = [
    lambda L: L.zeros(2, 3), lambda L: L.zeros((2, 3)), lambda L: L.zeros([4]), lambda L: L.zeros(size=(2, 1)),
    lambda L: L.zeros(()), lambda L: L.zeros(0, 3), lambda L: L.ones(2, 3, dtype=L.int64), lambda L: L.ones(5),
    lambda L: L.empty(2, 2).fill_(0), lambda L: L.full((2, 3), 1.5), lambda L: L.full((2,), 7),
    lambda L: L.full((2,), True), lambda L: L.full((2,), 2, dtype=L.float64), lambda L: L.eye(3),
    lambda L: L.eye(2, 4, dtype=L.int64), lambda L: L.arange(5), lambda L: L.arange(1, 10, 3),
    lambda L: L.arange(0.0, 1.0, 0.25), lambda L: L.arange(5, dtype=L.float32), lambda L: L.arange(5, 0, -2),
    lambda L: L.arange(0, 1, 0.1), lambda L: L.arange(2.5), lambda L: L.linspace(0, 1, 5),
    lambda L: L.linspace(-1, 1, 4, dtype=L.float64), lambda L: L.zeros_like(L.ones(2, 3, dtype=L.int32)),
    lambda L: L.ones_like(L.ones(2, dtype=L.float64)), lambda L: L.full_like(L.ones(3), 4),
    lambda L: L.zeros_like(L.ones(2), dtype=L.int64), lambda L: L.empty_like(L.ones(2)).zero_(),
    lambda L: L.zeros(2, 3, device="cpu"), lambda L: L.tensor([1.0], device="cpu"),
]


@pytest.mark.parametrize("make", FACTORIES)
def test_factories_match_torch(make):
    c, p = make(cnnlab), make(torch)
    _same(c, p)
    np.testing.assert_allclose(c.numpy().astype(np.float64), p.numpy().astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda L: L.rand(3, 4), lambda L: L.randn(2, 5), lambda L: L.rand((2, 2), dtype=L.float64),
    lambda L: L.randn(3, dtype=L.float64), lambda L: L.randint(10, (3,)), lambda L: L.randint(2, 9, (2, 3)),
    lambda L: L.randint(5, (2,), dtype=L.int32), lambda L: L.randint(low=1, high=4, size=(3,)),
    lambda L: L.randint(10, size=(4,)), lambda L: L.randint(high=3, size=(2, 2)), lambda L: L.randperm(6),
    lambda L: L.rand_like(L.ones(2, dtype=L.float64)), lambda L: L.randn_like(L.ones(3, 2)),
    lambda L: L.randint_like(L.ones(3), 5), lambda L: L.normal(0.0, 2.0, size=(3,)),
    lambda L: L.normal(L.zeros(4), 1.0), lambda L: L.bernoulli(L.full((5,), 0.5)), lambda L: L.rand(size=(2,)),
    lambda L: L.randn(2, 3, requires_grad=True), lambda L: L.rand(0),
])
def test_random_factories_dtype_and_shape_match_torch(make):
    _same(make(cnnlab), make(torch))


def test_random_value_ranges():
    g = cnnlab.Generator().manual_seed(1)
    u = cnnlab.rand(10000, generator=g)
    assert u.dtype == cnnlab.float32 and 0.0 <= u.min().item() and u.max().item() < 1.0
    assert abs(u.mean().item() - 0.5) < 0.02
    n = cnnlab.randn(10000, generator=g, dtype=cnnlab.float64)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1.0) < 0.05
    r = cnnlab.randint(3, 7, (1000,), generator=g)
    assert set(r.tolist()) == {3, 4, 5, 6}
    p = cnnlab.randperm(10, generator=g)
    assert sorted(p.tolist()) == list(range(10))
    b = cnnlab.bernoulli(cnnlab.tensor([0.0, 1.0, 0.0, 1.0]), generator=g)
    assert b.tolist() == [0.0, 1.0, 0.0, 1.0]


def test_same_seed_same_numbers():
    cnnlab.manual_seed(123)
    a = (cnnlab.rand(3), cnnlab.randn(2, 2), cnnlab.randint(100, (4,)), cnnlab.randperm(5))
    cnnlab.manual_seed(123)
    b = (cnnlab.rand(3), cnnlab.randn(2, 2), cnnlab.randint(100, (4,)), cnnlab.randperm(5))
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    cnnlab.manual_seed(124)
    assert cnnlab.rand(3).tolist() != a[0].tolist()
    assert cnnlab.initial_seed() == 124


def test_generator_objects_are_independent_of_the_default():
    g1, g2 = cnnlab.Generator().manual_seed(7), cnnlab.Generator().manual_seed(7)
    cnnlab.manual_seed(0)
    a = cnnlab.randn(4, generator=g1)
    cnnlab.randn(100)  # draws from the default generator do not disturb g2
    assert cnnlab.randn(4, generator=g2).tolist() == a.tolist()
    assert g1.initial_seed() == 7
    state = g1.get_state()
    x = cnnlab.rand(3, generator=g1)
    g1.set_state(state)
    assert cnnlab.rand(3, generator=g1).tolist() == x.tolist()
    s = cnnlab.get_rng_state()
    y = cnnlab.rand(2)
    cnnlab.set_rng_state(s)
    assert cnnlab.rand(2).tolist() == y.tolist()
    t = cnnlab.zeros(3)
    t.uniform_(-1, 1, generator=cnnlab.Generator().manual_seed(3))
    t2 = cnnlab.zeros(3).uniform_(-1, 1, generator=cnnlab.Generator().manual_seed(3))
    assert t.tolist() == t2.tolist() and all(-1 <= v < 1 for v in t.tolist())
    with pytest.raises(TypeError, match=r"generator must be a cnnlab.Generator. Got int"):
        cnnlab.rand(2, generator=3)
    with pytest.raises(ValueError, match=r"manual_seed: seed must be non-negative"):
        cnnlab.Generator().manual_seed(-1)


def test_requires_grad_on_factories():
    for t in (cnnlab.zeros(2, requires_grad=True), cnnlab.randn(2, requires_grad=True),
              cnnlab.full((2,), 1.0, requires_grad=True), cnnlab.arange(3.0, requires_grad=True),
              cnnlab.tensor([1.0], requires_grad=True), cnnlab.ones_like(cnnlab.ones(2), requires_grad=True)):
        assert t.requires_grad and t.is_leaf
    with pytest.raises(cnnlab.DTypeError, match=r"requires_grad_: only floating-point tensors"):
        cnnlab.zeros(2, dtype=cnnlab.int64, requires_grad=True)


def test_creation_errors():
    with pytest.raises(cnnlab.ShapeError, match=r"zeros: sizes must be non-negative. Got size=\(-1,\)"):
        cnnlab.zeros(-1)
    with pytest.raises(RuntimeError):  # as torch
        cnnlab.ones(2, -3)
    with pytest.raises(TypeError, match=r"zeros: sizes must be ints"):
        cnnlab.zeros(2.5)
    with pytest.raises(TypeError, match=r"rand: dtype must be floating point. Got dtype=cnnlab.int64"):
        cnnlab.rand(2, dtype=cnnlab.int64)
    with pytest.raises(ValueError, match=r"arange: step must be nonzero"):
        cnnlab.arange(0, 5, 0)
    with pytest.raises(ValueError, match=r"arange: the step must point from start toward end"):
        cnnlab.arange(0, 5, -1)
    with pytest.raises(ValueError, match=r"randint: high must be greater than low. Got low=5, high=5"):
        cnnlab.randint(5, 5, (2,))
    with pytest.raises(TypeError, match=r"randint: expects randint\(high, size\) or randint\(low, high, size\)"):
        cnnlab.randint(5)
    with pytest.raises(TypeError, match=r"zeros: unexpected keyword arguments \['bogus'\]"):
        cnnlab.zeros(2, bogus=1)
