"""Module conversions and bfloat16 model state against PyTorch: Module.type/half/bfloat16/float/double/to,
load_state_dict into bfloat16 modules, and optimizer steps on bfloat16 parameters."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def _dtypes_of(module):
    return {k: str(v.dtype).split(".")[-1] for k, v in module.state_dict().items()}


def _pair():
    c, p = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)), torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3),
                                                                                      torch.nn.BatchNorm2d(3))
    return c, p


@pytest.mark.parametrize("convert", [
    lambda m, L: m.half(), lambda m, L: m.bfloat16(), lambda m, L: m.double(), lambda m, L: m.double().float(),
    lambda m, L: m.to(L.bfloat16), lambda m, L: m.to(L.float16), lambda m, L: m.to("cpu", L.float64),
    lambda m, L: m.type(L.float64), lambda m, L: m.type(L.bfloat16), lambda m, L: m.type("torch.DoubleTensor"),
    lambda m, L: m.type(L.DoubleTensor), lambda m, L: m.type(L.float16),
])
def test_module_conversions_match_torch(convert):
    c, p = _pair()
    assert convert(c, cnnlab) is c and convert(p, torch) is p
    assert _dtypes_of(c) == _dtypes_of(p)


def test_module_type_casts_integer_buffers_and_gradients_and_keeps_parameters():
    c = nn.Linear(2, 3)
    w = c.weight
    c.weight.grad = cnnlab.ones(3, 2)
    c.type(cnnlab.float64)
    assert c.weight is w and w.dtype == cnnlab.float64 and w.grad.dtype == cnnlab.float64
    c.requires_grad_(False)
    c.type(cnnlab.int32)
    p = torch.nn.Linear(2, 3).requires_grad_(False).type(torch.int32)
    assert c.weight.dtype == cnnlab.int32 and p.weight.dtype == torch.int32
    c.bfloat16()  # integer parameters are not floating: bfloat16() leaves them, as in PyTorch
    assert c.weight.dtype == cnnlab.int32 and p.bfloat16().weight.dtype == torch.int32


def test_module_type_errors():
    c = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match="must stay floating point"):
        c.type(cnnlab.int64)
    with pytest.raises(RuntimeError):
        torch.nn.Linear(2, 3).type(torch.int64)
    assert c.weight.dtype == cnnlab.float32 and c.bias.dtype == cnnlab.float32  # nothing changed
    with pytest.raises(ValueError, match="dst_type"):
        c.type("foo")
    with pytest.raises(ValueError):
        torch.nn.Linear(2, 3).type("foo")
    with pytest.raises(TypeError, match="floating point"):
        c.to(cnnlab.int64)


def test_load_state_dict_into_a_bfloat16_module_rounds_like_torch():
    p = torch.nn.Linear(5, 3)
    c = nn.Linear(5, 3).bfloat16()
    c.load_state_dict({k: cnnlab.tensor(v.detach().numpy()) for k, v in p.state_dict().items()})
    p.bfloat16()
    for name, t in c.state_dict().items():
        assert t.dtype == cnnlab.bfloat16 and not (t._data.view(np.uint32) & 0xFFFF).any()
        np.testing.assert_array_equal(t.float().numpy(), p.state_dict()[name].float().numpy())


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_optimizer_steps_keep_bfloat16_parameters_on_the_grid_and_near_torch(opt):
    kwargs = {"lr": 0.01, **({"momentum": 0.9} if opt == "SGD" else {})}
    p = torch.nn.Linear(4, 3)
    c = nn.Linear(4, 3)
    c.load_state_dict({k: cnnlab.tensor(v.detach().numpy()) for k, v in p.state_dict().items()})
    c.bfloat16(), p.bfloat16()
    oc, op = getattr(cnnlab.optim, opt)(c.parameters(), **kwargs), getattr(torch.optim, opt)(p.parameters(), **kwargs)
    x = np.random.default_rng(6).standard_normal((2, 4)).astype(np.float32)
    for _ in range(3):
        oc.zero_grad(), op.zero_grad()
        c(cnnlab.from_numpy(x).bfloat16()).sum().backward()
        p(torch.from_numpy(x).bfloat16()).sum().backward()
        oc.step(), op.step()
    for (name, a), b in zip(c.named_parameters(), p.parameters()):
        assert a.dtype == cnnlab.bfloat16 and not (a._data.view(np.uint32) & 0xFFFF).any(), name
        # PyTorch rounds each intermediate of the update to bfloat16, cnnlab the result of each step: a few steps
        np.testing.assert_allclose(a.float().detach().numpy(), b.float().detach().numpy(), rtol=0,
                                   atol=4 * 2 ** -8 * float(b.abs().max()))
        for key, value in oc.state[a].items():
            if isinstance(value, cnnlab.Tensor) and value.ndim:
                assert value.dtype.name == str(op.state[b][key].dtype).split(".")[-1], key
                assert not (value._data.view(np.uint32) & 0xFFFF).any(), key
