"""In-place updates of 0-d results, as tutorial loops write them (`running_corrects += torch.sum(preds == labels)`,
`confusion_matrix[t, p] += 1`, an AverageMeter's `self.sum += val`), against PyTorch.

NumPy returns read-only scalars (np.float32) from arithmetic on 0-d arrays; a tensor must hold a writable 0-d
array instead, whichever op made it.
"""
import numpy as np
import pytest

import cnnlab
from oracle import rand

torch = pytest.importorskip("torch")

# ops whose result is 0-d, written once against both libraries: fn(lib, x, labels)
ZERO_D_OPS = {
    "sum_eq": lambda lib, x, lab: lib.sum(x.argmax(1) == lab),
    "sum": lambda lib, x, lab: x.sum(),
    "mean": lambda lib, x, lab: x.mean(),
    "max": lambda lib, x, lab: x.max(),
    "index": lambda lib, x, lab: x[1, 2],
    "index_item_arith": lambda lib, x, lab: x[0, 0] * 2 + 1,
    "scalar_mul": lambda lib, x, lab: lib.tensor(2.0, dtype=lib.float64) * 3,
    "scalar_add": lambda lib, x, lab: lib.tensor(5) + 1,
    "sub_0d": lambda lib, x, lab: x.sum() - x.mean(),
    "div_0d": lambda lib, x, lab: x.sum() / 4,
    "exp_0d": lambda lib, x, lab: lib.exp(x[0, 1]),
    "neg_0d": lambda lib, x, lab: -x[0, 1],
    "pow_0d": lambda lib, x, lab: x[0, 1] ** 2,
    "where_0d": lambda lib, x, lab: lib.where(x[0, 0] > 0, x[0, 0], x[0, 1]),
    "loss": lambda lib, x, lab: lib.nn.functional.cross_entropy(x, lab),
    "dot": lambda lib, x, lab: lib.dot(x[0], x[1]),
    "count": lambda lib, x, lab: (x > 0).sum(),
    "argmax": lambda lib, x, lab: x.argmax(),
    "float_of_eq_sum": lambda lib, x, lab: (x.argmax(1) == lab).sum().float(),
}


def _inputs(lib):
    x = lib.tensor(rand(4, 5, seed=3))
    lab = lib.tensor([1, 2, 3, 4])
    return x, lab


def _updates(lib, name):
    x, lab = _inputs(lib)
    v = ZERO_D_OPS[name](lib, x, lab)
    out = []
    total = 0
    total += v  # a Python number on the left: a new tensor
    total += v  # then in place on that tensor
    out.append(total)
    w = ZERO_D_OPS[name](lib, x, lab)
    w += v
    w -= 1
    w *= 3
    out.append(w)
    u = ZERO_D_OPS[name](lib, x, lab)
    u.add_(v).sub_(1).mul_(2)
    out.append(u)
    if u.is_floating_point():
        u.div_(4)
        u /= 2
        out.append(u)
    return out


@pytest.mark.parametrize("name", sorted(ZERO_D_OPS))
def test_inplace_on_zero_d_results_matches_torch(name):
    got, want = _updates(cnnlab, name), _updates(torch, name)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape == ()
        assert str(g.dtype).split(".")[1] == str(w.dtype).split(".")[1]
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ZERO_D_OPS))
def test_zero_d_results_hold_writable_arrays(name):
    x, lab = _inputs(cnnlab)
    v = ZERO_D_OPS[name](cnnlab, x, lab)
    assert isinstance(v._data, np.ndarray) and v._data.flags.writeable


def test_average_meter_as_tutorials_write_it():
    class AverageMeter:
        def __init__(self):
            self.sum, self.count = 0, 0

        def update(self, val, n=1):
            self.sum += val * n
            self.count += n

    results = []
    for lib in (cnnlab, torch):
        meter = AverageMeter()
        x = lib.tensor(rand(6, 3, seed=1))
        for i in range(3):
            meter.update(x[2 * i:2 * i + 2].mean(), n=2)
        results.append(meter.sum / meter.count)
    np.testing.assert_allclose(results[0].numpy(), results[1].numpy(), rtol=1e-12)


def _confusion(lib):
    preds = lib.tensor([0, 2, 1, 1, 2, 0, 2])
    labels = lib.tensor([0, 1, 1, 2, 2, 0, 0])
    cm = lib.zeros(3, 3)
    cmi = lib.zeros(3, 3, dtype=lib.int64)
    for t, p in zip(labels.view(-1), preds.view(-1)):
        cm[t.long(), p.long()] += 1
        cmi[t, p] += 1
        cmi[t][p] += 1  # through a view: writes the same memory
    diag = lib.zeros(3)
    for i in range(3):
        diag[lib.tensor(i)] -= cm[i, i]
        diag[lib.tensor(i)] *= 2
    return cm, cmi, diag


def test_index_writes_with_zero_d_tensor_indices_match_torch():
    for g, w in zip(_confusion(cnnlab), _confusion(torch)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_zero_d_running_sum_is_not_shared_with_its_operand():
    s = cnnlab.tensor(2.0) * 3
    total = 0
    total += s
    total += s
    assert s.item() == 6.0 and total.item() == 12.0


def test_inplace_on_zero_d_view_writes_base():
    base = cnnlab.zeros(3)
    v = base[1]
    v += 5
    v.add_(1)
    assert base.tolist() == [0.0, 6.0, 0.0]
    d = (cnnlab.tensor(1.0) * 2).detach()  # detach shares memory with the 0-d array
    d.mul_(4)
    assert d.item() == 8.0


def test_zero_d_grad_accumulates_and_zeroes():
    w = cnnlab.tensor(2.0, requires_grad=True)
    for _ in range(2):
        (w * 3).backward()
    assert w.grad.item() == 6.0
    w.grad.zero_()
    w.grad += 1
    assert w.grad.item() == 1.0


def test_inplace_on_zero_d_in_graph_matches_torch():
    res = []
    for lib in (cnnlab, torch):
        x = lib.tensor(rand(3, seed=2), requires_grad=True)
        y = x.sum() * 2
        y += x[0]
        y *= x[1]
        y.backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)
