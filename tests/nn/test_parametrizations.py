"""nn.utils.parametrize, parametrizations.weight_norm/spectral_norm and the legacy weight_norm/spectral_norm hooks
against PyTorch: the same initial values (spectral norm's u and v copied from PyTorch's buffers), then outputs,
gradients of every trained tensor, the power-iteration buffers after training and eval forwards, state_dict
keys, reprs, removal, and the errors."""
import warnings

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
from cnnlab.nn.utils import parametrize, parametrizations

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
tparam = torch.nn.utils.parametrize


def _legacy(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(*args, **kwargs)


def _pair(kind):
    """The same float64 layer in both libraries."""
    make = {"linear": lambda L: L.nn.Linear(5, 4), "conv": lambda L: L.nn.Conv2d(3, 4, 3),
            "convT": lambda L: L.nn.ConvTranspose2d(3, 4, 3), "conv1d": lambda L: L.nn.Conv1d(2, 3, 2)}[kind]
    c, p = make(cnnlab).double(), make(torch).double()
    c.load_state_dict({k: cnnlab.tensor(v.detach().numpy()) for k, v in p.state_dict().items()})
    return c, p


def _input(kind, seed=0):
    shape = {"linear": (3, 5), "conv": (2, 3, 6, 6), "convT": (2, 3, 4, 4), "conv1d": (2, 2, 5)}[kind]
    return np.random.default_rng(seed).standard_normal(shape)


def _copy_state(c, p):
    """PyTorch's state (including u and v) into cnnlab's module, key by key."""
    sd = {k: cnnlab.tensor(v.detach().numpy()) for k, v in p.state_dict().items()}
    assert list(c.state_dict()) == list(sd)
    c.load_state_dict(sd)


def _forward_backward(c, p, x, seed=1):
    """Run both, backpropagate (out * g).sum() with a random g; compare outputs and every parameter's and the
    input's gradient."""
    xc, xp = cnnlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yp = c(xc), p(xp)
    np.testing.assert_allclose(yc.detach().numpy(), yp.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(seed).standard_normal(tuple(yp.shape))
    (yc * cnnlab.tensor(g)).sum().backward()
    (yp * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xp.grad.numpy(), rtol=1e-10, atol=1e-12)
    cp, pp = dict(c.named_parameters()), dict(p.named_parameters())
    assert list(cp) == list(pp)
    for name in pp:
        np.testing.assert_allclose(cp[name].grad.numpy(), pp[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def _buffers_equal(c, p):
    for (name, bc), (_, bp) in zip(c.named_buffers(), p.named_buffers()):
        np.testing.assert_allclose(bc.numpy(), bp.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


# ---- parametrizations.weight_norm ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None), ("linear", -1),
                                      ("conv", 0), ("conv", 1), ("conv", 3), ("conv", -2), ("conv", None),
                                      ("conv1d", 2), ("convT", 0)])
def test_weight_norm_parametrization_matches_torch(kind, dim):
    c, p = _pair(kind)
    parametrizations.weight_norm(c, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(p, dim=dim)
    assert list(c.state_dict()) == list(p.state_dict())
    assert repr(c) == repr(p)
    g_c, g_p = c.parametrizations.weight.original0, p.parametrizations.weight.original0
    assert tuple(g_c.shape) == tuple(g_p.shape)
    np.testing.assert_allclose(g_c.detach().numpy(), g_p.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.weight.detach().numpy(), p.weight.detach().numpy(), rtol=1e-12, atol=1e-14)
    with torch.no_grad():  # a g that is not the initial norm, so the weight actually changes
        p.parametrizations.weight.original0.mul_(1.5)
    _copy_state(c, p)
    _forward_backward(c, p, _input(kind))


# ---- parametrizations.spectral_norm -----------------------------------------------------------------------
@pytest.mark.parametrize("kind,dim,n", [("linear", None, 1), ("linear", 1, 2), ("conv", None, 1), ("conv", 2, 1),
                                        ("conv", None, 3), ("convT", None, 1), ("conv1d", -1, 2)])
def test_spectral_norm_parametrization_matches_torch_in_train_and_eval(kind, dim, n):
    c, p = _pair(kind)
    parametrizations.spectral_norm(c, n_power_iterations=n, dim=dim)
    torch.nn.utils.parametrizations.spectral_norm(p, n_power_iterations=n, dim=dim)
    assert list(c.state_dict()) == list(p.state_dict())
    assert repr(c) == repr(p)
    _copy_state(c, p)  # the same random start for u and v
    for step in range(2):  # each training forward runs n power-iteration steps on the buffers
        c.zero_grad(), p.zero_grad()
        _forward_backward(c, p, _input(kind, step), seed=step)
        _buffers_equal(c, p)
    c.eval(), p.eval()
    u_before = c.parametrizations.weight[0]._u.numpy().copy()
    c.zero_grad(), p.zero_grad()
    _forward_backward(c, p, _input(kind, 5))
    np.testing.assert_array_equal(c.parametrizations.weight[0]._u.numpy(), u_before)  # eval: no iteration
    _buffers_equal(c, p)


def test_spectral_norm_weight_has_spectral_norm_one():
    c = parametrizations.spectral_norm(nn.Linear(6, 4).double(), n_power_iterations=30)
    c(cnnlab.zeros(1, 6, dtype=cnnlab.float64))  # 15 steps at registration plus 30
    s = np.linalg.svd(c.weight.detach().numpy(), compute_uv=False)
    assert s[0] == pytest.approx(1.0, rel=1e-6)


def test_spectral_norm_of_a_1d_weight_normalises_it():
    m = nn.Module()
    m.w = nn.Parameter(cnnlab.tensor([3.0, 4.0], dtype=cnnlab.float64))
    parametrizations.spectral_norm(m, "w")
    np.testing.assert_allclose(m.w.detach().numpy(), [0.6, 0.8])


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="no parameter or buffer with name 'nope'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), "nope")
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError):
        torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(2, 2), n_power_iterations=0)


# ---- the legacy hooks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", None), ("conv", 1), ("conv", 0)])
def test_legacy_weight_norm_matches_torch(kind, dim):
    c, p = _pair(kind)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        nn.utils.weight_norm(c, dim=dim)
    _legacy(torch.nn.utils.weight_norm, p, dim=dim)
    assert list(c.state_dict()) == list(p.state_dict()) and repr(c) == repr(p)
    np.testing.assert_allclose(c.weight_g.detach().numpy(), p.weight_g.detach().numpy(), rtol=1e-12)
    with torch.no_grad():
        p.weight_g.mul_(0.7)
    _copy_state(c, p)
    _forward_backward(c, p, _input(kind))
    nn.utils.remove_weight_norm(c)
    torch.nn.utils.remove_weight_norm(p)
    assert list(c.state_dict()) == list(p.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(c.weight.detach().numpy(), p.weight.detach().numpy(), rtol=1e-12)
    assert isinstance(c.weight, nn.Parameter)


@pytest.mark.parametrize("kind,n", [("linear", 1), ("conv", 2), ("convT", 1)])
def test_legacy_spectral_norm_matches_torch(kind, n):
    c, p = _pair(kind)
    nn.utils.spectral_norm(c, n_power_iterations=n)
    torch.nn.utils.spectral_norm(p, n_power_iterations=n)
    assert list(c.state_dict()) == list(p.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    _copy_state(c, p)
    for step in range(2):
        c.zero_grad(), p.zero_grad()
        _forward_backward(c, p, _input(kind, step), seed=step)
        _buffers_equal(c, p)
    c.eval(), p.eval()
    c.zero_grad(), p.zero_grad()
    _forward_backward(c, p, _input(kind, 7))
    _buffers_equal(c, p)
    nn.utils.remove_spectral_norm(c)
    torch.nn.utils.remove_spectral_norm(p)
    assert list(c.state_dict()) == list(p.state_dict())
    np.testing.assert_allclose(c.weight.detach().numpy(), p.weight.detach().numpy(), rtol=1e-10)


def test_legacy_errors_match_torch():
    c = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks on the same parameter weight"):
        nn.utils.spectral_norm(c)
    w = _legacy(nn.utils.weight_norm, nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"):
        _legacy(nn.utils.weight_norm, w)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in Linear"):
        nn.utils.remove_weight_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in Linear"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        torch.nn.utils.remove_spectral_norm(torch.nn.Linear(2, 2))


# ---- parametrize itself ---------------------------------------------------------------------------------------
def _symmetric(L):
    class Symmetric(L.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _scale(L):
    class Scale(L.nn.Module):
        def forward(self, X):
            return X * 2.0
    return Scale()


def _split(L):
    class Split(L.nn.Module):  # weight = a + b, stored as two tensors
        def forward(self, a, b):
            return a + b

        def right_inverse(self, W):
            return W * 0.25, W * 0.75
    return Split()


def _square_pair():
    c, p = nn.Linear(4, 4).double(), torch.nn.Linear(4, 4).double()
    c.load_state_dict({k: cnnlab.tensor(v.detach().numpy()) for k, v in p.state_dict().items()})
    return c, p


@pytest.mark.parametrize("chain", [[_symmetric], [_scale], [_split], [_symmetric, _scale], [_split, _scale]])
def test_register_parametrization_matches_torch(chain):
    c, p = _square_pair()
    for make in chain:
        parametrize.register_parametrization(c, "weight", make(cnnlab))
        tparam.register_parametrization(p, "weight", make(torch))
    assert type(c).__name__ == type(p).__name__ == "ParametrizedLinear"
    assert list(c.state_dict()) == list(p.state_dict())
    assert repr(c).replace("\n", "") == repr(p).replace("\n", "")
    assert parametrize.is_parametrized(c) and parametrize.is_parametrized(c, "weight")
    assert not parametrize.is_parametrized(c, "bias")
    assert parametrize.type_before_parametrizations(c) is nn.Linear
    for name, t in p.state_dict().items():
        np.testing.assert_allclose(c.state_dict()[name].numpy(), t.numpy(), rtol=1e-12, err_msg=name)
    _forward_backward(c, p, np.random.default_rng(0).standard_normal((3, 4)))


def test_assigning_a_parametrized_attribute_goes_through_right_inverse():
    c, p = _square_pair()
    parametrize.register_parametrization(c, "weight", _split(cnnlab))
    tparam.register_parametrization(p, "weight", _split(torch))
    value = np.random.default_rng(3).standard_normal((4, 4))
    c.weight = cnnlab.tensor(value)
    with torch.no_grad():
        p.weight = torch.tensor(value)
    np.testing.assert_allclose(c.weight.detach().numpy(), value, rtol=1e-12)
    np.testing.assert_allclose(c.parametrizations.weight.original1.detach().numpy(),
                               p.parametrizations.weight.original1.detach().numpy(), rtol=1e-12)


def test_single_original_keeps_the_parameter_object_for_optimizers():
    c = nn.Linear(3, 3)
    w = c.weight
    parametrize.register_parametrization(c, "weight", _symmetric(cnnlab))
    assert c.parametrizations.weight.original is w
    opt = cnnlab.optim.SGD(c.parameters(), lr=0.1)
    assert any(q is w for q in c.parameters())
    c(cnnlab.ones(2, 3)).sum().backward()
    before = w.detach().numpy().copy()
    opt.step()
    assert not np.array_equal(w.detach().numpy(), before)
    parametrize.remove_parametrizations(c, "weight")
    assert c.weight is w and type(c) is nn.Linear and "parametrizations" not in c._modules
    np.testing.assert_allclose(c.weight.detach().numpy(), c.weight.detach().numpy().T)  # left parametrized


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations_matches_torch(leave):
    c, p = _square_pair()
    parametrize.register_parametrization(c, "weight", _scale(cnnlab))
    tparam.register_parametrization(p, "weight", _scale(torch))
    parametrize.remove_parametrizations(c, "weight", leave_parametrized=leave)
    tparam.remove_parametrizations(p, "weight", leave_parametrized=leave)
    assert type(c).__name__ == type(p).__name__ == "Linear" and repr(c) == repr(p)
    assert list(c.state_dict()) == list(p.state_dict())
    np.testing.assert_allclose(c.weight.detach().numpy(), p.weight.detach().numpy(), rtol=1e-12)


def test_parametrize_a_buffer_and_cached():
    m = nn.BatchNorm1d(3)
    parametrize.register_parametrization(m, "running_var", _scale(cnnlab))
    assert "parametrizations.running_var.original" in m.state_dict()
    assert not any(n.endswith("original") for n, _ in m.named_parameters())
    np.testing.assert_allclose(m.running_var.numpy(), [2.0, 2.0, 2.0])
    calls = []
    lin = nn.Linear(2, 2)

    class Count(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X
    parametrize.register_parametrization(lin, "weight", Count())
    calls.clear()
    with parametrize.cached():
        a, b = lin.weight, lin.weight
    assert a is b and len(calls) == 1
    lin.weight, lin.weight
    assert len(calls) == 3


def test_parametrize_errors():
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(nn.Linear(2, 2), "weight")
    with pytest.raises(ValueError):
        tparam.remove_parametrizations(torch.nn.Linear(2, 2), "weight")

    class Shrink(nn.Module):
        def forward(self, X):
            return X[:1]
    with pytest.raises(ValueError, match="may not change the shape or dtype"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    m = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink(), unsafe=True)
    assert tuple(m.weight.shape) == (1, 2)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'nope'"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nope", _scale(cnnlab))
    c = parametrize.register_parametrization(nn.Linear(2, 2), "weight", _split(cnnlab))
    with pytest.raises(ValueError, match="several tensors"):
        parametrize.remove_parametrizations(c, "weight", leave_parametrized=False)


def test_deepcopy_is_independent_and_pickle_is_refused_like_torch():
    import copy
    import pickle
    c = parametrizations.spectral_norm(nn.Linear(3, 2))
    d = copy.deepcopy(c)
    assert type(d).__name__ == "ParametrizedLinear" and type(d) is not type(c)
    assert d.parametrizations.weight.original is not c.parametrizations.weight.original
    np.testing.assert_array_equal(d.weight.detach().numpy(), c.weight.detach().numpy())
    parametrize.remove_parametrizations(d, "weight")
    assert type(d) is nn.Linear and parametrize.is_parametrized(c, "weight")
    c(cnnlab.ones(1, 3))  # the original keeps its property
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(c)
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(3, 2)))


def test_weight_norm_parametrization_loads_a_legacy_checkpoint_like_torch():
    c, p = _pair("conv")
    old_c, old_p = _pair("conv")
    _legacy(nn.utils.weight_norm, old_c)
    _legacy(torch.nn.utils.weight_norm, old_p)
    with torch.no_grad():
        old_p.weight_g.mul_(0.5)
    _copy_state(old_c, old_p)
    parametrizations.weight_norm(c)
    torch.nn.utils.parametrizations.weight_norm(p)
    assert list(old_c.state_dict()) == ["bias", "weight_g", "weight_v"]
    c.load_state_dict(old_c.state_dict())
    p.load_state_dict(old_p.state_dict())
    np.testing.assert_allclose(c.weight.detach().numpy(), p.weight.detach().numpy(), rtol=1e-12)
    old_c(cnnlab.zeros(1, 3, 6, 6, dtype=cnnlab.float64))  # the legacy hook recomputes weight before forward
    np.testing.assert_allclose(c.weight.detach().numpy(), old_c.weight.detach().numpy(), rtol=1e-12)


def test_assigning_without_right_inverse_is_refused_like_torch():
    for L, tp in [(cnnlab, parametrize), (torch, tparam)]:
        m = tp.register_parametrization(L.nn.Linear(3, 3), "weight", _scale(L))
        with pytest.raises(RuntimeError, match="does not implement right_inverse"):
            m.weight = L.ones(3, 3)
