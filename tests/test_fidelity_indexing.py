"""Issue 19, item 2: indexing follows PyTorch's rules, not NumPy's. PyTorch applies int indices as selects
before the advanced ones (tensors, lists, bool masks, Python bools), so advanced indices that only ints
separated stay adjacent and keep their place; NumPy counts ints as advanced and moves the result dims to the
front. Hundreds of random keys mixing int/slice/None/Ellipsis/bool/tensor/list are compared with PyTorch:
shape, values, the gradient for a random upstream gradient, and writes (with and without a graph)."""
import random
import warnings

import numpy as np
import pytest

import cnnlab

torch = pytest.importorskip("torch")


def _random_key(rng, shape):
    """A list of (kind, value) parts that index a tensor of this shape (PyTorch may still refuse some)."""
    parts, d, ellipsis = [], 0, False
    for _ in range(rng.randint(1, len(shape) + 2)):
        size = shape[d] if d < len(shape) else 1
        kind = rng.choice(["int", "slice", "none", "ellipsis", "tensor", "list", "bool", "mask", "int0d"])
        if kind == "int":
            parts.append(("int", rng.randint(-size, size - 1)))
            d += 1
        elif kind == "slice":
            parts.append(("slice", (rng.choice([None, 0, 1, -2]), rng.choice([None, -1, 3, size]),
                                    rng.choice([None, 1, 2]))))
            d += 1
        elif kind == "none":
            parts.append(("none", None))
        elif kind == "ellipsis" and not ellipsis:
            ellipsis = True
            parts.append(("ellipsis", None))
        elif kind in ("tensor", "list"):
            parts.append((kind, [rng.randint(-size, size - 1) for _ in range(rng.choice([1, 2, 3]))]))
            d += 1
        elif kind == "bool":
            parts.append(("bool", rng.random() < 0.5))
        elif kind == "mask":
            parts.append(("mask", [rng.random() < 0.6 for _ in range(size)]))
            d += 1
        elif kind == "int0d":
            parts.append(("int0d", rng.randint(0, size - 1)))
            d += 1
    return parts


def _build(lib, parts):
    make = {"int": lambda v: v, "slice": lambda v: slice(*v), "none": lambda v: None,
            "ellipsis": lambda v: Ellipsis, "tensor": lambda v: lib.tensor(v), "list": list,
            "bool": lambda v: v, "mask": lambda v: lib.tensor(v), "int0d": lambda v: lib.tensor(v)}
    return tuple(make[k](v) for k, v in parts)


def _cases(n, seed):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        shape = tuple(rng.randint(1, 4) for _ in range(rng.randint(1, 5)))
        parts = _random_key(rng, shape)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.zeros(shape)[_build(torch, parts)]
        except (IndexError, RuntimeError, TypeError, ValueError):
            continue  # PyTorch refuses this key (an index out of range, a mask of the wrong size, ...)
        out.append((shape, parts))
    return out


CASES = _cases(400, seed=19)


def test_the_issue_example():
    x = np.random.default_rng(0).standard_normal((3, 4, 12, 6, 5, 2, 4))
    idx = np.random.default_rng(1).integers(0, 6, (5, 2, 2, 1, 1, 5, 1, 1))
    want = torch.tensor(x)[1, :, 3:11:2, torch.tensor(idx), 0:2]
    got = cnnlab.tensor(x)[1, :, 3:11:2, cnnlab.tensor(idx), 0:2]
    # the index's dims stay where the index stands (after the int's select it is adjacent to nothing else)
    assert tuple(want.shape) == (4, 4) + idx.shape + (2, 2, 4)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("case", range(len(CASES)))
def test_random_keys_read_and_backward_like_torch(case):
    shape, parts = CASES[case]
    x = np.random.default_rng(case).standard_normal(shape)
    xt, xc = torch.tensor(x, requires_grad=True), cnnlab.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = xt[_build(torch, parts)]
    got = xc[_build(cnnlab, parts)]
    assert tuple(got.shape) == tuple(want.shape), parts
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy(), err_msg=str(parts))
    g = np.random.default_rng(case + 1000).standard_normal(tuple(want.shape))
    (want * torch.tensor(g)).sum().backward()
    (got * cnnlab.tensor(g)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=0, err_msg=str(parts))


@pytest.mark.parametrize("case", range(0, len(CASES), 2))
def test_random_keys_write_like_torch(case):
    shape, parts = CASES[case]
    x = np.random.default_rng(case).standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        region = tuple(torch.tensor(x)[_build(torch, parts)].shape)
    v = np.random.default_rng(case + 7).standard_normal(region)
    # outside the graph: a plain write (repeated indices: the last write wins in both, for distinct values
    # only the written set is compared when indices repeat)
    xt, xc = torch.tensor(x), cnnlab.tensor(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xt[_build(torch, parts)] = torch.tensor(v)
    xc[_build(cnnlab, parts)] = cnnlab.tensor(v)
    repeats = any(k in ("tensor", "list") and len(set(val)) != len(val) for k, val in parts)
    if not repeats:
        np.testing.assert_array_equal(xc.numpy(), xt.numpy(), err_msg=str(parts))
    # in the graph: the value's gradient is the upstream gradient at the written places
    if repeats:
        return
    vt, vc = torch.tensor(v, requires_grad=True), cnnlab.tensor(v, requires_grad=True)
    bt, bc = torch.tensor(x, requires_grad=True), cnnlab.tensor(x, requires_grad=True)
    ot, oc = bt * 1, bc * 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ot[_build(torch, parts)] = vt * 2
    oc[_build(cnnlab, parts)] = vc * 2
    g = np.random.default_rng(case + 9).standard_normal(shape)
    (ot * torch.tensor(g)).sum().backward()
    (oc * cnnlab.tensor(g)).sum().backward()
    np.testing.assert_array_equal(oc.detach().numpy(), ot.detach().numpy(), err_msg=str(parts))
    np.testing.assert_allclose(vc.grad.numpy(), vt.grad.numpy(), rtol=1e-12, err_msg=str(parts))
    np.testing.assert_allclose(bc.grad.numpy(), bt.grad.numpy(), rtol=1e-12, err_msg=str(parts))


def test_int_then_advanced_index_is_adjacent_like_torch():
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    for key in [(1, slice(None), [0, 2]), (slice(None), 1, [0, 3]), ([0, 1], 1, [0, 3]), (0, slice(None), False),
                (None, [0], Ellipsis, [0, 0]), ([1], Ellipsis, [0, 2], slice(None))]:
        want = torch.tensor(x)[key]
        got = cnnlab.tensor(x)[key]
        assert tuple(got.shape) == tuple(want.shape), key
        np.testing.assert_array_equal(got.numpy(), want.numpy())
