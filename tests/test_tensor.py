"""The Tensor class against PyTorch: properties, conversions, repr and format, Size, device, pickling."""
import copy
import pickle

import numpy as np
import pytest

import cnnlab
from oracle import rand

torch = pytest.importorskip("torch")


def test_properties_match_torch():
    x = rand(2, 3, 4, seed=1)
    c, p = cnnlab.tensor(x), torch.tensor(x)
    assert tuple(c.shape) == tuple(p.shape) and c.shape == (2, 3, 4)
    assert c.size() == (2, 3, 4) and c.size(-1) == p.size(-1) == 4 and c.size(1) == 3 and c.shape[1] == 3
    assert c.ndim == p.ndim == c.dim() == 3
    assert c.numel() == p.numel() == c.nelement() == cnnlab.numel(c) == torch.numel(p) == 24
    assert c.shape.numel() == 24 and c.element_size() == p.element_size() == 8
    assert c.is_floating_point() and not cnnlab.tensor([1]).is_floating_point()
    assert c.stride() == p.stride() and c.stride(1) == p.stride(1)
    assert c.is_contiguous() and not c.transpose(0, 2).is_contiguous() and not c.is_cuda
    assert isinstance(c, cnnlab.Tensor) and cnnlab.is_tensor(c) and not cnnlab.is_tensor(x)
    assert c[0].T.shape == p[0].T.shape == (4, 3)
    assert c.mT.shape == p.mT.shape


def test_size_prints_and_slices_like_torch_size():
    s = cnnlab.zeros(2, 3, 4).shape
    assert repr(s) == "cnnlab.Size([2, 3, 4])" and repr(cnnlab.zeros(()).shape) == "cnnlab.Size([])"
    assert isinstance(s[1:], cnnlab.Size) and s[1:] == (3, 4) and s[-1] == 4
    assert isinstance(s + (5,), cnnlab.Size) and s + (5,) == (2, 3, 4, 5)
    assert s == torch.Size([2, 3, 4])


def test_dim_errors():
    with pytest.raises(IndexError, match=r"size: dim must be in \[-2, 1\] for a 2-d tensor. Got dim=2"):
        cnnlab.zeros(2, 3).size(2)
    with pytest.raises(IndexError, match=r"size: a 0-d tensor has no dimensions"):
        cnnlab.tensor(1.0).size(0)


def test_conversions():
    x = rand(2, 3, seed=2)
    c = cnnlab.tensor(x)
    assert np.shares_memory(c.numpy(), c._data) and c.tolist() == torch.tensor(x).tolist()
    assert cnnlab.tensor(2.5).item() == 2.5 and isinstance(cnnlab.tensor(3).item(), int)
    assert cnnlab.tensor([[7.0]]).item() == 7.0
    assert float(cnnlab.tensor(2.5)) == 2.5 and int(cnnlab.tensor(3.7)) == 3 and bool(cnnlab.tensor([1]))
    assert [10, 20, 30][cnnlab.tensor(1)] == 20  # __index__
    assert np.asarray(c).dtype == np.float64 and np.asarray(c, dtype=np.float32).dtype == np.float32
    d = c.clone()
    d[0, 0] = 100.0
    assert c[0, 0].item() != 100.0
    assert c.float().dtype == cnnlab.float32 and c.double() is c and c.long().dtype == cnnlab.int64
    assert c.int().dtype == cnnlab.int32 and c.bool().dtype == cnnlab.bool and c.half().dtype == cnnlab.float16
    assert c.byte().dtype == cnnlab.uint8 and c.to(cnnlab.float32).dtype == cnnlab.float32
    assert c.to("cpu") is c and c.to(cnnlab.device("cpu")) is c and c.cpu() is c and c.contiguous() is c
    assert c.to(cnnlab.ones(1, dtype=cnnlab.int64)).dtype == cnnlab.int64
    assert c.to("cpu", cnnlab.float32).dtype == cnnlab.float32 and c.to(dtype=cnnlab.float32, copy=True) is not c
    assert c.type() == "torch.DoubleTensor" and c.float().type() == "torch.FloatTensor"
    assert c.type(cnnlab.int64).dtype == cnnlab.int64 and c.type("torch.FloatTensor").dtype == cnnlab.float32
    assert c.long().tolist() == torch.tensor(x).long().tolist()


def test_conversion_errors():
    w = cnnlab.ones(2, requires_grad=True)
    with pytest.raises(cnnlab.GradError, match=r"numpy: can't call numpy\(\) on a tensor that requires grad"):
        w.numpy()
    assert w.numpy(force=True).tolist() == [1.0, 1.0] and w.detach().numpy().tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"item: only one-element tensors can be converted to a Python number. "
                                          r"Got shape=\(2,\)"):
        w.item()
    with pytest.raises(ValueError, match=r"bool: the truth value of a tensor with more than one value is ambiguous"):
        bool(cnnlab.ones(2))
    with pytest.raises(TypeError, match=r"__index__: only one-element integer tensors can be used as an index"):
        [1, 2][cnnlab.tensor(1.0)]
    with pytest.raises(ValueError, match=r"cnnlab runs on the CPU only"):
        w.cuda()
    with pytest.raises(ValueError, match=r"device: cnnlab runs on the CPU only"):
        w.to("cuda")
    with pytest.raises(ValueError, match=r"device: cnnlab runs on the CPU only"):
        cnnlab.zeros(2, device="cuda:0")


def test_tensor_constructor_forms():
    assert cnnlab.Tensor([1, 2]).dtype == cnnlab.float32 and torch.Tensor([1, 2]).dtype == torch.float32
    assert cnnlab.Tensor(2, 3).shape == torch.Tensor(2, 3).shape
    assert cnnlab.Tensor(3).shape == torch.Tensor(3).shape == (3,)
    assert cnnlab.Tensor().shape == torch.Tensor().shape == (0,)
    assert cnnlab.Tensor([1.0], True).requires_grad and cnnlab.Tensor([1.0], requires_grad=True).requires_grad
    assert cnnlab.Tensor(np.array([1.0, 2.0])).dtype == cnnlab.float32


REPR_CASES = [
    [0.1, 2.0], [1e-5, 0.0], [123456789.0, 1.0], [100.0, 2.0], [1e8, 1.0], [-1e-5, 2.5], 3.14159, 3.0,
    [float("nan"), 1.0, float("inf")], [-0.5, 1.25], [[1.5, 2.0], [3.0, 4.0]], [1, -20, 300], [True, False],
    [[0.0, 0.0]], np.arange(2000.0), np.arange(30.0).reshape(2, 15) / 7, np.arange(24.0).reshape(2, 3, 4),
]


@pytest.mark.parametrize("data", REPR_CASES, ids=lambda d: str(np.asarray(d).shape))
def test_repr_matches_torch(data):
    for kwargs in ({}, {"dtype": "float64"}, {"requires_grad": True}):
        arr = np.asarray(data)
        if kwargs.get("requires_grad") and arr.dtype.kind != "f":
            continue
        if "dtype" in kwargs and arr.dtype.kind != "f":
            continue
        ck = {k: (getattr(cnnlab, v) if k == "dtype" else v) for k, v in kwargs.items()}
        pk = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()}
        c = cnnlab.tensor(data, **ck)
        p = torch.tensor(data, **pk)
        assert repr(c).replace("cnnlab.", "torch.") == repr(p)


def test_repr_of_empty_int_and_graph_tensors_matches_torch():
    pairs = [(cnnlab.zeros(0, 3), torch.zeros(0, 3)), (cnnlab.zeros(0), torch.zeros(0)),
             (cnnlab.zeros(0, dtype=cnnlab.int64), torch.zeros(0, dtype=torch.int64)),
             (cnnlab.zeros(2, 0, dtype=cnnlab.int64), torch.zeros(2, 0, dtype=torch.int64)),
             (cnnlab.tensor([1, 2], dtype=cnnlab.int32), torch.tensor([1, 2], dtype=torch.int32)),
             (cnnlab.tensor(rand(2, 30, seed=3), requires_grad=True),
              torch.tensor(rand(2, 30, seed=3), requires_grad=True))]
    for c, p in pairs:
        assert repr(c).replace("cnnlab.", "torch.") == repr(p)
    y = cnnlab.ones(2, requires_grad=True) * 2
    assert repr(y) == "tensor([2., 2.], grad_fn=<MulBackward0>)"
    assert str(y) == repr(y)


def test_format_of_0d_tensors_like_torch():
    for value in (2.5, 3, -0.125):
        c, p = cnnlab.tensor(value), torch.tensor(value)
        for spec in (".3f", "", ">10", ".2e") if isinstance(value, float) else ("03d", ""):
            assert format(c, spec).replace("cnnlab.", "torch.") == format(p, spec)
    loss = (cnnlab.ones(3, requires_grad=True) * 0.5).sum()
    assert f"loss {loss:.4f}" == "loss 1.5000"
    with pytest.raises(TypeError, match=r"format: a format spec applies only to 0-d tensors"):
        f"{cnnlab.ones(2):.3f}"


def test_pickle_and_deepcopy_keep_values_and_requires_grad():
    x = cnnlab.tensor(rand(2, 3, seed=4), requires_grad=True)
    for y in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert y.requires_grad and y.is_leaf and y.tolist() == x.tolist()
        assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())


def test_device_and_cuda_namespace_like_torch():
    d = cnnlab.device("cpu")
    assert repr(d) == repr(torch.device("cpu")) and str(d) == "cpu" and d.type == "cpu" and d.index is None
    assert d == cnnlab.device(d) and str(cnnlab.device("cpu", 0)) == str(torch.device("cpu", 0)) == "cpu:0"
    assert cnnlab.ones(2).device == d and cnnlab.ones(2).device.type == "cpu"
    assert cnnlab.cuda.is_available() is False and cnnlab.cuda.device_count() == 0
    dev = cnnlab.device("cuda" if cnnlab.cuda.is_available() else "cpu")
    assert cnnlab.randn(2, 3, device=dev).to(dev).shape == (2, 3)


def test_methods_on_new_tensors():
    x = cnnlab.ones(2, dtype=cnnlab.float64)
    assert x.new_zeros(3).dtype == cnnlab.float64 and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_tensor([1, 2]).dtype == cnnlab.float64 and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_empty(4).shape == (4,)
    assert x.equal(cnnlab.ones(2, dtype=cnnlab.float64)) and not x.equal(cnnlab.ones(3, dtype=cnnlab.float64))


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ShortTensor",
                                  "CharTensor", "ByteTensor", "BoolTensor", "HalfTensor"])
def test_type_and_to_accept_legacy_tensor_types(name):
    x = rand(2, 3, seed=4) * 5
    c, p = cnnlab.tensor(x), torch.tensor(x)
    for got, want in ((c.type(getattr(cnnlab, name)), p.type(getattr(torch, name))),
                      (c.type(f"torch.{name}"), p.type(f"torch.{name}")),
                      (c.to(getattr(cnnlab, name)), p.type(getattr(torch, name))),
                      (c.to(dtype=getattr(cnnlab, name)), p.type(getattr(torch, name)))):
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert got.type() == want.type() == f"torch.{name}"
    same = c.type(getattr(cnnlab, name))
    assert same.type(getattr(cnnlab, name)) is same  # already that type: the tensor itself, as torch


def test_type_keeps_the_graph_and_refuses_bad_names():
    w = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    (w.type(cnnlab.DoubleTensor) * 3).sum().backward()
    assert w.grad.dtype == cnnlab.float32 and w.grad.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match=r"type: cnnlab runs on the CPU only; use 'torch.FloatTensor'. "
                                         r"Got dtype='torch.cuda.FloatTensor'"):
        w.type("torch.cuda.FloatTensor")
    with pytest.raises(ValueError, match=r"type: unknown tensor type name.*Got dtype='torch.FooTensor'"):
        w.type("torch.FooTensor")
    with pytest.raises(ValueError):
        torch.ones(1).type("torch.FooTensor")


GRAD_FN_CASES = {
    "x + y": lambda l, x, y: x + y, "x + 1": lambda l, x, y: x + 1, "1 - x": lambda l, x, y: 1 - x,
    "x - y": lambda l, x, y: x - y, "x * 2": lambda l, x, y: x * 2, "x / y": lambda l, x, y: x / y,
    "2 / x": lambda l, x, y: 2 / x, "x ** 2": lambda l, x, y: x ** 2, "x ** y": lambda l, x, y: x ** y,
    "2 ** x": lambda l, x, y: 2 ** x, "-x": lambda l, x, y: -x, "exp": lambda l, x, y: x.exp(),
    "log1p": lambda l, x, y: x.abs().log1p(), "square": lambda l, x, y: x.square(),
    "sum": lambda l, x, y: x.sum(), "sum(1)": lambda l, x, y: x.sum(1), "mean": lambda l, x, y: x.mean(),
    "mean(0)": lambda l, x, y: x.mean(0), "max": lambda l, x, y: x.max(), "max(1)": lambda l, x, y: x.max(1)[0],
    "min": lambda l, x, y: x.min(), "std(1)": lambda l, x, y: x.std(1), "prod": lambda l, x, y: x.prod(),
    "prod(1)": lambda l, x, y: x.prod(1), "norm": lambda l, x, y: x.norm(),
    "mm": lambda l, x, y: x @ y, "mv": lambda l, x, y: x @ y[0], "dot": lambda l, x, y: x[0] @ y[0],
    "matmul 3d": lambda l, x, y: x[None] @ y[None], "t": lambda l, x, y: x.t(),
    "transpose": lambda l, x, y: x.transpose(0, 1), "permute": lambda l, x, y: x.permute(1, 0),
    "view": lambda l, x, y: x.view(-1), "reshape copy": lambda l, x, y: x.t().reshape(-1),
    "unsqueeze": lambda l, x, y: x.unsqueeze(0), "squeeze()": lambda l, x, y: x[None].squeeze(),
    "squeeze(0)": lambda l, x, y: x[None].squeeze(0), "expand": lambda l, x, y: x[:1].expand(3, 3),
    "x[0]": lambda l, x, y: x[0], "x[:, 1:]": lambda l, x, y: x[:, 1:], "x[1:, 0]": lambda l, x, y: x[1:, 0],
    "x[0, :]": lambda l, x, y: x[0, :], "x[None]": lambda l, x, y: x[None], "x[...]": lambda l, x, y: x[...],
    "x[[0, 1]]": lambda l, x, y: x[[0, 1]], "x[x > 0]": lambda l, x, y: x[x > 0],
    "cat": lambda l, x, y: l.cat([x, y]), "stack": lambda l, x, y: l.stack([x, y]),
    "clamp": lambda l, x, y: x.clamp(0, 1), "clamp tensor": lambda l, x, y: x.clamp(y, y + 1),
    "where": lambda l, x, y: l.where(x > 0, x, y), "masked_fill": lambda l, x, y: x.masked_fill(x > 0, 0.0),
    "index_select": lambda l, x, y: x.index_select(0, l.tensor([0, 2])),
    "gather": lambda l, x, y: x.gather(1, l.tensor([[0], [1], [2]])),
    "scatter value": lambda l, x, y: x.scatter(1, l.tensor([[0], [1], [2]]), 0.0),
    "scatter src": lambda l, x, y: x.scatter(1, l.tensor([[0], [1], [2]]), y),
    "split": lambda l, x, y: x.split(1)[0], "split sizes": lambda l, x, y: x.split([1, 2])[0],
    "unbind": lambda l, x, y: x.unbind()[0], "clone": lambda l, x, y: x.clone(),
    "double": lambda l, x, y: x.float(), "cumsum": lambda l, x, y: x.cumsum(0), "flip": lambda l, x, y: x.flip(0),
    "repeat": lambda l, x, y: x.repeat(2, 1), "trace": lambda l, x, y: x.trace(), "tril": lambda l, x, y: x.tril(),
    "unfold": lambda l, x, y: x.unfold(0, 2, 1), "diag_embed": lambda l, x, y: l.diag(x[0]),
    "x += y": lambda l, x, y: (x * 1).__iadd__(y), "sigmoid": lambda l, x, y: l.sigmoid(x),
    "softmax": lambda l, x, y: l.softmax(x, 1), "relu": lambda l, x, y: l.relu(x),
}


@pytest.mark.parametrize("name", sorted(GRAD_FN_CASES))
def test_grad_fn_names_match_torch(name):
    fn = GRAD_FN_CASES[name]
    x, y = rand(3, 3, seed=1), rand(3, 3, seed=2)
    got = fn(cnnlab, cnnlab.tensor(x, requires_grad=True), cnnlab.tensor(y, requires_grad=True))
    want = fn(torch, torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True))
    assert got.grad_fn.name() == want.grad_fn.name()
    assert repr(got.grad_fn) == f"<{want.grad_fn.name()}>"
    assert f"grad_fn=<{want.grad_fn.name()}>" in repr(got)
