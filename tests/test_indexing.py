"""Indexing against PyTorch: ints, slices (negative steps in PyTorch's spelling via flip), None, Ellipsis,
integer arrays with repeated indices (their gradients add up), boolean masks; writing with __setitem__ and
its rules; gather, index_select, masked_fill, scatter, nonzero."""
import numpy as np
import pytest

import cnnlab
from oracle import check, check_float32, gradcheck, rand

torch = pytest.importorskip("torch")

# keys both libraries accept (PyTorch has no negative slice steps; those are tested against NumPy below)
KEYS = [
    0, -1, (1, 2), (slice(None), 1), (Ellipsis, 0), (None, 0), (slice(1, None), None, slice(None, 2)),
    (0, Ellipsis, None), slice(None, None, 2), (slice(None), slice(1, 3), slice(None, None, 3)), (),
    Ellipsis, (1, -1, -1), (slice(5, 10),), (slice(-2, None), 0),
]


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_basic_indexing_matches_torch(key):
    check(lambda lib, x: x[key], rand(3, 4, 5, seed=1))


ADVANCED = [
    lambda lib, x: x[[0, 2, 0]],  # repeated rows: the gradient of row 0 adds up
    lambda lib, x: x[lib.torch.tensor([2, 2, 2, 1])],
    lambda lib, x: x[:, [1, 1, 0]],
    lambda lib, x: x[[0, 1, 0], [2, 2, 2]],  # the same element three times
    lambda lib, x: x[lib.torch.tensor([[0, 1], [1, 0]])],
    lambda lib, x: x[..., [3, 0, 3]],
    lambda lib, x: x[[0, 2], :, [1, 1]],
    lambda lib, x: x[1:, [0, 0]],
    lambda lib, x: x[lib.torch.tensor(1)],
    lambda lib, x: x[[-1, 0, -1]],
    lambda lib, x: x[None, [0, 0]],
]


@pytest.mark.parametrize("fn", ADVANCED)
def test_advanced_indexing_with_repeats_matches_torch(fn):
    check(fn, rand(3, 4, 5, seed=2))


MASKS = [
    lambda lib, x, m: x[m],
    lambda lib, x, m: x[m[:, 0, 0]],
    lambda lib, x, m: x[:, m[0]],
    lambda lib, x, m: x[m[:, :, 0]],
    lambda lib, x, m: x[x > 0.2],
    lambda lib, x, m: x[m.logical_not()],
    lambda lib, x, m: lib.torch.masked_fill(x, m, -2.5),
    lambda lib, x, m: x.masked_fill(m[0, 0], 0.0),
    lambda lib, x, m: lib.torch.where(m, x, x * 2),
]


@pytest.mark.parametrize("fn", MASKS)
def test_boolean_masks_match_torch(fn):
    check(fn, rand(3, 4, 5, seed=3), rand(3, 4, 5, seed=4) > 0)


def test_mask_from_a_python_list_of_bools():
    check(lambda lib, x: x[[True, False, True]], rand(3, 2, seed=5))


@pytest.mark.parametrize("key", [slice(None, None, -1), (slice(None), slice(None, None, -2)),
                                 (slice(3, 0, -1), Ellipsis), (Ellipsis, slice(-1, None, -3)), (-1, slice(None, 1, -1))],
                         ids=str)
def test_negative_step_slices_match_numpy_with_gradient(key):
    # PyTorch rejects negative steps; NumPy is the reference here, and flip() in torch for the gradient
    x = rand(4, 5, seed=6)
    t = cnnlab.tensor(x, requires_grad=True)
    out = t[key]
    np.testing.assert_array_equal(out.detach().numpy(), x[key])
    g = rand(*out.shape, seed=7)
    (out * cnnlab.tensor(g)).sum().backward()
    expected = np.zeros_like(x)
    expected[key] = g
    np.testing.assert_array_equal(t.grad.numpy(), expected)
    gradcheck(lambda t: t[key], x)


def test_basic_indexing_returns_views_like_torch():
    x = cnnlab.zeros(3, 4)
    row = x[1]
    row[2] = 5.0  # writes through, as in PyTorch
    x[0][1] = 7.0
    elem = x[2, 3]  # a 0-d view
    elem.fill_(9.0)
    assert x.tolist() == [[0, 7, 0, 0], [0, 0, 5, 0], [0, 0, 0, 9]]
    sel = x[[0, 0]]  # advanced indexing copies
    sel[0, 0] = 1.0
    assert x[0, 0].item() == 0.0


def test_iteration_and_len():
    x = cnnlab.tensor(rand(3, 2, seed=8), requires_grad=True)
    rows = list(x)
    assert len(x) == 3 and len(rows) == 3 and rows[1].shape == (2,)
    sum(r.sum() * (i + 1) for i, r in enumerate(rows)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [2, 2], [3, 3]])
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(cnnlab.tensor(1.0))


# ---- __setitem__ ----------------------------------------------------------------------------------------------
SETS = [
    (0, 1.5), ((slice(None), 1), -2.0), ((Ellipsis, 2), np.arange(3.0)), ([0, 2], 0.0), ((1, slice(None, 2)), 7),
    (np.array([[True, False, True, False]] * 3), 3.0), ((slice(None), [1, 3]), np.ones((3, 2))),
]


@pytest.mark.parametrize("key,value", SETS, ids=str)
def test_setitem_matches_torch(key, value):
    x = rand(3, 4, seed=9)
    c, p = cnnlab.tensor(x), torch.tensor(x)
    ck = cnnlab.tensor(key) if isinstance(key, np.ndarray) else key
    pk = torch.tensor(key) if isinstance(key, np.ndarray) else key
    c[ck] = cnnlab.tensor(value) if isinstance(value, np.ndarray) else value
    p[pk] = torch.tensor(value) if isinstance(value, np.ndarray) else value
    np.testing.assert_array_equal(c.numpy(), p.numpy())


SETITEM_GRAPHS = [
    lambda lib, w: _assign(lib.torch.zeros(3, 4, dtype=lib.torch.float64), (slice(None), 1), w[:, 0] * 2),
    lambda lib, w: _assign(lib.torch.zeros(3, 4, dtype=lib.torch.float64), 0, w[1].exp()),
    lambda lib, w: _assign(_assign(lib.torch.ones(3, 4, dtype=lib.torch.float64), 0, w[1]), (slice(1, 3), 2), w[0, 0]),
    lambda lib, w: _assign(w * 2, (1, slice(None)), 0.0),  # an intermediate result overwritten by a number
    lambda lib, w: _assign(w * 1, ([0, 2], [1, 3]), w[0, :2] * 5),
    lambda lib, w: _assign(lib.torch.zeros(3, 4, dtype=lib.torch.float64), w > 0, 1.0) * w,
]


def _assign(t, key, value):
    t[key] = value
    return t


@pytest.mark.parametrize("fn", SETITEM_GRAPHS)
def test_setitem_inside_the_graph_matches_torch(fn):
    check(fn, rand(3, 4, seed=25))


def test_setitem_over_an_output_that_its_backward_still_needs():
    # exp's backward uses its output; cnnlab writes into a copy (PyTorch refuses this with a version-counter
    # error, so its side clones explicitly)
    check(lambda lib, w: _assign(w.exp(), 2, w[0] * w[1]) * w, rand(3, 4, seed=25),
          torch_fn=lambda lib, w: _assign(w.exp().clone(), 2, w[0] * w[1]) * w)


def test_building_an_output_row_by_row_matches_torch():
    def fn(lib, x, w):
        out = lib.torch.zeros(4, 2, dtype=lib.torch.float64)
        for i in range(4):
            out[i] = (x[i] @ w).exp() * 0.5
        return out
    check(fn, rand(4, 3, seed=26), rand(3, 2, seed=27))


def test_setitem_with_grad_into_a_view_is_refused():
    out = cnnlab.zeros(2, 3)
    w = cnnlab.ones(3, requires_grad=True)
    with pytest.raises(cnnlab.GradError, match=r"setitem: writing a value that requires grad into a view"):
        out[0][1:] = w[1:]
    out[0, 1:] = w[1:]  # through the base tensor it is recorded
    out.sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 1.0]


def test_setitem_rules():
    w = cnnlab.ones(3, requires_grad=True)
    with pytest.raises(cnnlab.GradError, match=r"setitem: a tensor that requires grad cannot be modified in place "
                                                r"while gradients are recorded .* is_leaf=True"):
        w[0] = 2.0
    with pytest.raises(RuntimeError):  # PyTorch raises RuntimeError for a leaf that requires grad
        torch.ones(3, requires_grad=True)[0] = 2.0
    with cnnlab.no_grad():
        w[0] = 2.0  # allowed inside no_grad, as in an optimizer step
    assert w.tolist() == [2.0, 1.0, 1.0] and w.requires_grad and w.is_leaf
    x = cnnlab.zeros(2, 3)
    x[0] = cnnlab.tensor([1, 2, 3])  # values are cast to the tensor's dtype
    assert x.dtype == cnnlab.float32 and x[0].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(cnnlab.ShapeError, match=r"setitem: the value cannot be broadcast to the indexed region. "
                                                 r"Got value shape \(2,\), region shape \(3,\)"):
        x[1] = cnnlab.ones(2)
    with pytest.raises(IndexError, match=r"setitem: index 5 is out of bounds"):
        x[5] = 1.0
    e = cnnlab.ones(3, 1).expand(3, 4)
    with pytest.raises(cnnlab.ShapeError, match=r"setitem: this tensor is a read-only view"):
        e[0, 0] = 2.0


# ---- gather, index_select, scatter, nonzero -------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_with_repeated_indices(dim):
    x = rand(3, 4, seed=10)
    index = np.random.default_rng(0).integers(0, x.shape[dim], (3, 4))
    index.reshape(-1)[:3] = 0  # repeats
    check(lambda lib, x, i: lib.torch.gather(x, dim, i), x, index)
    check(lambda lib, x, i: x.gather(dim, i[:2, :3]), x, index)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dim):
    check(lambda lib, x, i: lib.torch.index_select(x, dim, i), rand(3, 4, seed=11), np.array([2, 0, 2, 1]))
    check(lambda lib, x, i: x.index_select(dim, i), rand(3, 4, seed=11), np.array([0]))


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_matches_torch(dim):
    index = np.array([[0, 2, 1], [2, 1, 0]]) if dim == 1 else np.array([[0, 1, 2, 1], [2, 0, 1, 0]])
    x = rand(3, 4, seed=12)
    src = rand(*index.shape, seed=13)
    check(lambda lib, x, i, s: x.scatter(dim, i, s), x, index, src)
    check(lambda lib, x, i: lib.torch.scatter(x, dim, i, 2.5), x, index)


def test_scatter_one_hot_idiom():
    labels = cnnlab.tensor([2, 0, 1])
    onehot = cnnlab.zeros(3, 4).scatter_(1, labels.unsqueeze(1), 1.0)
    expected = torch.zeros(3, 4).scatter_(1, torch.tensor([2, 0, 1]).unsqueeze(1), 1.0)
    np.testing.assert_array_equal(onehot.numpy(), expected.numpy())


def test_nonzero_matches_torch():
    x = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
    check(lambda lib, x: lib.torch.nonzero(x), x, grad=[False])
    check(lambda lib, x: x.nonzero(as_tuple=True), x, grad=[False])
    check(lambda lib, x: lib.torch.where(x > 0.5), x, grad=[False])


# ---- finite differences and float32 --------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: x[[0, 0, 2], 1:], lambda x: x[x > 0], lambda x: x[..., [1, 1]] * x[:, None, 0],
    lambda x: x.gather(1, cnnlab.tensor([[0, 0], [1, 0], [2, 2]])),
    lambda x: x.scatter(1, cnnlab.tensor([[2], [0], [1]]), x[:, :1] * 3),
    lambda x: x.masked_fill(x < 0, 0.5) * x,
])
def test_gradcheck_indexing(fn):
    gradcheck(fn, rand(3, 3, seed=14))


def test_float32_indexing_stays_float32():
    check_float32(lambda lib, x, m: x[m].sum() + x[[0, 0]].sum(0) + x.gather(0, lib.torch.tensor([[1, 0, 2]])),
                  rand(3, 3, seed=15), rand(3, 3, seed=16) > 0)


# ---- errors -----------------------------------------------------------------------------------------------
def test_index_errors():
    x = cnnlab.ones(2, 3)
    with pytest.raises(IndexError, match=r"index: index 3 is out of bounds for axis 1 with size 3. Got shape=\(2, 3\)"):
        x[:, 3]
    with pytest.raises(IndexError):  # PyTorch raises IndexError too
        torch.ones(2, 3)[:, 3]
    with pytest.raises(TypeError, match=r"index: tensors used as indices must be long, int or bool. Got dtype=float32"):
        x[cnnlab.tensor([0.0])]
    with pytest.raises(IndexError, match=r"index: too many indices"):
        x[0, 0, 0]
    with pytest.raises(TypeError, match=r"gather: index must be an integer tensor"):
        x.gather(0, cnnlab.zeros(2, 3))
    with pytest.raises(cnnlab.ShapeError, match=r"gather: index must have as many dims as input"):
        x.gather(0, cnnlab.tensor([0]))
    with pytest.raises(IndexError, match=r"scatter: index out of range for dim 1 of size 3"):
        x.scatter(1, cnnlab.tensor([[3]]), 1.0)


def test_slice_gradients_mixed_with_dense_ones_match_torch():
    # slices hand back sparse gradients that are added into the input's buffer; mix them with dense paths,
    # repeated indices and pieces of split/unbind, in both orders
    def fn(lib, x):
        return ((x[0] * 2).sum() + (x * 3).sum() + x[[0, 0, 2]].sum(0) + x.unbind(1)[1].sum()
                + x[:, 1:].sum() * x[x > 0].sum() + lib.torch.stack([r * i for i, r in enumerate(x)]).sum())
    check(fn, rand(3, 4, seed=20))
    check(lambda lib, x: sum(p.sum() * (i + 1) for i, p in enumerate(x.chunk(3, 1))) + x.exp().sum(),
          rand(3, 5, seed=21))


def test_many_row_slices_accumulate_correctly():
    x = cnnlab.tensor(rand(50, 3, seed=22), requires_grad=True)
    total = sum(x[i].sum() * i for i in range(50)) + sum(r.sum() for r in x)
    total.backward()
    expected = np.repeat(np.arange(50.0)[:, None] + 1, 3, axis=1)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def _random_key(draw, st, shape):
    """A NumPy-style key over shape: ints, slices with any step, None, Ellipsis, int lists, one bool mask."""
    parts, dims = [], list(shape)
    used_ellipsis = False
    while dims:
        kind = draw(st.sampled_from(["int", "slice", "none", "list", "mask", "ellipsis", "stop"]))
        n = dims[0]
        if kind == "stop":
            break
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            parts.append(slice(draw(st.none() | st.integers(-n - 1, n + 1)), draw(st.none() | st.integers(-n - 1, n + 1)),
                               draw(st.sampled_from([None, 1, 2, 3, -1, -2]))))
        elif kind == "none":
            parts.append(None)
            continue
        elif kind == "list":
            parts.append(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
        elif kind == "mask":
            parts.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "ellipsis" and not used_ellipsis:
            used_ellipsis = True
            parts.append(Ellipsis)
            dims = dims[-draw(st.integers(0, len(dims))):] if len(dims) else dims
            continue
        dims.pop(0)
    return tuple(parts)


def test_random_keys_match_torch_values_and_gradients():
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies

    @hyp.settings(max_examples=150, derandomize=True, deadline=None)
    @hyp.given(st.data())
    def run(data):
        shape = data.draw(st.sampled_from([(4,), (3, 4), (2, 3, 4)]))
        key = _random_key(data.draw, st, shape)
        x = rand(*shape, seed=23)
        # PyTorch's rules (ints select first, issue 19), which differ from NumPy's when an int stands
        # between advanced indices: the oracle is torch, the gradient reference is torch's too
        tkey = tuple(torch.from_numpy(k) if isinstance(k, np.ndarray) else k for k in key)
        xt = torch.tensor(x, requires_grad=True)
        if any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in key):
            return  # torch refuses negative steps (cnnlab's extension, tested against NumPy above)
        try:
            expected_t = xt[tkey]
        except (IndexError, RuntimeError):  # e.g. two lists that do not broadcast: cnnlab must refuse too
            with pytest.raises((IndexError, RuntimeError)):
                cnnlab.tensor(x)[key]
            return
        expected = expected_t.detach().numpy()
        t = cnnlab.tensor(x, requires_grad=True)
        out = t[key]
        np.testing.assert_array_equal(out.detach().numpy(), expected)
        g = rand(*np.shape(expected), seed=24) if np.ndim(expected) else np.asarray(rand(seed=24))
        (out * cnnlab.tensor(g)).sum().backward()
        (expected_t * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), rtol=1e-12)

    run()
