"""PyTorch-compatibility surface: the F namespace holds functions (not same-named submodules); amp, cuda.amp
(GradScaler against torch's CPU GradScaler) and jit."""
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


def test_amp_namespaces_use_cnnlab_autocast():
    """cnnlab.autocast itself (cnnlab/_settings.py) is tested in tests/test_settings.py."""
    assert cnnlab.amp.autocast is cnnlab.autocast
    region = cnnlab.cuda.amp.autocast(enabled=False)
    assert isinstance(region, cnnlab.autocast) and region.device_type == "cuda" and not region.enabled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with region:
            y = cnnlab.ones(2) * 2
    assert y.dtype == cnnlab.float32


@pytest.mark.parametrize("name", ["script", "trace"])
def test_jit_says_there_is_no_jit(name):
    with pytest.raises(NotImplementedError, match=f"jit.{name}: cnnlab has no JIT compiler"):
        getattr(cnnlab.jit, name)(cnnlab.nn.Linear(2, 2))


def _scaler_run(lib, steps, inf_at, **kw):
    """A small float32 regression trained with a GradScaler; an inf is put into the gradient at the steps in
    inf_at (those steps must be skipped)."""
    rng = np.random.default_rng(3)
    w = lib.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = lib.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    y = lib.tensor(rng.standard_normal((5, 2)).astype(np.float32))
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = (lib.amp.GradScaler("cpu", **kw))
    scales = []
    for i in range(steps):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        scaler.scale(loss).backward()
        if i in inf_at:
            with lib.no_grad():
                w.grad[0, 0] = float("inf")
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return w.detach().numpy(), scales, scaler.state_dict()


def test_grad_scaler_matches_torch_on_the_cpu():
    kw = dict(init_scale=2.0 ** 10, growth_interval=2)
    got = _scaler_run(cnnlab, 7, {2, 3}, **kw)
    want = _scaler_run(torch, 7, {2, 3}, **kw)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-7)
    assert got[1] == want[1] and got[2] == want[2]
    assert got[1] == [1024.0, 2048.0, 1024.0, 512.0, 512.0, 1024.0, 1024.0]   # growth, backoff twice, growth
    assert np.isfinite(got[0]).all()                                           # the inf steps were skipped


def test_grad_scaler_disabled_and_cuda_pass_through():
    w = cnnlab.tensor([1.0], requires_grad=True)
    opt = cnnlab.optim.SGD([w], lr=0.5)
    with pytest.warns(UserWarning, match="GradScaler: CUDA is not available"):
        scaler = cnnlab.cuda.amp.GradScaler()
    loss = (w * 2).sum()
    assert scaler.scale(loss) is loss and not scaler.is_enabled() and scaler.get_scale() == 1.0
    loss.backward()
    scaler.step(opt)
    scaler.update()
    assert w.item() == 0.0 and scaler.state_dict() == {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not torch.cuda.amp.GradScaler().is_enabled()  # torch disables itself without CUDA too
    with cnnlab.cuda.amp.autocast(enabled=False):
        pass


def test_grad_scaler_call_order_errors_and_state_dict():
    w = cnnlab.tensor([1.0], requires_grad=True)
    opt = cnnlab.optim.SGD([w], lr=0.1)
    scaler = cnnlab.amp.GradScaler("cpu", growth_interval=3)
    scaler.scale((w * w).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="GradScaler.unscale_: already called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="GradScaler.step: already called since the last update"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="GradScaler.step: a closure is not supported"):
        scaler.step(opt, closure=lambda: None)
    scaler.update()
    state = scaler.state_dict()
    assert state == {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
                     "_growth_tracker": 1}
    other = cnnlab.amp.GradScaler("cpu")
    other.load_state_dict(state)
    assert other.state_dict() == state
    with pytest.raises(RuntimeError, match="GradScaler.update: no inf checks were recorded"):
        other.update()
    with pytest.raises(ValueError, match="GradScaler: growth_factor must be > 1.0"):
        cnnlab.amp.GradScaler("cpu", growth_factor=1.0)
