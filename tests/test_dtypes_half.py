"""float16 and bfloat16 against PyTorch: bfloat16 rounding bit by bit (ties, subnormals, inf/nan, overflow,
from float64/float16/int64), dtype objects and promotion, conversions, printing, element_size, arithmetic
(values and result dtypes), autograd, assert_close and the legacy type. Modules and optimizers:
test_dtypes_half_modules.py; float16 accumulation: test_dtypes_half_accuracy.py."""
import itertools
import pickle

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


_NAN = 0x7FC0  # every NaN as one pattern: PyTorch's own NaN bits depend on its code path (0x7FC0 or 0xFFFF)


def _bf16_bits_torch(x):
    """PyTorch's bfloat16 bit patterns of an array (uint16), NaNs as _NAN."""
    t = torch.from_numpy(np.ascontiguousarray(x)).to(torch.bfloat16)
    return np.where(t.isnan().numpy(), _NAN, t.view(torch.int16).numpy().view(np.uint16))


def _bf16_bits(t):
    """cnnlab's bfloat16 tensor as uint16 bit patterns (the stored float32's high half; the low half is 0)."""
    bits = t._data.view(np.uint32)
    assert not (bits & 0xFFFF).any(), "bfloat16 storage must have zero low halves"
    return (bits >> 16).astype(np.uint16)


def _specials():
    f32 = np.float32
    big = np.frombuffer(np.array([0x7F7F0000, 0x7F7F7FFF, 0x7F7F8000, 0x7F7FFFFF], np.uint32).tobytes(), f32)
    return np.concatenate([
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0], f32),
        big, -big,  # bfloat16's max, just below the tie to inf, the tie (rounds to inf), float32's max
        np.array([1e-40, -1e-40, 1e-45, 2.0 ** -133, 2.0 ** -126, 3.0e-39], f32),  # subnormals and the smallest normal
    ])


def _ties(rng, n):
    """float32 values exactly halfway between two bfloat16 neighbours (half with an even, half with an odd low
    kept bit), plus their float32 neighbours on either side."""
    hi = rng.integers(0, 0x7F7F, n).astype(np.uint32) << 16
    tie = hi | 0x8000
    return np.concatenate([tie, tie - 1, tie + 1]).view(np.float32) * np.where(rng.random(3 * n) < 0.5, -1, 1).astype(
        np.float32)


def test_bfloat16_rounding_is_bit_exact_on_random_bit_patterns_and_special_values():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.integers(0, 2 ** 32, 100_000, dtype=np.uint64).astype(np.uint32).view(np.float32),
                        _ties(rng, 5000), _specials()])
    assert np.isnan(x).any() and np.isinf(x).any()
    got = _bf16_bits(cnnlab.from_numpy(x).bfloat16())
    np.testing.assert_array_equal(got, _bf16_bits_torch(x))
    got = _bf16_bits(cnnlab.tensor(x, dtype=cnnlab.bfloat16))
    np.testing.assert_array_equal(got, _bf16_bits_torch(x))


def test_bfloat16_from_float64_float16_and_int64_rounds_as_torch():
    rng = np.random.default_rng(1)
    # float64 values next to a bfloat16 tie: converting via float32 rounds twice, as PyTorch does
    ties = _ties(rng, 2000).astype(np.float64)
    x64 = np.concatenate([ties + ties * 2.0 ** -30, ties - ties * 2.0 ** -30, rng.standard_normal(5000) * 1e30,
                          np.array([1e39, -1e39, 1e-300, np.nan, np.inf])])
    np.testing.assert_array_equal(_bf16_bits(cnnlab.from_numpy(x64).to(cnnlab.bfloat16)), _bf16_bits_torch(x64))
    p = torch.tensor(x64.tolist(), dtype=torch.bfloat16)
    np.testing.assert_array_equal(_bf16_bits(cnnlab.tensor(x64.tolist(), dtype=cnnlab.bfloat16)),
                                  np.where(p.isnan().numpy(), _NAN, p.view(torch.int16).numpy().view(np.uint16)))
    x16 = rng.integers(0, 2 ** 16, 20000).astype(np.uint16).view(np.float16)
    np.testing.assert_array_equal(_bf16_bits(cnnlab.from_numpy(x16).bfloat16()), _bf16_bits_torch(x16))
    ints = np.concatenate([rng.integers(-2 ** 40, 2 ** 40, 5000), np.arange(250, 270), np.arange(-300, -250)])
    np.testing.assert_array_equal(_bf16_bits(cnnlab.from_numpy(ints).bfloat16()), _bf16_bits_torch(ints))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_conversion_back_to_float32_and_float64_is_exact(name):
    x = np.random.default_rng(2).standard_normal(1000).astype(np.float32) * 100
    c, p = cnnlab.from_numpy(x).to(getattr(cnnlab, name)), torch.from_numpy(x).to(getattr(torch, name))
    for back in ("float32", "float64", "float16"):
        cb, pb = c.to(getattr(cnnlab, back)), p.to(getattr(torch, back))
        assert cb.dtype == getattr(cnnlab, back) and cb.dtype.name == str(pb.dtype).split(".")[-1]
        np.testing.assert_array_equal(cb.numpy(), pb.numpy())
    assert c.float().dtype == cnnlab.float32 and c.double().dtype == cnnlab.float64
    assert c.half().dtype == cnnlab.float16 and c.bfloat16().dtype == cnnlab.bfloat16


def test_dtype_objects_for_half_and_bfloat16():
    assert cnnlab.half is cnnlab.float16 and cnnlab.bfloat16 != cnnlab.float32 and cnnlab.float32 != cnnlab.bfloat16
    assert cnnlab.bfloat16 == cnnlab.bfloat16 and cnnlab.bfloat16 != np.float32 and cnnlab.float32 == np.float32
    assert repr(cnnlab.bfloat16) == "cnnlab.bfloat16" and pickle.loads(pickle.dumps(cnnlab.bfloat16)) is cnnlab.bfloat16
    for name in ("float16", "bfloat16"):
        c, p = getattr(cnnlab, name), getattr(torch, name)
        assert (c.is_floating_point, c.is_signed, c.itemsize) == (p.is_floating_point, p.is_signed, p.itemsize)
    assert len({cnnlab.float32: 1, cnnlab.bfloat16: 2}) == 2
    f, p = cnnlab.finfo(cnnlab.bfloat16), torch.finfo(torch.bfloat16)
    assert (f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution) == (
        p.bits, p.eps, p.max, p.min, p.tiny, p.smallest_normal, p.resolution)
    assert cnnlab.finfo(cnnlab.float16).eps == torch.finfo(torch.float16).eps


@pytest.mark.parametrize("a,b", [(a, b) for a, b in itertools.combinations_with_replacement(NAMES, 2)
                                 if "bfloat16" in (a, b)])
def test_bfloat16_promotion_matches_torch(a, b):
    assert cnnlab.promote_types(getattr(cnnlab, a), getattr(cnnlab, b)).name == \
        str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[-1]
    for sa, sb in [((2,), (2,)), ((2,), ()), ((), (2,))]:  # dimensioned and 0-d operands
        ct = cnnlab.ones(sa, dtype=getattr(cnnlab, a)) + cnnlab.ones(sb, dtype=getattr(cnnlab, b))
        pt = torch.ones(sa, dtype=getattr(torch, a)) + torch.ones(sb, dtype=getattr(torch, b))
        assert ct.dtype.name == str(pt.dtype).split(".")[-1], (sa, sb)
        np.testing.assert_array_equal(ct.float().numpy(), pt.float().numpy())


@pytest.mark.parametrize("scalar", [2, 2.5, True])
@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_python_scalars_keep_half_dtypes(name, scalar):
    c = cnnlab.tensor([1.0, 3.3], dtype=getattr(cnnlab, name)) * scalar
    p = torch.tensor([1.0, 3.3], dtype=getattr(torch, name)) * scalar
    assert c.dtype.name == str(p.dtype).split(".")[-1]
    np.testing.assert_array_equal(c.float().numpy(), p.float().numpy())


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_printing_element_size_and_type_name_match_torch(name):
    vals = [[1.0, -2.3, 1e-3], [300.0, 0.1, -7.77]]
    c, p = cnnlab.tensor(vals, dtype=getattr(cnnlab, name)), torch.tensor(vals, dtype=getattr(torch, name))
    assert repr(c) == repr(p).replace("torch.", "cnnlab.")
    assert repr(c.sum(1)) == repr(p.sum(1)).replace("torch.", "cnnlab.")
    assert c.element_size() == p.element_size() and c.type() == p.type()
    assert c.type(cnnlab.float32).dtype == cnnlab.float32 and cnnlab.ones(2).type(p.type()).dtype.name == name
    assert cnnlab.zeros(2, dtype=getattr(cnnlab, name)).dtype.name == name
    assert cnnlab.ones(2).to(name).dtype.name == name and cnnlab.ones(2).to(c).dtype.name == name


def test_factories_make_bfloat16():
    for f in (cnnlab.zeros, cnnlab.ones, cnnlab.empty, cnnlab.randn, cnnlab.rand):
        t = f(3, 4, dtype=cnnlab.bfloat16)
        assert t.dtype == cnnlab.bfloat16 and not (t._data.view(np.uint32) & 0xFFFF).any()
    r = cnnlab.rand(10000, dtype=cnnlab.bfloat16).float()
    assert float(r.max()) < 1.0 and float(r.min()) >= 0.0
    assert repr(cnnlab.full((2,), 1.3, dtype=cnnlab.bfloat16)) == \
        repr(torch.full((2,), 1.3, dtype=torch.bfloat16)).replace("torch.", "cnnlab.")


def test_bfloat16_numpy_is_refused_like_torch():
    x = cnnlab.ones(2, dtype=cnnlab.bfloat16)
    with pytest.raises(TypeError, match="no bfloat16"):
        x.numpy()
    with pytest.raises(TypeError):
        torch.ones(2, dtype=torch.bfloat16).numpy()
    np.testing.assert_array_equal(x.float().numpy(), [1.0, 1.0])


def _ops():
    """Ops PyTorch computes in float32 and rounds once: cnnlab agrees bit for bit, in value and dtype."""
    return {
        "add": lambda L, x, y, w, i, k: x + y, "sub": lambda L, x, y, w, i, k: x - y,
        "mul": lambda L, x, y, w, i, k: x * y, "div": lambda L, x, y, w, i, k: x / y,
        "neg": lambda L, x, y, w, i, k: -x, "exp": lambda L, x, y, w, i, k: x.exp(),
        "sqrt": lambda L, x, y, w, i, k: x.abs().sqrt(), "pow": lambda L, x, y, w, i, k: x ** 2,
        "tanh": lambda L, x, y, w, i, k: x.tanh(), "relu": lambda L, x, y, w, i, k: L.relu(x),
        "gelu": lambda L, x, y, w, i, k: L.nn.functional.gelu(x),
        "clamp": lambda L, x, y, w, i, k: x.clamp(-0.5, 0.5), "maximum": lambda L, x, y, w, i, k: L.maximum(x, y),
        "matmul": lambda L, x, y, w, i, k: x @ w, "sum": lambda L, x, y, w, i, k: x.sum(),
        "sum_dim": lambda L, x, y, w, i, k: x.sum(1), "mean": lambda L, x, y, w, i, k: x.mean(0),
        "amax": lambda L, x, y, w, i, k: x.amax(1), "transpose": lambda L, x, y, w, i, k: x.t().contiguous(),
        "linear": lambda L, x, y, w, i, k: L.nn.functional.linear(x, w.t()),
        "conv2d": lambda L, x, y, w, i, k: L.nn.functional.conv2d(i, k, padding=1),
        "max_pool2d": lambda L, x, y, w, i, k: L.nn.functional.max_pool2d(i, 2),
        "index": lambda L, x, y, w, i, k: x[1:4, ::2], "reshape": lambda L, x, y, w, i, k: x.reshape(7, 6),
    }


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", sorted(_ops()))
def test_ops_on_half_dtypes_match_torch(name, op):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(6, 7), (6, 7), (7, 5), (2, 3, 8, 8), (4, 3, 3, 3)]]
    fn = _ops()[op]
    c = fn(cnnlab, *[cnnlab.from_numpy(a).to(getattr(cnnlab, name)) for a in arrays])
    p = fn(torch, *[torch.from_numpy(a).to(getattr(torch, name)) for a in arrays])
    assert c.dtype.name == str(p.dtype).split(".")[-1]
    np.testing.assert_array_equal(c.float().numpy(), p.float().numpy())
    if name == "bfloat16":
        assert not (c._data.view(np.uint32) & 0xFFFF).any()


# Ops whose NumPy result loses the bfloat16 tag (reductions, concatenation, np.where, a Python number on the left,
# float64 internals): Tensor._from_op restores it from PyTorch's promotion of the inputs; dtype= is respected.
_RETAGGED = [
    "x.sigmoid()", "x.max()", "x.min()", "x.max(1)[0]", "x.var()", "x.std(0)", "L.cat([x, x])", "L.stack([x, x])",
    "L.where(x > 0, x, 0.0)", "x.abs().rsqrt()", "x.masked_fill(x > 0, 1.0)", "x.tril()", "1 - x", "2 / x",
    "x.nan_to_num()", "x[:, :4].trace()", "x.logsumexp(1)", "x.prod(1)", "x.cumsum(1)", "x.norm()",
    "F.leaky_relu(x)", "F.elu(x)", "F.softplus(x)", "F.cross_entropy(x, L.tensor([0, 1, 2, 3]))",
    "F.nll_loss(x, L.tensor([0, 1, 2, 3]))", "F.binary_cross_entropy(x.sigmoid(), (x > 0).to(x.dtype))",
    "F.prelu(x, L.ones(1, dtype=x.dtype))", "F.layer_norm(x, (6,))", "F.mse_loss(x, x * 0.5)",
    "x.sum(dtype=L.float32)", "x.mean(dtype=L.float32)", "x.cumsum(1, dtype=L.float32)", "x.prod(dtype=L.float64)",
    "x.softmax(1, dtype=L.float32)", "x.float() + x", "x.double() * x", "x * L.tensor(2.0, dtype=L.float64)",
    "L.clamp(x, min=x.float() * 0.5)", "L.maximum(x, x.float() * 0.5)", "L.where(x > 0, x, x.float() * 0.5)",
]


@pytest.mark.parametrize("expr", _RETAGGED)
def test_bfloat16_result_dtypes_match_torch(expr):
    a = np.random.default_rng(5).standard_normal((4, 6)).astype(np.float32)
    out = {}
    for L in (cnnlab, torch):
        out[L] = eval(expr, {"L": L, "F": L.nn.functional, "x": L.from_numpy(a).to(L.bfloat16)})
    c, p = out[cnnlab], out[torch]
    assert c.dtype.name == str(p.dtype).split(".")[-1]
    np.testing.assert_allclose(c.double().numpy(), p.double().numpy(), rtol=2 ** -7, atol=1e-3)
    if c.dtype == cnnlab.bfloat16:
        assert not (c._data.view(np.uint32) & 0xFFFF).any()


def test_bfloat16_inplace_views_and_cat_of_views_keep_the_grid():
    x = cnnlab.tensor([1.0, 2.0, 3.0], dtype=cnnlab.bfloat16)
    v = x[1:]
    assert v.dtype == cnnlab.bfloat16 and v._data.base is not None  # still a view (the rounding did not copy)
    e = x.expand(2, 3)
    assert e.dtype == cnnlab.bfloat16 and repr(e) == repr(torch.tensor([1.0, 2, 3]).bfloat16().expand(2, 3)).replace(
        "torch.", "cnnlab.")


def test_bfloat16_autograd_matches_torch():
    rng = np.random.default_rng(4)
    a, w = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((3, 5)).astype(np.float32)
    x = cnnlab.from_numpy(a).bfloat16().requires_grad_()
    px = torch.from_numpy(a).bfloat16().requires_grad_()
    lin, plin = nn.Linear(5, 3).bfloat16(), torch.nn.Linear(5, 3).bfloat16()
    with torch.no_grad():
        plin.weight.copy_(torch.from_numpy(w))
        plin.bias.zero_()
    with cnnlab.no_grad():
        lin.weight.copy_(cnnlab.from_numpy(w))
        lin.bias.zero_()
    g = rng.standard_normal((4, 3)).astype(np.float32)
    lin(x).backward(cnnlab.from_numpy(g).bfloat16())  # one path: every gradient one rounded matmul, bit-exact
    plin(px).backward(torch.from_numpy(g).bfloat16())
    for c, p in [(x.grad, px.grad), (lin.weight.grad, plin.weight.grad), (lin.bias.grad, plin.bias.grad)]:
        assert c.dtype == cnnlab.bfloat16 and p.dtype == torch.bfloat16
        np.testing.assert_array_equal(c.float().numpy(), p.float().numpy())
    x.grad = px.grad = None
    # two paths into x: PyTorch rounds each path's gradient to bfloat16 before adding them, cnnlab adds them in
    # float32 and rounds the sum once, so they may differ by a few bfloat16 steps of the largest gradient
    (lin(x) * x.sum(1, keepdim=True)).sum().backward()
    (plin(px) * px.sum(1, keepdim=True)).sum().backward()
    c, p = x.grad.float().numpy(), px.grad.float().numpy()
    assert x.grad.dtype == cnnlab.bfloat16
    np.testing.assert_allclose(c, p, rtol=0, atol=4 * 2 ** -7 * np.abs(p).max())


def test_assert_close_tells_bfloat16_from_float32_and_uses_torchs_tolerance():
    x = cnnlab.tensor([1.0, 2.0, 3.0], dtype=cnnlab.bfloat16)
    with pytest.raises(AssertionError, match="cnnlab.bfloat16 != cnnlab.float32"):
        cnnlab.testing.assert_close(x, x.float())
    with pytest.raises(AssertionError, match="torch.bfloat16 != torch.float32"):
        torch.testing.assert_close(torch.tensor([1.0]).bfloat16(), torch.tensor([1.0]))
    near = cnnlab.tensor([1.0078125, 2.0, 3.0], dtype=cnnlab.bfloat16)  # one bfloat16 step above 1.0
    cnnlab.testing.assert_close(near, x)
    torch.testing.assert_close(torch.tensor([1.0078125]).bfloat16(), torch.tensor([1.0]).bfloat16())
    cnnlab.testing.assert_close(x, x.float(), check_dtype=False)


@pytest.mark.parametrize("op", ["linear", "conv2d"])
def test_bfloat16_mixed_with_float32_in_linear_and_conv_is_refused_like_torch(op):
    shapes = {"linear": [(2, 4), (3, 4)], "conv2d": [(1, 2, 5, 5), (3, 2, 3, 3)]}[op]
    for L, err in [(cnnlab, cnnlab.DTypeError), (torch, RuntimeError)]:
        x, w = L.ones(shapes[0]).to(L.bfloat16), L.ones(shapes[1])
        with pytest.raises(err):
            getattr(L.nn.functional, op)(x, w)
        assert getattr(L.nn.functional, op)(x, w.to(L.bfloat16)).dtype == L.bfloat16


def test_legacy_bfloat16_tensor_type_like_torch():
    c, p = cnnlab.BFloat16Tensor([1.3, 2.0]), torch.BFloat16Tensor([1.3, 2.0])
    assert repr(c) == repr(p).replace("torch.", "cnnlab.")
    assert isinstance(c, cnnlab.BFloat16Tensor) and not isinstance(c, cnnlab.FloatTensor)
    assert not isinstance(c.float(), cnnlab.BFloat16Tensor) and not isinstance(p.float(), torch.BFloat16Tensor)
    assert cnnlab.ones(2).type(cnnlab.BFloat16Tensor).dtype == cnnlab.bfloat16
    assert tuple(cnnlab.BFloat16Tensor(2, 3).shape) == (2, 3)
