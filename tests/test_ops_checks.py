"""Regression tests for edge cases found in review: NaN in median, index rules of scatter_add/index_add and
friends, NumPy warnings that PyTorch does not give, out= on read-only views, diff's prepend/append."""
import numpy as np
import pytest

import cnnlab
from oracle import check, rand

torch = pytest.importorskip("torch")
NAN = float("nan")


@pytest.mark.parametrize("rows", [
    [[3.0, NAN, 2.0, NAN], [1.0, 2.0, 3.0, 4.0]],
    [[NAN, NAN, 1.0], [2.0, NAN, 0.5]],
    [[0.5, 0.2, NAN, 0.1, 0.3], [NAN, 0.0, 0.0, 0.0, 0.0]],
])
def test_median_with_nan_matches_torch(rows):
    a = np.array(rows)
    check(lambda lib, x: x.median(dim=1), a)
    check(lambda lib, x: x.median(dim=0, keepdim=True), a)
    check(lambda lib, x: x.median(), a)
    check(lambda lib, x: x.kthvalue(a.shape[1], dim=1), a)


def test_median_nan_value_and_gradient_position():
    x = cnnlab.tensor([[3.0, NAN, 2.0, NAN]], requires_grad=True)
    values, indices = x.median(dim=1)
    values.sum().backward()
    assert np.isnan(values.item()) and indices.tolist() == [1]
    assert x.grad.tolist() == [[0.0, 1.0, 0.0, 0.0]]
    assert np.isnan(cnnlab.tensor([3.0, NAN, 2.0, 4.0]).median().item())


def test_median_empty_dim_raises_like_torch():
    with pytest.raises(IndexError):
        torch.ones(2, 0).median(1)
    with pytest.raises(IndexError, match=r"median: the dim to reduce is empty. Got shape=\(2, 0\), dim=1"):
        cnnlab.ones(2, 0).median(1)


def test_full_median_shares_the_gradient_among_ties_like_torch():
    check(lambda lib, x: x.median(), np.array([[1.0, 2.0, 2.0], [2.0, 3.0, 0.0]]))
    check(lambda lib, x: x.median(), np.array([1.0, 3.0, 2.0, 5.0]))


def test_scatter_add_and_index_add_valid_inputs_match_torch():
    idx = np.array([[1, 0], [2, 2]])
    # torch's backward fails for a src larger than index (ScatterAddBackward0 returns index's shape): forward only
    check(lambda lib, x, s: x.scatter_add(0, lib.torch.tensor(idx), s), rand(3, 3), rand(3, 4, seed=1),
          grad=[True, False])
    check(lambda lib, x, s: x.scatter_add(0, lib.torch.tensor(idx), s), rand(3, 3), rand(2, 2, seed=1))
    check(lambda lib, x, s: x.scatter_add(1, lib.torch.tensor(idx), s), rand(2, 3), rand(2, 2, seed=1))
    check(lambda lib, x, s: x.index_add(0, lib.torch.tensor([2, 0, 2]), s, alpha=-1.5), rand(3, 2), rand(3, 2, seed=1))
    check(lambda lib, x, s: x.index_add(1, lib.torch.tensor([1]), s), rand(2, 3), rand(2, 1, seed=1))
    check(lambda lib, x: x.gather(0, lib.torch.tensor(idx)), rand(3, 3))
    check(lambda lib, x: x.scatter(1, lib.torch.tensor([[1], [0]]), 2.5), rand(2, 3))
    check(lambda lib, x: x.index_select(1, lib.torch.tensor([2, 0, 2])), rand(2, 3))
    check(lambda lib, x: lib.torch.take(x, lib.torch.tensor([[0, -1], [5, -6]])), rand(2, 3))


# (call, the exception class torch raises, cnnlab's message)
INDEX_ERRORS = [
    (lambda lib: lib.zeros(2, 3).index_add(0, lib.tensor([1]), lib.ones(1, 2)), RuntimeError,
     r"index_add: source must have input's shape except source.shape\[dim\] == len\(index\). Got "
     r"input.shape=\(2, 3\), source.shape=\(1, 2\), len\(index\)=1, dim=0"),
    (lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([1, 2]), lib.ones(1, 2)), RuntimeError,
     r"index_add: source must .* len\(index\)=2"),
    (lambda lib: lib.zeros(3).index_add(0, lib.tensor([-1]), lib.ones(1)), IndexError,
     r"index_add: index out of range for dim 0 of size 3 \(values must be in \[0, 3\)\). Got index values in "
     r"\[-1, -1\]"),
    (lambda lib: lib.zeros(3).index_add(0, lib.tensor([3]), lib.ones(1)), IndexError, r"index_add: index out of"),
    (lambda lib: lib.zeros(3).scatter_add(0, lib.tensor([-1]), lib.ones(1)), RuntimeError,
     r"scatter_add: index out of range for dim 0 of size 3 \(values must be in \[0, 3\)\). Got index values in "
     r"\[-1, -1\]"),
    (lambda lib: lib.zeros(3, 2).scatter_add(0, lib.tensor([[1, 2, 0]]), lib.ones(1, 2)), RuntimeError,
     r"scatter_add: index.size\(1\) must not exceed input.size\(1\) outside dim. Got input.shape=\(3, 2\), "
     r"index.shape=\(1, 3\), src.shape=\(1, 2\), dim=0"),
    (lambda lib: lib.zeros(3, 4).scatter_add(1, lib.tensor([[1, 0, 0]]), lib.ones(1, 2)), RuntimeError,
     r"scatter_add: index.size\(1\) must not exceed src.size\(1\)"),
    (lambda lib: lib.zeros(3, 2).scatter_add(0, lib.tensor([1]), lib.ones(1, 2)), RuntimeError,
     r"scatter_add: index must have as many dims as input and src"),
    (lambda lib: lib.zeros(3, 2).scatter(0, lib.tensor([[-1]]), lib.ones(1, 3)), RuntimeError,
     r"scatter: index out of range for dim 0 of size 3"),
    (lambda lib: lib.zeros(3, 2).scatter(0, lib.tensor([[1, 0, 1]]), lib.ones(1, 3)), RuntimeError,
     r"scatter: index.size\(1\) must not exceed input.size\(1\)"),
    (lambda lib: lib.zeros(3, 2).gather(0, lib.tensor([[-1]])), RuntimeError,
     r"gather: index out of range for dim 0 of size 3"),
    (lambda lib: lib.zeros(3, 2).index_select(0, lib.tensor([-1])), IndexError,
     r"index_select: index out of range for dim 0 of size 3 \(values must be in \[0, 3\)\). Got index values in "
     r"\[-1, -1\]"),
    (lambda lib: lib.zeros(3, 2).index_select(1, lib.tensor([2])), RuntimeError, r"index_select: index out of range"),
    (lambda lib: lib.take(lib.zeros(3), lib.tensor([5])), IndexError,
     r"take: index out of range for a tensor of 3 elements \(values must be in \[-3, 3\)\). Got index values in "
     r"\[5, 5\], input.shape=\(3,\)"),
    (lambda lib: lib.take(lib.zeros(3), lib.tensor([-4])), IndexError, r"take: index out of range"),
    (lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), lib.tensor([1, -1])), RuntimeError,
     r"repeat_interleave: repeats must be non-negative. Got repeats with minimum -1"),
    (lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), -2), RuntimeError,
     r"repeat_interleave: repeats must be non-negative. Got repeats with minimum -2"),
    (lambda lib: lib.multinomial(lib.tensor([-1.0, 1.0]), 1), RuntimeError,
     r"multinomial: weights must be finite, non-negative, with a positive sum in every row. Got min weight -1.0, "
     r"smallest row sum 0.0, 0 non-finite weight\(s\)"),
]


@pytest.mark.parametrize("call,torch_class,message", INDEX_ERRORS)
def test_index_rules_refused_like_torch(call, torch_class, message):
    with pytest.raises(torch_class):
        call(torch)
    with pytest.raises(torch_class, match=message):
        call(cnnlab)


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e308, -2.5, 1e-320])
DIVISORS = np.array([0.0, 0.0, 0.0, -0.0, 0.0, np.inf, 1.0, 1e308, 0.0, np.inf])
SILENT_OPS = [
    ("fmod by 0.", lambda lib, x: lib.torch.fmod(x, 0.0), [SPECIAL]),
    ("remainder by 0.", lambda lib, x: lib.torch.remainder(x, 0.0), [SPECIAL]),
    ("div", lambda lib, x, y: x / y, [SPECIAL, DIVISORS]),
    ("fmod", lambda lib, x, y: lib.torch.fmod(x, y), [SPECIAL, DIVISORS]),
    ("pow", lambda lib, x, y: x ** y, [SPECIAL, -DIVISORS]),
    ("log", lambda lib, x: x.log(), [SPECIAL]),
    ("log2", lambda lib, x: x.log2(), [SPECIAL]),
    ("sqrt", lambda lib, x: x.sqrt(), [SPECIAL]),
    ("rsqrt", lambda lib, x: x.rsqrt(), [SPECIAL]),
    ("reciprocal", lambda lib, x: x.reciprocal(), [SPECIAL]),
    ("exp", lambda lib, x: x.exp(), [SPECIAL]),
    ("sin", lambda lib, x: x.sin(), [SPECIAL]),
    ("asin", lambda lib, x: x.asin(), [SPECIAL]),
    ("sinh", lambda lib, x: x.sinh(), [SPECIAL]),
    ("floor", lambda lib, x: x.floor(), [SPECIAL]),
    ("frac", lambda lib, x: x.frac(), [SPECIAL]),
    ("mul", lambda lib, x, y: x * y, [SPECIAL, DIVISORS]),
    ("add", lambda lib, x, y: x + y, [SPECIAL, -DIVISORS]),
    ("hypot", lambda lib, x, y: lib.torch.hypot(x, y), [SPECIAL, DIVISORS]),
    ("atan2", lambda lib, x, y: lib.torch.atan2(x, y), [SPECIAL, DIVISORS]),
    ("logaddexp", lambda lib, x, y: lib.torch.logaddexp(x, y), [SPECIAL, DIVISORS]),
    ("sum", lambda lib, x: x.sum(), [SPECIAL]),
    ("mean", lambda lib, x: x.mean(), [SPECIAL]),
    ("mean of empty", lambda lib, x: x.mean(), [np.zeros(0)]),
    ("prod of empty", lambda lib, x: x.prod(), [np.zeros(0)]),
    ("amax", lambda lib, x: x.amax(), [SPECIAL]),
    ("amax of rows, one with nan", lambda lib, x: x.amax(1), [np.array([[1.0, 3.0, 3.0], [np.nan, 0.0, 2.0]])]),
    ("erf", lambda lib, x: lib.torch.erf(x), [SPECIAL]),
    ("cumsum", lambda lib, x: x.cumsum(0), [SPECIAL]),
]


@pytest.mark.parametrize("name,fn,arrays", SILENT_OPS, ids=[c[0] for c in SILENT_OPS])
def test_ops_give_inf_and_nan_silently_like_torch(name, fn, arrays):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about none of these; NumPy's RuntimeWarnings must not leak
        # values and gradients, also at 0, inf and nan. First order only: at these points torch's second
        # derivatives leak nan (or not) from masked branches by the order of its ops, where cnnlab's formulas
        # give the limits; second orders are compared on ordinary inputs in tests/test_double_*.py
        check(fn, *arrays, grad=[True] * len(arrays), second_order=False)


@pytest.mark.parametrize("lib_out", [
    lambda lib: lib.zeros(3).expand(2, 3),      # same shape as the result: still refused
    lambda lib: lib.zeros(1, 1).expand(2, 2),   # a shape that would need a resize
])
def test_out_into_a_read_only_view_is_refused_like_torch(lib_out):
    with pytest.raises(RuntimeError):
        torch.add(torch.ones(2, 3), 1, out=lib_out(torch))
    out = lib_out(cnnlab)
    with pytest.raises(RuntimeError, match=r"add: out is a read-only view \(made by expand or a broadcast; .*\) "
                                           r"and cannot be written.*Got out.shape=\(\d, \d\), result shape=\(2, 3\)"):
        cnnlab.add(cnnlab.ones(2, 3), 1, out=out)
    assert not out.numpy().any()  # nothing written or rebound


def test_out_into_a_writable_tensor_still_works():
    out = cnnlab.zeros(2, 3)
    r = cnnlab.add(cnnlab.ones(2, 3), 1, out=out)
    assert r is out and out.tolist() == [[2.0] * 3] * 2


@pytest.mark.parametrize("n,dim,pre_shape,app_shape", [
    (1, -1, (3, 1), (3, 2)), (2, 1, (3, 2), None), (1, 0, None, (1, 4)), (3, 0, (2, 4), (1, 4)), (0, 1, (3, 1), None),
])
def test_diff_prepend_append_match_torch(n, dim, pre_shape, app_shape):
    def fn(lib, x, *extras):
        it = iter(extras)
        pre = next(it) if pre_shape else None
        app = next(it) if app_shape else None
        return lib.torch.diff(x, n=n, dim=dim, prepend=pre, append=app)
    x = rand(3, 4) if dim != 0 else rand(2, 4)
    extras = [rand(*s, seed=i + 1) for i, s in enumerate([pre_shape, app_shape]) if s]
    check(fn, x, *extras)


def test_diff_integer_input_with_float_prepend_matches_torch():
    check(lambda lib, x: lib.torch.diff(lib.torch.tensor([1, 4, 9]), prepend=x), np.array([0.5]))


@pytest.mark.parametrize("call,torch_class,message", [
    (lambda lib: lib.diff(lib.ones(2, 3), dim=1, prepend=lib.ones(3, 1)), RuntimeError,
     r"diff: prepend must have input's shape except along dim. Got input.shape=\(2, 3\), prepend.shape=\(3, 1\), "
     r"dim=1"),
    (lambda lib: lib.diff(lib.ones(2, 3), dim=1, append=lib.ones(2)), RuntimeError,
     r"diff: append must have input's shape except along dim. Got input.shape=\(2, 3\), append.shape=\(2,\)"),
    (lambda lib: lib.diff(lib.ones(2, 3), prepend=1.0), TypeError, r"diff: prepend must be a tensor. Got float"),
    (lambda lib: lib.diff(lib.ones(3), n=-1), RuntimeError, r"diff: n \(the order\) must be a non-negative int. "
                                                            r"Got n=-1"),
    (lambda lib: lib.diff(lib.tensor(1.0)), RuntimeError, r"diff: input must have at least one dim. Got shape=\(\)"),
])
def test_diff_refusals_like_torch(call, torch_class, message):
    with pytest.raises(torch_class):
        call(torch)
    with pytest.raises(torch_class, match=message):
        call(cnnlab)


@pytest.mark.parametrize("rows", [
    [[NAN, NAN, 1.0, 3.0, 2.0, 2.0], [4.0, NAN, 1.0, NAN, 2.0, 3.0]],
    [[0.5, 0.2, 0.9], [NAN, 0.1, 0.3]],
])
def test_nanmedian_matches_torch(rows):
    a = np.array(rows)
    check(lambda lib, x: x.nanmedian(dim=1), a)
    check(lambda lib, x: x.nanmedian(dim=0, keepdim=True), a)
    check(lambda lib, x: x.nanmedian(), a)
    check(lambda lib, x: x.nanmedian(), np.array([NAN, 2.0, 2.0, 1.0, 5.0]))


def test_nanmedian_of_all_nan_is_nan_with_the_gradient_shared():
    x = cnnlab.tensor([NAN, NAN], requires_grad=True)
    out = x.nanmedian()
    out.backward()
    assert np.isnan(out.item()) and x.grad.tolist() == [0.5, 0.5]  # as torch
    values, _ = cnnlab.tensor([[NAN, NAN, NAN]]).nanmedian(1)  # torch's index here is unspecified
    assert np.isnan(values.item())


def test_writes_into_a_read_only_view_name_its_shape_and_strides():
    with pytest.raises(RuntimeError):
        torch.zeros(3).expand(2, 3).add_(1)
    with pytest.raises(RuntimeError, match=r"add_: this tensor is a read-only view .* Got shape=\(2, 3\), "
                                           r"strides=\(0, 1\) \(a 0 repeats one element\)"):
        cnnlab.zeros(3).expand(2, 3).add_(1)
    with pytest.raises(RuntimeError, match=r"setitem: this tensor is a read-only view .* Got shape=\(2, 3\), "
                                           r"strides=\(0, 1\)"):
        cnnlab.zeros(3).expand(2, 3)[0, 0] = 1.0
