"""cnnlab.optim.Adadelta against torch.optim.Adadelta: the same weights, gradients and options give the same
20-step trajectory and state; state dicts have torch's layout and round-trip (also from torch to cnnlab).

As in tests/test_optim.py the gradients follow a fixed rule (a function of the current weights plus a fixed noise
sequence, computed in NumPy), so any difference comes from the optimizers' arithmetic alone.
"""
import copy
import pickle

import numpy as np
import pytest

import cnnlab
import cnnlab.optim

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 20
CASES = [
    dict(),
    dict(lr=0.5, rho=0.5),
    dict(weight_decay=0.1),
    dict(eps=1e-3, maximize=True),
    dict(lr=2.0, rho=0.95, eps=1e-8, weight_decay=0.05, maximize=True),
    dict(rho=0.0),
    dict(rho=1.0),
]
IDS = ["-".join(f"{k}={v}" for k, v in kw.items()) or "defaults" for kw in CASES]
NOISE = [[np.random.default_rng(100 + k).standard_normal(s) for s in SHAPES] for k in range(STEPS)]


def init_arrays(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _np(t):
    return t.detach().numpy().copy() if isinstance(t, torch.Tensor) else np.array(t._data)


def build(lib, kwargs, arrays, groups=None):
    if lib is torch:
        params = [torch.tensor(a, requires_grad=True) for a in arrays]
    else:
        params = [cnnlab.tensor(a, requires_grad=True) for a in arrays]
    spec = params if groups is None else [dict({"params": [params[i] for i in idx]}, **o) for idx, o in groups]
    return params, lib.optim.Adadelta(spec, **kwargs)


def run_steps(lib, params, opt, first, last):
    """Steps first..last-1; parameter 2 gets no gradient on odd steps (it must be left alone then)."""
    for k in range(first, last):
        opt.zero_grad()
        for i, p in enumerate(params):
            if k % 2 == 1 and i == 2:
                continue
            v = _np(p)
            g = (np.sin(v) + 0.5 * (v - 0.3) + 0.3 * NOISE[k][i]).astype(v.dtype)
            p.grad = torch.from_numpy(g) if lib is torch else cnnlab.tensor(g)
        opt.step()


def run(lib, kwargs, dtype=np.float64, groups=None, steps=STEPS):
    params, opt = build(lib, kwargs, init_arrays(dtype), groups)
    run_steps(lib, params, opt, 0, steps)
    return params, opt


def assert_close(cn_params, cn_opt, pt_params, pt_opt, rtol=1e-10, atol=1e-12):
    for c, t in zip(cn_params, pt_params):
        assert c._data.dtype == _np(t).dtype
        np.testing.assert_allclose(c._data, _np(t), rtol=rtol, atol=atol)
    cs, ts = cn_opt.state_dict()["state"], pt_opt.state_dict()["state"]
    assert sorted(cs) == sorted(ts)
    for i in ts:
        assert sorted(cs[i]) == sorted(ts[i]) == ["acc_delta", "square_avg", "step"]
        for key, tv in ts[i].items():
            cv = cs[i][key]
            assert cv._data.dtype == _np(tv).dtype and cv._data.shape == tuple(tv.shape), (i, key)
            np.testing.assert_allclose(cv._data, _np(tv), rtol=rtol, atol=atol, err_msg=f"state[{i}][{key}]")


@pytest.mark.parametrize("kwargs", CASES, ids=IDS)
def test_parity_float64(kwargs):
    cn_params, cn_opt = run(cnnlab, kwargs)
    pt_params, pt_opt = run(torch, kwargs)
    assert_close(cn_params, cn_opt, pt_params, pt_opt)
    assert float(cn_opt.state[cn_params[2]]["step"]) == STEPS // 2  # skipped when it had no gradient
    assert not np.allclose(cn_params[0]._data, init_arrays()[0], atol=1e-3)  # the run really moved the weights


@pytest.mark.parametrize("kwargs", CASES[:5], ids=IDS[:5])
def test_parity_float32(kwargs):
    cn_params, cn_opt = run(cnnlab, kwargs, dtype=np.float32)
    pt_params, pt_opt = run(torch, kwargs, dtype=np.float32)
    assert_close(cn_params, cn_opt, pt_params, pt_opt, rtol=1e-5, atol=1e-6)


def test_parameter_groups_with_own_options():
    groups = [([0], {}), ([1, 2], dict(lr=0.3, rho=0.7, weight_decay=0.2))]
    cn_params, cn_opt = run(cnnlab, dict(lr=1.5), groups=groups)
    pt_params, pt_opt = run(torch, dict(lr=1.5), groups=groups)
    assert_close(cn_params, cn_opt, pt_params, pt_opt)
    assert cn_opt.state_dict()["param_groups"] == pt_opt.state_dict()["param_groups"]


def test_end_to_end_through_autograd_with_closure():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal(16)
    out = []
    for lib in (cnnlab, torch):
        w = lib.tensor(np.zeros(3), requires_grad=True)
        opt = lib.optim.Adadelta([w], lr=1.0, weight_decay=0.01)
        Xt, yt = lib.tensor(X), lib.tensor(y)

        def closure():
            opt.zero_grad()
            loss = ((Xt @ w - yt) ** 2).mean()
            loss.backward()
            return loss
        losses = [opt.step(closure).item() for _ in range(STEPS)]
        out.append((_np(w), losses))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-10)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-10)
    assert out[0][1][-1] < out[0][1][0]


# ---- state dicts --------------------------------------------------------------------------------------------
def test_state_dict_layout_matches_torch():
    groups = [([0], {}), ([1, 2], dict(lr=0.3, rho=0.7))]
    _, cn_opt = run(cnnlab, {}, groups=groups, steps=3)
    _, pt_opt = run(torch, {}, groups=groups, steps=3)
    cs, ts = cn_opt.state_dict(), pt_opt.state_dict()
    assert list(cs) == ["state", "param_groups"]
    assert cs["param_groups"] == ts["param_groups"]
    for st in cs["state"].values():
        assert st["step"].shape == () and st["step"]._data.dtype == np.float32


def test_state_dict_round_trip_continues_identically():
    groups = [([0, 2], {}), ([1], dict(lr=0.5))]
    full_params, _ = run(cnnlab, dict(weight_decay=0.1), groups=groups)
    params, opt = run(cnnlab, dict(weight_decay=0.1), groups=groups, steps=STEPS // 2)
    saved = pickle.loads(pickle.dumps(copy.deepcopy(opt.state_dict())))
    run_steps(cnnlab, params, opt, STEPS // 2, STEPS // 2 + 3)  # training goes on: the copy must not move
    resumed = [p._data.copy() for p in run(cnnlab, dict(weight_decay=0.1), groups=groups, steps=STEPS // 2)[0]]
    new_params, new_opt = build(cnnlab, dict(lr=123.0), resumed, groups=groups)  # other options: replaced
    new_opt.load_state_dict(saved)
    assert [g["lr"] for g in new_opt.param_groups] == [1.0, 0.5]
    assert new_opt.param_groups[0]["weight_decay"] == 0.1
    run_steps(cnnlab, new_params, new_opt, STEPS // 2, STEPS)
    for a, b in zip(new_params, full_params):
        np.testing.assert_array_equal(a._data, b._data)


@pytest.mark.parametrize("as_numpy", [True, False], ids=["numpy", "torch-tensors"])
def test_load_torch_state_dict(as_numpy):
    pt_params, pt_opt = run(torch, dict(rho=0.8), steps=STEPS // 2)
    sd = copy.deepcopy(pt_opt.state_dict())
    if as_numpy:
        sd["state"] = {i: {k: v.numpy() for k, v in st.items()} for i, st in sd["state"].items()}
    cn_params, cn_opt = build(cnnlab, dict(lr=7.0), [_np(p) for p in pt_params])
    cn_opt.load_state_dict(sd)
    run_steps(torch, pt_params, pt_opt, STEPS // 2, STEPS)
    run_steps(cnnlab, cn_params, cn_opt, STEPS // 2, STEPS)
    assert_close(cn_params, cn_opt, pt_params, pt_opt)


def test_defaults_and_repr_match_torch():
    cn = cnnlab.optim.Adadelta([cnnlab.zeros(2, requires_grad=True)])
    pt = torch.optim.Adadelta([torch.zeros(2, requires_grad=True)])
    assert cn.defaults == pt.defaults
    assert repr(cn) == repr(pt)


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=-0.1), r"^Adadelta: lr must be non-negative\. Got lr=-0\.1\.$"),
    (dict(rho=1.5), r"^Adadelta: rho must be in \[0, 1\]\. Got rho=1\.5\.$"),
    (dict(rho=-0.1), r"^Adadelta: rho must be in \[0, 1\]\. Got rho=-0\.1\.$"),
    (dict(eps=-1e-6), r"^Adadelta: eps must be non-negative\. Got eps=-1e-06\.$"),
    (dict(weight_decay=-1), r"^Adadelta: weight_decay must be non-negative\. Got weight_decay=-1\.$"),
])
def test_invalid_arguments_like_torch(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cnnlab.optim.Adadelta([cnnlab.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError):
        torch.optim.Adadelta([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=match.lstrip("^")):  # the same rule for a group's own options
        cnnlab.optim.Adadelta([{"params": [cnnlab.zeros(2, requires_grad=True)], **kwargs}])
