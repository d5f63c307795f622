"""dtypes against PyTorch: names and properties, promotion of every pair (tensors, 0-d tensors, Python numbers),
finfo/iinfo, the default dtype."""
import itertools
import pickle

import numpy as np
import pytest

import cnnlab

torch = pytest.importorskip("torch")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_dtype_objects():
    assert cnnlab.float32 == cnnlab.float == np.float32 == np.dtype("float32")
    assert cnnlab.float64 is cnnlab.double and cnnlab.int64 is cnnlab.long and cnnlab.int32 is cnnlab.int
    assert cnnlab.float16 is cnnlab.half and cnnlab.int16 is cnnlab.short
    assert repr(cnnlab.float32) == "cnnlab.float32" and cnnlab.float32 != cnnlab.float64
    assert cnnlab.float32.is_floating_point and not cnnlab.int64.is_floating_point and not cnnlab.bool.is_signed
    assert cnnlab.float64.itemsize == torch.float64.itemsize == 8 and not cnnlab.float32.is_complex
    assert cnnlab.ones(2).numpy().dtype == cnnlab.ones(2).dtype
    assert pickle.loads(pickle.dumps(cnnlab.int64)) is cnnlab.int64
    assert {cnnlab.float32: 1}[cnnlab.float] == 1


@pytest.mark.parametrize("name", NAMES)
def test_dtype_properties_match_torch(name):
    c, p = getattr(cnnlab, name), getattr(torch, name)
    assert c.is_floating_point == p.is_floating_point and c.is_signed == p.is_signed and c.itemsize == p.itemsize


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(NAMES, 2)))
def test_promote_types_matches_torch_for_every_pair(a, b):
    c = cnnlab.promote_types(getattr(cnnlab, a), getattr(cnnlab, b))
    p = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert c.name == str(p).split(".")[-1]
    ct = cnnlab.ones(2, dtype=getattr(cnnlab, a)) + cnnlab.ones(2, dtype=getattr(cnnlab, b))
    pt = torch.ones(2, dtype=getattr(torch, a)) + torch.ones(2, dtype=getattr(torch, b))
    assert ct.dtype.name == str(pt.dtype).split(".")[-1]


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_zero_dim_tensors_promote_like_torch(a, b):
    c = cnnlab.ones(2, dtype=getattr(cnnlab, a)) * cnnlab.ones((), dtype=getattr(cnnlab, b))
    p = torch.ones(2, dtype=getattr(torch, a)) * torch.ones((), dtype=getattr(torch, b))
    assert c.dtype.name == str(p.dtype).split(".")[-1]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5])
def test_python_numbers_promote_like_torch(name, scalar):
    c = cnnlab.ones(2, dtype=getattr(cnnlab, name)) + scalar
    p = torch.ones(2, dtype=getattr(torch, name)) + scalar
    assert c.dtype.name == str(p.dtype).split(".")[-1]
    c = scalar * cnnlab.ones(2, dtype=getattr(cnnlab, name))
    p = scalar * torch.ones(2, dtype=getattr(torch, name))
    assert c.dtype.name == str(p.dtype).split(".")[-1]


def test_finfo_iinfo_match_torch():
    for name in ("float16", "float32", "float64"):
        c, p = cnnlab.finfo(getattr(cnnlab, name)), torch.finfo(getattr(torch, name))
        assert (c.eps, c.max, c.min, c.tiny, c.bits) == (p.eps, p.max, p.min, p.tiny, p.bits)
    assert cnnlab.finfo().eps == torch.finfo().eps
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        c, p = cnnlab.iinfo(getattr(cnnlab, name)), torch.iinfo(getattr(torch, name))
        assert (c.max, c.min, c.bits) == (p.max, p.min, p.bits)
    with pytest.raises(TypeError, match=r"finfo: expects a floating dtype. Got dtype=cnnlab.int64"):
        cnnlab.finfo(cnnlab.int64)
    with pytest.raises(TypeError, match=r"iinfo: expects an integer dtype"):
        cnnlab.iinfo(cnnlab.float32)


def test_default_dtype_switch():
    assert cnnlab.get_default_dtype() == cnnlab.float32
    cnnlab.set_default_dtype(cnnlab.float64)
    try:
        assert cnnlab.tensor([1.0]).dtype == cnnlab.float64 and cnnlab.zeros(2).dtype == cnnlab.float64
        assert (cnnlab.tensor([1, 2]) / 2).dtype == cnnlab.float64 and cnnlab.arange(0.0, 1.0, 0.5).dtype == cnnlab.float64
        assert repr(cnnlab.tensor([1.5])) == "tensor([1.5000])"
    finally:
        cnnlab.set_default_dtype(cnnlab.float32)
    assert cnnlab.tensor([1.0]).dtype == cnnlab.float32
    with pytest.raises(TypeError, match=r"set_default_dtype: only floating dtypes can be the default"):
        cnnlab.set_default_dtype(cnnlab.int64)


def test_dtype_lookup_errors():
    with pytest.raises(TypeError, match=r"dtype: not a dtype cnnlab knows. Got dtype='complex'|cnnlab has no dtype"):
        cnnlab.zeros(2, dtype="complex")
    with pytest.raises(TypeError, match=r"dtype: cnnlab has no dtype for NumPy's uint16"):
        cnnlab.zeros(2, dtype=np.uint16)
    assert cnnlab.zeros(2, dtype=float).dtype == cnnlab.float32 and cnnlab.zeros(2, dtype=int).dtype == cnnlab.int64
    assert cnnlab.zeros(2, dtype="float64").dtype == cnnlab.float64 and cnnlab.zeros(1, dtype=bool).dtype == cnnlab.bool
