"""PyTorch-compatibility surface: the F namespace holds functions (not same-named submodules), and the
no-op stand-ins for PyTorch 2 features (compile, autocast)."""
import types
import warnings

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, rand


@pytest.mark.parametrize("name", ["one_hot", "pixel_shuffle", "pixel_unshuffle", "pairwise_distance",
                                  "cosine_similarity"])
def test_functional_names_are_functions(name):
    assert callable(getattr(F, name)) and not isinstance(getattr(F, name), types.ModuleType)


def test_functional_pixel_shuffle_and_one_hot_match_torch():
    check(lambda lib, x: lib.F.pixel_shuffle(x, 2), rand(1, 8, 2, 3, seed=1))
    check(lambda lib, x: lib.F.pixel_unshuffle(x, 2), rand(1, 2, 4, 6, seed=2))
    y = np.array([0, 2, 1, 2])
    assert np.array_equal(F.one_hot(cnnlab.tensor(y), 4).numpy(), torch.nn.functional.one_hot(torch.tensor(y), 4))


def test_compile_returns_the_model_and_matches_torch():
    net = cnnlab.nn.Sequential(cnnlab.nn.Linear(3, 2), cnnlab.nn.ReLU())
    assert cnnlab.compile(net) is net
    assert cnnlab.compile(net, mode="max-autotune", fullgraph=True, dynamic=False) is net

    @cnnlab.compile
    def f(x):
        return x * 2

    @cnnlab.compile(mode="reduce-overhead")
    def g(x):
        return x + 1
    assert f(cnnlab.tensor([1.5])).tolist() == [3.0] and g(cnnlab.tensor([1.5])).tolist() == [2.5]
    with pytest.raises(ValueError, match="compile: mode must be one of default, .* Got mode='fast'"):
        cnnlab.compile(net, mode="fast")
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        torch.compile(torch.nn.Linear(3, 2), mode="fast")
    with pytest.raises(ValueError, match="compile: either mode or options can be given, not both"):
        cnnlab.compile(net, mode="default", options={})
    with pytest.raises(TypeError, match="compile: a callable .* Got int"):
        cnnlab.compile(3)


def test_autocast_is_a_no_op_that_warns_once(monkeypatch):
    import cnnlab._compat as compat
    monkeypatch.setattr(compat, "_warned", False)
    x = cnnlab.tensor(rand(2, 3, seed=1).astype(np.float32))
    w = cnnlab.tensor(rand(3, 4, seed=2).astype(np.float32))
    with pytest.warns(UserWarning, match="autocast: cnnlab computes each op in its input's dtype"):
        with cnnlab.autocast(device_type="cpu", dtype=cnnlab.bfloat16 if hasattr(cnnlab, "bfloat16") else None):
            y = x @ w
    assert y.dtype == cnnlab.float32 and np.array_equal(y.numpy(), (x @ w).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second region, and a disabled one, warn no more
        with cnnlab.autocast("cuda"):
            pass
        with cnnlab.amp.autocast("cpu", enabled=False):
            pass

    @cnnlab.autocast("cpu")
    def double(t):
        return t * 2
    assert double(x).dtype == cnnlab.float32 and double.__name__ == "double"
    with pytest.raises(ValueError, match="autocast: device_type must be a str"):
        cnnlab.autocast(3)
    with pytest.raises(ValueError):
        torch.autocast(3)
    with pytest.raises(ValueError, match="autocast: device_type must be one of cpu, cuda"):
        cnnlab.autocast("gpu")


@pytest.mark.parametrize("name", ["script", "trace"])
def test_jit_says_there_is_no_jit(name):
    with pytest.raises(NotImplementedError, match=f"jit.{name}: cnnlab has no JIT compiler"):
        getattr(cnnlab.jit, name)(cnnlab.nn.Linear(2, 2))
