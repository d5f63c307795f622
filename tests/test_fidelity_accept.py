"""Issue 19, item 4: refuse what PyTorch refuses, accept (and compute as it does) what it accepts."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as cnF
from oracle import check, rand

torch = pytest.importorskip("torch")
F = torch.nn.functional


# ---- refused by torch, were accepted ---------------------------------------------------------------------
@pytest.mark.parametrize("dim", [5, 1, -2, (0, 3)])
def test_squeeze_out_of_range_dim_on_0d_is_refused(dim):
    with pytest.raises(IndexError):
        torch.tensor(1.0).squeeze(dim)
    with pytest.raises(IndexError, match=r"squeeze: dim must be in \[-1, 0\] for a 0-d tensor"):
        cnnlab.tensor(1.0).squeeze(dim)


@pytest.mark.parametrize("dim", [0, -1, (0,)])
def test_squeeze_dim_0_and_minus_1_on_0d_still_work(dim):
    check(lambda lib, x: x.squeeze(dim), np.array(0.5))


@pytest.mark.parametrize("inplace", [False, True])
def test_scatter_src_of_another_dtype_is_refused(inplace):
    def run(lib):
        x = lib.zeros(3)
        f = x.scatter_ if inplace else x.scatter
        return f(0, lib.tensor([1]), lib.tensor([1]))
    with pytest.raises(RuntimeError):
        run(torch)
    with pytest.raises(TypeError, match=r"scatter: src must have input's dtype\. Got input\.dtype=cnnlab\.float32, "
                                        r"src\.dtype=cnnlab\.int64"):
        run(cnnlab)


@pytest.mark.parametrize("make", [lambda lib: lib.linspace(0, 1, 3, dtype=lib.bool),
                                  lambda lib: lib.arange(3, dtype=lib.bool)])
def test_bool_ranges_are_refused(make):
    with pytest.raises(RuntimeError):
        make(torch)
    with pytest.raises(TypeError, match=r"(linspace|arange): dtype must be a number type, not bool"):
        make(cnnlab)


def test_scatter_with_an_unknown_reduce_is_refused():
    with pytest.raises(RuntimeError):
        torch.zeros(3).scatter(0, torch.tensor([1]), 2.0, reduce="sum")
    with pytest.raises(RuntimeError, match=r"scatter: reduce must be 'add' or 'multiply'\. Got reduce='sum'"):
        cnnlab.zeros(3).scatter(0, cnnlab.tensor([1]), 2.0, reduce="sum")


# ---- accepted by torch, were refused -----------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib, x: lib.torch.std_mean(x, dim=1, correction=0, keepdim=True),
    lambda lib, x: lib.torch.var_mean(input=x, dim=0, unbiased=False),
    lambda lib, x: lib.torch.std_mean(x, False),
    lambda lib, x: lib.torch.var_mean(x, True),
    lambda lib, x: lib.torch.var_mean(x, [0, 1], correction=2),
])
def test_std_mean_var_mean_keyword_and_overload_forms(call):
    check(call, rand(3, 4, seed=3))


@pytest.mark.parametrize("p", [0.5, 0, -1, -2.5, float("-inf"), float("inf"), 3])
@pytest.mark.parametrize("dim", [0, 1])
def test_normalize_any_p_like_torch(p, dim):
    x = rand(3, 4, seed=2)
    check(lambda lib, x: lib.F.normalize(x, p=p, dim=dim), x)
    x[:, 1] = 0  # a zero column: n = 0 for p < 1 (and below eps), gradient g / eps as torch
    check(lambda lib, x: lib.F.normalize(x, p=p, dim=dim), x,  # torch's second order there: NaN for these p,
          second_order=False if p in (0.5, -1, -2.5) else None)  # cnnlab's finite (tests/test_double_norm.py)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce_argument_like_torch(reduce, dim):
    index = np.array([[0, 2, 0], [2, 2, 0]]) if dim == 1 else np.array([[0, 1, 0, 1], [0, 0, 2, 1]])
    x, src = rand(3, 4, seed=5), rand(*index.shape, seed=6)
    check(lambda lib, x, i, s: x.scatter(dim, i, s, reduce=reduce), x, index, src, grad=[False, False, False])
    check(lambda lib, x, i: lib.torch.scatter(x, dim, i, 1.5, reduce=reduce), x, index, grad=[False, False])
    got = cnnlab.tensor(x).scatter_(dim, cnnlab.tensor(index), 1.5, reduce=reduce)
    want = torch.tensor(x).scatter_(dim, torch.tensor(index), 1.5, reduce=reduce)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_scatter_reduce_argument_has_no_derivative_like_torch():
    for lib in (torch, cnnlab):
        x = lib.zeros(3, requires_grad=True)
        y = x.scatter(0, lib.tensor([1, 1]), lib.ones(2), reduce="add")
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="(derivative|not implemented)"):
            y.sum().backward()


@pytest.mark.parametrize("view_as", ["int32", "int16", "uint8"])
def test_view_dtype_reinterprets_the_bits(view_as):
    x = rand(2, 4, seed=1, dtype=np.float32)
    got = cnnlab.tensor(x).view(getattr(cnnlab, view_as))
    want = torch.tensor(x).view(getattr(torch, view_as))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_interpolate_uint8_images_like_torch_cpu():
    rng = np.random.default_rng(0)
    for trial in range(12):
        h, w = rng.integers(2, 16, 2)
        oh, ow = (int(v) for v in rng.integers(1, 30, 2))
        x = rng.integers(0, 256, (2, 3, h, w)).astype(np.uint8)
        for kw in [dict(mode="nearest"), dict(mode="nearest-exact"), dict(mode="bilinear"),
                   dict(mode="bilinear", align_corners=True), dict(mode="bilinear", antialias=True),
                   dict(mode="bilinear", align_corners=True, antialias=True)]:
            want = F.interpolate(torch.from_numpy(x), size=(oh, ow), **kw)
            got = cnF.interpolate(cnnlab.tensor(x), size=(oh, ow), **kw)
            assert got.dtype == cnnlab.uint8
            np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=f"{kw}, {(h, w)} -> {(oh, ow)}")


def test_interpolate_uint8_scale_factor_and_1d_nearest():
    x = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    for mode in ("nearest", "nearest-exact"):
        want = F.interpolate(torch.from_numpy(x), scale_factor=1.7, mode=mode)
        np.testing.assert_array_equal(cnF.interpolate(cnnlab.tensor(x), scale_factor=1.7, mode=mode).numpy(),
                                      want.numpy())


def test_interpolate_uint8_bicubic_is_still_refused_with_the_modes_that_work():
    with pytest.raises(TypeError, match=r"interpolate: the input must be floating point \(or uint8 for nearest, "
                                        r"nearest-exact and bilinear\)\. Got dtype=cnnlab.int64, mode='bilinear'"):
        cnF.interpolate(cnnlab.ones(1, 1, 2, 2, dtype=cnnlab.int64), size=3, mode="bilinear")
