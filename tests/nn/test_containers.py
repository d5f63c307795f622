"""The containers against PyTorch's: Sequential (indexing, slicing, append, insert, extend, deletion), ModuleList,
ModuleDict, ParameterList and ParameterDict give the same names, order, state_dict keys, reprs and outputs."""
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
from oracle import rand

torch.set_num_threads(1)


# ---- containers -----------------------------------------------------------------------------------------------------------
def test_sequential_like_torch():
    for lib in (nn, torch.nn):
        layers = [lib.Linear(2, 3), lib.ReLU(), lib.Linear(3, 4), lib.Tanh()]
        s = lib.Sequential(*layers)
        assert len(s) == 4 and s[0] is layers[0] and s[-1] is layers[3] and s[-4] is layers[0]
        assert list(s) == layers
        sub = s[1:3]
        assert type(sub) is lib.Sequential and list(sub) == layers[1:3] and list(sub._modules) == ["1", "2"]
        assert list(s[::-2]) == [layers[3], layers[1]]
        with pytest.raises(IndexError):
            s[4]
        s[1] = lib.Sigmoid()
        assert isinstance(s[1], lib.Sigmoid)
        s.append(lib.Linear(4, 1))
        s.insert(0, lib.Identity())
        assert list(s._modules) == ["0", "1", "2", "3", "4", "5"] and isinstance(s[0], lib.Identity)
        s.insert(-1, lib.ReLU())
        assert isinstance(s[-2], lib.ReLU)
        popped = s.pop(0)
        assert isinstance(popped, lib.Identity) and list(s._modules) == [str(i) for i in range(6)]
        del s[1:3]
        assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
        s.extend([lib.ReLU(), lib.ReLU()])
        assert len(s) == 6
        both = s + lib.Sequential(lib.ReLU())
        assert len(both) == 7 and len(s) == 6
        s += lib.Sequential(lib.Tanh())
        assert len(s) == 7
        named = lib.Sequential(OrderedDict([("conv", lib.Conv2d(1, 2, 3)), ("act", lib.ReLU())]))
        assert list(named.state_dict()) == ["conv.weight", "conv.bias"] and isinstance(named[1], lib.ReLU)
        assert isinstance(named.conv, lib.Conv2d)
    out = nn.Sequential(nn.Linear(2, 3), nn.ReLU())(cnnlab.ones(4, 2))
    assert out.shape == (4, 3)


def test_module_list_like_torch():
    for lib in (nn, torch.nn):
        ml = lib.ModuleList([lib.Linear(2, 2) for _ in range(3)])
        assert len(ml) == 3 and ml[-1] is ml[2]
        assert type(ml[1:]) is lib.ModuleList and len(ml[1:]) == 2
        ml.append(lib.ReLU())
        ml.extend([lib.Tanh()])
        ml.insert(1, lib.Sigmoid())
        assert [type(m).__name__ for m in ml] == ["Linear", "Sigmoid", "Linear", "Linear", "ReLU", "Tanh"]
        del ml[0]
        assert list(ml._modules) == [str(i) for i in range(5)]
        ml += [lib.ReLU()]
        assert len(ml) == 6 and len(ml + lib.ModuleList([lib.ReLU()])) == 7
        assert isinstance(ml.pop(-1), lib.ReLU) and len(ml) == 5
        assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias", "2.weight", "2.bias"]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        nn.ModuleList().extend(nn.ReLU())
    with pytest.raises(IndexError, match="index 3 is out of range"):
        nn.ModuleList([nn.ReLU()] * 3)[3]


def test_module_dict_like_torch():
    for lib in (nn, torch.nn):
        md = lib.ModuleDict({"b": lib.Linear(1, 2), "a": lib.ReLU()})
        md["c"] = lib.Linear(2, 2)
        md.update([("d", lib.Tanh())])
        md.update(lib.ModuleDict({"e": lib.ReLU()}))
        del md["e"]
        assert list(md) == ["b", "a", "c", "d"] and list(md.keys()) == ["b", "a", "c", "d"]
        assert "a" in md and len(md) == 4 and isinstance(md.pop("a"), lib.ReLU)
        assert [k for k, _ in md.items()] == ["b", "c", "d"]
        assert [n for n, _ in md.named_parameters()] == ["b.weight", "b.bias", "c.weight", "c.bias"]
        del md["d"]
        md.clear()
        assert len(md) == 0


def test_parameter_list_and_dict_like_torch():
    for lib, tensor in ((nn, cnnlab.zeros), (torch.nn, torch.zeros)):
        pl = lib.ParameterList([tensor(2, 3), lib.Parameter(tensor(2))])
        pl.append(tensor(4))
        assert len(pl) == 3 and all(isinstance(p, lib.Parameter) for p in pl)
        assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"] and pl[-1].shape == (4,)
        pd = lib.ParameterDict({"scale": tensor(3)})
        pd["shift"] = lib.Parameter(tensor(3))
        assert list(pd.keys()) == ["scale", "shift"] and isinstance(pd["scale"], lib.Parameter)
        holder = lib.Module()
        holder.pl, holder.pd = pl, pd
        assert list(holder.state_dict()) == ["pl.0", "pl.1", "pl.2", "pd.scale", "pd.shift"]


def test_training_a_model_reduces_the_loss():
    """End to end: nn modules + autograd + a hand-written SGD step learn a small regression."""
    cnnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
    x = cnnlab.tensor(rand(64, 3, dtype=np.float32))
    y = (x * cnnlab.tensor([[1.0, -2.0, 0.5]])).sum(1, keepdim=True)
    loss_fn = nn.MSELoss()
    first = None
    for _ in range(200):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        first = first if first is not None else loss.item()
        with cnnlab.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert loss.item() < first / 20
    assert re.fullmatch(r"tensor\(\d\.\d+(e-\d+)?, grad_fn=<\w+>\)", repr(loss))
