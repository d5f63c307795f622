"""Tutorial-frequent ops built from the core ones (ops/fused.py, ops/selection.py, ops/trig.py, ...) and the in-place method family
(x.sqrt_(), x.addcmul_(...), x.t_()), against PyTorch: values and gradients."""
import numpy as np
import pytest

import cnnlab
from oracle import check, gradcheck, rand

torch = pytest.importorskip("torch")

CASES = {
    "addcmul": (lambda lib, a, b, c: lib.torch.addcmul(a, b, c, value=0.5), [(3, 4), (3, 4), (4,)]),
    "addcdiv": (lambda lib, a, b, c: a.addcdiv(b, c.abs() + 1, value=-2), [(3, 4), (3, 4), (3, 4)]),
    "lerp": (lambda lib, a, b: lib.torch.lerp(a, b, 0.3), [(2, 3), (2, 3)]),
    "lerp tensor weight": (lambda lib, a, b, w: a.lerp(b, w), [(2, 3), (2, 3), (3,)]),
    "addmm": (lambda lib, a, b, c: lib.torch.addmm(a, b, c, beta=0.5, alpha=2), [(3,), (2, 4), (4, 3)]),
    "mv": (lambda lib, a, v: lib.torch.mv(a, v), [(3, 4), (4,)]),
    "masked_select": (lambda lib, a, b: lib.torch.masked_select(a, b > 0), [(3, 4), (4,)]),
    "narrow": (lambda lib, a: a.narrow(1, 1, 2), [(3, 4)]),
    "narrow neg": (lambda lib, a: lib.torch.narrow(a, 0, -2, 2), [(3, 4)]),
    "select": (lambda lib, a: a.select(1, -1), [(3, 4, 2)]),
    "take": (lambda lib, a: lib.torch.take(a, lib.torch.tensor([[0, 5], [11, 5]])), [(3, 4)]),
    "movedim": (lambda lib, a: lib.torch.movedim(a, 0, -1), [(2, 3, 4)]),
    "movedim list": (lambda lib, a: a.movedim((0, 1), (2, 0)), [(2, 3, 4)]),
    "tile": (lambda lib, a: a.tile((2,)), [(2, 3)]),
    "tile more": (lambda lib, a: lib.torch.tile(a, (2, 1, 3)), [(2, 3)]),
    "repeat_interleave": (lambda lib, a: a.repeat_interleave(2), [(2, 3)]),
    "repeat_interleave dim": (lambda lib, a: lib.torch.repeat_interleave(a, lib.torch.tensor([1, 0, 3]), dim=1),
                              [(2, 3)]),
    "unflatten": (lambda lib, a: a.unflatten(1, (2, -1)), [(3, 4)]),
    "broadcast_to": (lambda lib, a: lib.torch.broadcast_to(a, (2, 3, 4)), [(3, 1)]),
    "broadcast_tensors": (lambda lib, a, b: lib.torch.broadcast_tensors(a, b), [(3, 1), (4,)]),
    "hstack": (lambda lib, a, b: lib.torch.hstack([a, b]), [(2, 3), (2, 1)]),
    "hstack 1d": (lambda lib, a, b: lib.torch.hstack((a, b)), [(3,), (2,)]),
    "vstack": (lambda lib, a, b: lib.torch.vstack([a, b]), [(3,), (2, 3)]),
    "column_stack": (lambda lib, a, b: lib.torch.column_stack([a, b]), [(3,), (3, 2)]),
    "nansum": (lambda lib, a: lib.torch.nansum(a, 1), [(3, 4)]),
    "nanmean": (lambda lib, a: a.nanmean(), [(3, 4)]),
    "diff": (lambda lib, a: lib.torch.diff(a), [(3, 5)]),
    "diff n2 dim0": (lambda lib, a: a.diff(n=2, dim=0), [(4, 3)]),
    "tan": (lambda lib, a: a.tan(), [(3, 4)]),
    "asin": (lambda lib, a: lib.torch.asin(a * 0.9), [(3, 4)]),
    "acos": (lambda lib, a: a.acos(), [(3, 4)]),
    "atan": (lambda lib, a: lib.torch.atan(a * 3), [(3, 4)]),
    "sinh": (lambda lib, a: a.sinh(), [(3, 4)]),
    "cosh": (lambda lib, a: lib.torch.cosh(a), [(3, 4)]),
    "atan2": (lambda lib, a, b: lib.torch.atan2(a, b), [(3, 4), (4,)]),
    "where method": (lambda lib, a, b: a.where(a > 0, b), [(3, 4), (3, 4)]),
    "clamp_min/max": (lambda lib, a: a.clamp_min(-0.5).clamp_max(0.5), [(3, 4)]),
    "fliplr/flipud": (lambda lib, a: a.fliplr().flipud() * lib.torch.fix(a * 3) + lib.torch.sgn(a), [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_torch(name):
    fn, shapes = CASES[name]
    check(fn, *[rand(*s, seed=k + 1) for k, s in enumerate(shapes)])


def test_nan_aware_ops_and_nan_to_num():
    x = rand(3, 4, seed=3)
    x[0, 1], x[2, 3], x[1, 0], x[1, 1] = np.nan, np.inf, -np.inf, np.nan
    check(lambda lib, a: lib.torch.nansum(a), x)
    check(lambda lib, a: lib.torch.nanmean(a, 1), x)
    check(lambda lib, a: lib.torch.nan_to_num(a), x)
    check(lambda lib, a: a.nan_to_num(nan=1.5, posinf=9.0, neginf=-9.0), x)
    check(lambda lib, a: lib.torch.nan_to_num(a), x.astype(np.float32))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_add_and_index_add(dim):
    idx = np.random.default_rng(dim + 5).integers(0, 3, (2, 3))
    check(lambda lib, a, s: a.scatter_add(dim, lib.torch.tensor(idx), s), rand(3, 3, seed=1), rand(2, 3, seed=2))
    got = cnnlab.zeros(3, 3).scatter_add(dim, cnnlab.tensor(idx), cnnlab.ones(2, 4))  # src larger than index
    want = torch.zeros(3, 3).scatter_add(dim, torch.tensor(idx), torch.ones(2, 4))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    index = [2, 0, 2]
    src_shape = [3, 3]
    src_shape[dim] = 3
    check(lambda lib, a, s: lib.torch.index_add(a, dim, lib.torch.tensor(index), s, alpha=2),
          rand(3, 4, seed=3), rand(*([3, 4] if dim == 0 else [3, 3]), seed=4))


@pytest.mark.parametrize("call", [
    lambda x, o: x.sqrt_(), lambda x, o: x.exp_(), lambda x, o: x.abs_().neg_(), lambda x, o: x.pow_(2),
    lambda x, o: x.addcmul_(o, o, value=0.5), lambda x, o: x.addcdiv_(o, o.abs() + 1), lambda x, o: x.lerp_(o, 0.25),
    lambda x, o: x.clamp_min_(1.5), lambda x, o: x.sigmoid_(), lambda x, o: x.tanh_(), lambda x, o: x.relu_(),
    lambda x, o: x.log_().reciprocal_(), lambda x, o: x.floor_().round_(), lambda x, o: x.sin_().cos_().tan_(),
    lambda x, o: x.scatter_add_(0, o.long().clamp(0, 2), o),
])
def test_inplace_methods_match_torch(call):
    res = []
    for lib in (cnnlab, torch):
        x = lib.tensor(rand(3, 3, seed=7, low=1.0, high=3.0))
        o = lib.tensor(rand(3, 3, seed=8, low=0.0, high=2.0))
        keep = x
        assert call(x, o) is keep
        res.append(x.numpy())
        # inside the graph: recorded, and the gradient flows through the in-place op
        w = lib.tensor(rand(3, 3, seed=7, low=1.0, high=3.0), requires_grad=True)
        y = w * 1
        call(y, o)
        (y * lib.tensor(rand(3, 3, seed=9))).sum().backward()
        res.append(w.grad.numpy())
    np.testing.assert_allclose(res[0], res[2], rtol=1e-12)
    np.testing.assert_allclose(res[1], res[3], rtol=1e-12)


def test_shape_inplace_methods():
    for lib in (cnnlab, torch):
        x = lib.ones(2, 3)
        assert x.t_() is x and tuple(x.shape) == (3, 2)
        assert tuple(x.unsqueeze_(0).shape) == (1, 3, 2) and tuple(x.squeeze_(0).shape) == (3, 2)
        assert tuple(x.transpose_(0, 1).shape) == (2, 3)
    with pytest.raises(RuntimeError):
        cnnlab.ones(2, requires_grad=True).sqrt_()  # a leaf that requires grad, as torch refuses
    with pytest.raises(TypeError, match="sqrt_: the result dtype cnnlab.float32 cannot be stored in place"):
        cnnlab.tensor([1, 4]).sqrt_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 4]).sqrt_()


def test_errors_and_gradcheck():
    with pytest.raises(IndexError, match=r"narrow: start and length must select a range inside the dim"):
        cnnlab.ones(3, 4).narrow(1, 2, 5)
    with pytest.raises(ValueError, match=r"masked_select: input and mask cannot be broadcast together"):
        cnnlab.masked_select(cnnlab.ones(3, 4), cnnlab.ones(3, dtype=cnnlab.bool))
    with pytest.raises(ValueError, match=r"mv: expects a 2-D matrix and a 1-D vector"):
        cnnlab.mv(cnnlab.ones(3), cnnlab.ones(3))
    gradcheck(lambda a, b: cnnlab.atan2(a, b) + cnnlab.lerp(a, b, 0.3), rand(2, 3, seed=1), rand(2, 3, seed=2))
    gradcheck(lambda a: a.scatter_add(1, cnnlab.tensor([[0, 0], [1, 1]]), a[:, :2]), rand(2, 3, seed=3))


@pytest.mark.parametrize("name,fn,shapes", [
    ("fmod", lambda lib, a, b: lib.torch.fmod(a * 5, b + 2), [(3, 4), (4,)]),
    ("fmod scalar", lambda lib, a: a.fmod(0.3), [(3, 4)]),
    ("frac", lambda lib, a: lib.torch.frac(a * 5), [(3, 4)]),
    ("logaddexp", lambda lib, a, b: lib.torch.logaddexp(a * 100, b), [(3, 4), (3, 4)]),
    ("hypot", lambda lib, a, b: a.hypot(b), [(3, 4), (4,)]),
    ("median all", lambda lib, a: a.median(), [(3, 4)]),
    ("median dim", lambda lib, a: lib.torch.median(a, 1), [(3, 4)]),
    ("median dim0 keepdim", lambda lib, a: a.median(0, keepdim=True), [(4, 3)]),
    ("kthvalue", lambda lib, a: lib.torch.kthvalue(a, 2, 0), [(3, 4)]),
    ("kthvalue keepdim", lambda lib, a: a.kthvalue(4, -1, True), [(2, 5)]),
    ("erf method", lambda lib, a: a.erf() + a.erfc(), [(3, 4)]),
    ("inverse det methods", lambda lib, a: a.inverse().sum() + a.det(), [(3, 3)]),
])
def test_more_ops_match_torch(name, fn, shapes):
    arrays = [rand(*s, seed=k + 20) for k, s in enumerate(shapes)]
    if name == "inverse det methods":
        arrays[0] = arrays[0] + 3 * np.eye(3)
    check(fn, *arrays)


def test_multinomial_distribution_and_errors():
    cnnlab.manual_seed(0)
    w = cnnlab.tensor([[1.0, 3.0, 0.0, 4.0], [0.0, 0.0, 2.0, 2.0]])
    draws = cnnlab.multinomial(w, 4000, replacement=True)
    assert draws.dtype == cnnlab.int64 and tuple(draws.shape) == (2, 4000)
    freq = np.stack([np.bincount(r, minlength=4) / 4000 for r in draws.numpy()])
    np.testing.assert_allclose(freq, (w / w.sum(1, keepdim=True)).numpy(), atol=0.03)
    once = cnnlab.multinomial(cnnlab.tensor([1.0, 1.0, 1.0]), 3)
    assert sorted(once.tolist()) == [0, 1, 2]  # without replacement: each category once
    cnnlab.manual_seed(5)
    a = cnnlab.multinomial(w, 2)
    cnnlab.manual_seed(5)
    assert cnnlab.equal(a, cnnlab.multinomial(w, 2))
    assert sorted(cnnlab.multinomial(w, 3)[1].tolist())[1:] == [2, 3]  # a zero weight only after the others
    wide = cnnlab.tensor([5.0, 1.0, 1.0, 1.0])
    firsts = [cnnlab.multinomial(wide, 2)[0].item() for _ in range(600)]
    assert abs(firsts.count(0) / 600 - 5 / 8) < 0.06  # the first draw follows the weights
    for lib in (cnnlab, torch):
        with pytest.raises(RuntimeError):
            lib.multinomial(lib.tensor([1.0, 1.0]), 3)
        assert sorted(lib.multinomial(lib.tensor([1.0, 0.0]), 2).tolist()) == [0, 1]
        with pytest.raises(RuntimeError):
            lib.multinomial(lib.tensor([1.0, -1.0]), 1)


def test_tensor_compatibility_probes():
    x = cnnlab.ones(3)
    assert x.data_ptr() == x[0:].data_ptr() and x.data_ptr() != x.clone().data_ptr()
    assert not x.is_complex() and x.get_device() == -1 and x.pin_memory() is x and not x.is_pinned()
    n = x.numpy()
    assert cnnlab.from_numpy(n).data_ptr() == x.data_ptr()
