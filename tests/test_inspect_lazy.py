"""nn.LazyLinear, nn.LazyConv*d, nn.LazyConvTranspose*d and nn.LazyBatchNorm*d against PyTorch's: printed form before
and after, cls_to_become, state_dict before initialisation, loading materialises, errors on use before the first
forward, and the layer's values and gradients once initialised."""
import copy
import math
import pickle

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as cnn
from cnnlab.inspect import summary

torch = pytest.importorskip("torch")


def _copy_state(tmod, cmod):
    cmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


CASES = [
    ("LazyLinear", (7,), {}, (3, 5, 12)),
    ("LazyConv1d", (4, 3), {"stride": 2, "padding": 1}, (2, 3, 11)),
    ("LazyConv2d", (6, 3), {"groups": 2, "dilation": 2}, (2, 4, 9, 9)),
    ("LazyConv3d", (2, 2), {"bias": False}, (1, 3, 4, 5, 4)),
    ("LazyConvTranspose2d", (4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5, 4)),
    ("LazyConvTranspose1d", (2, 3), {}, (2, 3, 6)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), {"momentum": 0.3}, (4, 3, 5, 5)),
    ("LazyBatchNorm3d", (), {"affine": False}, (2, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", CASES)
def test_lazy_layer_matches_pytorch(name, args, kwargs, shape):
    tmod = getattr(torch.nn, name)(*args, **kwargs).double()
    cmod = getattr(cnn, name)(*args, **kwargs, dtype=cnnlab.float64)
    assert repr(cmod) == repr(tmod)
    assert type(cmod).cls_to_become.__name__ == tmod.cls_to_become.__name__
    assert cmod.has_uninitialized_params() and tmod.has_uninitialized_params()
    assert list(cmod.state_dict()) == list(tmod.state_dict())
    assert [type(v).__name__ for v in cmod.state_dict().values()] == \
        [type(v).__name__ for v in tmod.state_dict().values()]

    x = np.random.default_rng(0).standard_normal(shape)
    tmod(torch.tensor(x))  # materialise both, then give cnnlab PyTorch's initial values
    cmod(cnnlab.tensor(x))
    assert type(cmod).__name__ == type(tmod).__name__ == getattr(torch.nn, name[4:]).__name__
    assert repr(cmod) == repr(tmod)
    assert not cmod.has_uninitialized_params() if hasattr(cmod, "has_uninitialized_params") else True
    assert [(k, tuple(v.shape)) for k, v in cmod.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tmod.state_dict().items()]
    _copy_state(tmod, cmod)
    xt, xc = torch.tensor(x, requires_grad=True), cnnlab.tensor(x, requires_grad=True)
    g = np.random.default_rng(1).standard_normal(tuple(tmod(xt).shape))
    (tmod(xt) * torch.tensor(g)).sum().backward()
    (cmod(xc) * cnnlab.tensor(g)).sum().backward()
    np.testing.assert_allclose(cmod(xc).detach().numpy(), tmod(xt).detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (k, p), (_, q) in zip(cmod.named_parameters(), tmod.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_materialised_weights_get_the_layers_initialisation():
    cnnlab.manual_seed(0)
    fc = cnn.LazyLinear(50)
    fc(cnnlab.zeros(2, 400))
    w = fc.weight.detach().numpy()
    assert fc.in_features == 400 and w.shape == (50, 400)
    assert np.abs(w).max() <= 1 / math.sqrt(400) and w.std() > 0.5 / math.sqrt(3 * 400)
    conv = cnn.LazyConv2d(8, 3)
    conv(cnnlab.zeros(1, 5, 6, 6))
    assert conv.in_channels == 5 and np.abs(conv.weight.detach().numpy()).max() <= 1 / math.sqrt(45)
    bn = cnn.LazyBatchNorm2d()
    bn(cnnlab.ones(2, 3, 2, 2))
    assert bn.num_features == 3 and bn.weight.tolist() == [1.0] * 3 and int(bn.num_batches_tracked) == 1


def test_use_before_initialisation_is_refused():
    fc = cnn.LazyLinear(3)
    with pytest.raises(ValueError, match=r"Attempted to use an uninitialized parameter in numel\(\).*call `forward`"):
        sum(p.numel() for p in fc.parameters())
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        fc.weight + 1
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        fc.weight.shape
    assert repr(fc.weight) == "<UninitializedParameter>"
    with pytest.raises(ValueError, match="in_channels must be divisible by groups. Got in_channels=3"):
        cnn.LazyConv1d(6, 3, groups=2)(cnnlab.ones(1, 3, 8))


def test_load_state_dict_materialises_and_forward_finishes():
    src = cnn.Linear(7, 4)
    fc = cnn.LazyLinear(4)
    assert repr(fc.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    assert type(fc).__name__ == "LazyLinear" and tuple(fc.weight.shape) == (4, 7)
    out = fc(cnnlab.ones(2, 7))
    assert repr(fc) == "Linear(in_features=7, out_features=4, bias=True)"
    assert cnnlab.allclose(out, src(cnnlab.ones(2, 7)))
    bn = cnn.LazyBatchNorm2d()
    bn.load_state_dict(cnn.BatchNorm2d(5).state_dict())
    bn(cnnlab.ones(2, 5, 3, 3))
    assert repr(bn) == repr(torch.nn.BatchNorm2d(5))
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        cnn.LazyLinear(4).load_state_dict({"weight": np.ones((4, 5))})


def test_optimizer_copy_and_pickle_before_initialisation():
    model = cnn.Sequential(cnn.LazyConv2d(4, 3), cnn.ReLU(), cnn.Flatten(), cnn.LazyLinear(2))
    clone = copy.deepcopy(model)
    again = pickle.loads(pickle.dumps(cnn.LazyLinear(3)))
    assert repr(again.weight) == "<UninitializedParameter>"
    opt = cnnlab.optim.SGD(model.parameters(), lr=0.1)
    model(cnnlab.ones(1, 3, 6, 6)).sum().backward()
    before = model[3].weight.clone()
    opt.step()  # the optimizer holds the same objects, now ordinary Parameters
    assert not cnnlab.equal(before, model[3].weight)
    assert type(clone[3]).__name__ == "LazyLinear"
    assert tuple(clone(cnnlab.ones(1, 3, 8, 8)).shape) == (1, 2) and clone[3].in_features == 144


def test_summary_initialises_lazy_layers_and_counts_them():
    net = cnn.Sequential(cnn.LazyConv2d(6, 5), cnn.ReLU(), cnn.MaxPool2d(2), cnn.Flatten(), cnn.LazyLinear(10))
    s = summary(net, (1, 3, 16, 16))
    assert s.total_params == 6 * 3 * 25 + 6 + 10 * 6 * 6 * 6 + 10
    assert [r.class_name for r in s.summary_list] == ["Sequential", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert "nn.LazyLinear" in str(pytest.raises(ValueError, summary, cnn.Sequential(cnn.Flatten(), cnn.Linear(5, 2)),
                                                (1, 2, 2, 2)).value)


def test_dtype_chosen_before_initialisation():
    fc = cnn.LazyLinear(3).double()
    assert fc.weight.dtype == cnnlab.float64 and repr(fc.weight) == "<UninitializedParameter>"
    fc(cnnlab.ones(2, 4, dtype=cnnlab.float64))
    tfc = torch.nn.LazyLinear(3).double()
    tfc(torch.ones(2, 4, dtype=torch.float64))
    assert str(fc.weight.dtype).split(".")[-1] == str(tfc.weight.dtype).split(".")[-1] == "float64"
    bn = cnn.LazyBatchNorm2d().double()
    bn(cnnlab.ones(2, 3, 2, 2, dtype=cnnlab.float64))
    assert bn.running_mean.dtype == cnnlab.float64
