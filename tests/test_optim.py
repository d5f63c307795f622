"""cnnlab.optim against torch.optim: the same weights, gradients and options give the same trajectory.

Most tests drive both libraries with a fixed rule for the gradients (a function of the current weights plus
a fixed noise sequence, computed in NumPy), so any difference comes from the optimizers' arithmetic alone.
One end-to-end test runs a real least-squares fit through autograd with a closure.
"""
import copy
import pickle

import numpy as np
import pytest

import cnnlab
import cnnlab.optim
from cnnlab.errors import ShapeError

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 20

SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.3),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True),
    dict(lr=0.1, maximize=True),
    dict(lr=0.1, momentum=0.5, dampening=0.5, weight_decay=0.01, maximize=True),
]
ADAM_CASES = [
    dict(lr=0.05),
    dict(lr=0.05, amsgrad=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True),
    dict(lr=0.05, betas=(0.3, 0.4), eps=1e-3),  # beta1 < 0.5: lerp's other branch
    dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
]
ADAMW_CASES = [
    dict(lr=0.05),
    dict(lr=0.05, amsgrad=True, weight_decay=0.2),
    dict(lr=0.05, weight_decay=0.0, maximize=True),
    dict(lr=0.05, betas=(0.2, 0.6)),
]
RMSPROP_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
    dict(lr=0.01, alpha=0.3, eps=1e-3, maximize=True),
]
ADAGRAD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.2, maximize=True),
    dict(lr=0.1, eps=1e-3),
]
CASES = ([("SGD", kw) for kw in SGD_CASES] + [("Adam", kw) for kw in ADAM_CASES]
         + [("AdamW", kw) for kw in ADAMW_CASES] + [("RMSprop", kw) for kw in RMSPROP_CASES]
         + [("Adagrad", kw) for kw in ADAGRAD_CASES])
IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CASES]
OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
# options for the second parameter group, per optimizer
GROUP_OPTIONS = dict(SGD=dict(lr=0.02, momentum=0.5, nesterov=True), Adam=dict(lr=0.2, amsgrad=True),
                     AdamW=dict(lr=0.2, weight_decay=0.5), RMSprop=dict(lr=0.03, centered=True, momentum=0.3),
                     Adagrad=dict(lr=0.3, lr_decay=0.1))
BASE = dict(SGD=dict(lr=0.1, momentum=0.9), Adam=dict(lr=0.05), AdamW=dict(lr=0.05), RMSprop=dict(lr=0.01),
            Adagrad=dict(lr=0.1))


# ---- the two libraries behind one interface ---------------------------------------------------------------
def _module(lib):
    return torch.optim if lib == "torch" else cnnlab.optim


def _tensor(lib, a):
    return torch.tensor(a, requires_grad=True) if lib == "torch" else cnnlab.tensor(a, requires_grad=True)


def _np(t):
    return t.detach().numpy().copy() if isinstance(t, torch.Tensor) else np.array(t._data)


def _set_grad(lib, p, g):
    p.grad = torch.from_numpy(g.copy()) if lib == "torch" else cnnlab.tensor(g.copy())


def init_arrays(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


NOISE = [[np.random.default_rng(100 + k).standard_normal(s) for s in SHAPES] for k in range(2 * STEPS)]


def grads_at(values, k):
    """The gradient rule: a smooth function of the weights plus a fixed noise term for step k."""
    return [(np.sin(v) + 0.5 * (v - 0.3) + 0.3 * n.astype(v.dtype)).astype(v.dtype)
            for v, n in zip(values, NOISE[k])]


def build(lib, name, kwargs, arrays, groups=None):
    params = [_tensor(lib, a) for a in arrays]
    if groups is None:
        spec = params
    else:
        spec = [dict({"params": [params[i] for i in idx]}, **opts) for idx, opts in groups]
    return params, getattr(_module(lib), name)(spec, **kwargs)


def run_steps(lib, params, opt, first, last, skip_odd=(2,)):
    """Steps first..last-1; the parameters in skip_odd get no gradient on odd steps (they must be skipped)."""
    for k in range(first, last):
        opt.zero_grad()
        grads = grads_at([_np(p) for p in params], k)
        for i, (p, g) in enumerate(zip(params, grads)):
            if not (k % 2 == 1 and i in skip_odd):
                _set_grad(lib, p, g)
        opt.step()


def run(lib, name, kwargs, dtype=np.float64, groups=None, steps=STEPS):
    params, opt = build(lib, name, kwargs, init_arrays(dtype), groups)
    run_steps(lib, params, opt, 0, steps)
    return params, opt


def assert_params_close(cn_params, pt_params, rtol=1e-10, atol=1e-12):
    for c, t in zip(cn_params, pt_params):
        assert c._data.dtype == _np(t).dtype
        np.testing.assert_allclose(c._data, _np(t), rtol=rtol, atol=atol)


def assert_state_close(cn_opt, pt_opt, rtol=1e-10, atol=1e-12):
    cs, ts = cn_opt.state_dict()["state"], pt_opt.state_dict()["state"]
    assert sorted(cs) == sorted(ts)
    for i in ts:
        assert sorted(cs[i]) == sorted(ts[i]), i
        for key, tv in ts[i].items():
            cv = cs[i][key]
            assert cv._data.dtype == _np(tv).dtype and cv._data.shape == tuple(tv.shape), (i, key)
            np.testing.assert_allclose(cv._data, _np(tv), rtol=rtol, atol=atol, err_msg=f"state[{i}][{key}]")


# ---- parity -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_parity_float64(name, kwargs):
    cn_params, cn_opt = run("cnnlab", name, kwargs)
    pt_params, pt_opt = run("torch", name, kwargs)
    assert_params_close(cn_params, pt_params)
    assert_state_close(cn_opt, pt_opt)
    # the run really moved the weights (a test of a no-op optimizer would pass above too)
    assert not np.allclose(cn_params[0]._data, init_arrays()[0])


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_parity_float32(name, kwargs):
    cn_params, cn_opt = run("cnnlab", name, kwargs, dtype=np.float32)
    pt_params, pt_opt = run("torch", name, kwargs, dtype=np.float32)
    assert_params_close(cn_params, pt_params, rtol=2e-5, atol=2e-6)
    assert_state_close(cn_opt, pt_opt, rtol=1e-4, atol=1e-5)
    for p in cn_params:
        assert p._data.dtype == np.float32
    for st in cn_opt.state.values():
        for v in st.values():
            assert v._data.dtype == np.float32


CHUNKED_CASES = [("SGD", kw) for kw in SGD_CASES] + [
    ("Adam", dict(lr=0.1)), ("Adam", dict(lr=0.1, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, weight_decay=0.05)), ("AdamW", dict(lr=0.1, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)), ("RMSprop", dict(lr=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)), ("Adadelta", dict(lr=1.0, maximize=True))]


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("name,kwargs", CHUNKED_CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CHUNKED_CASES])
def test_chunked_updates_and_a_non_contiguous_parameter(name, kwargs, threads, monkeypatch):
    """The optimizers apply their ops chunk by chunk: a small chunk makes the (12,) and (3, 4) parameters take
    several, the last one short; a parameter whose array is a transposed view takes the whole-array path.
    threads=3: the chunks spread over three kernel threads."""
    from cnnlab.kernels import parallel
    from cnnlab.optim import _update
    monkeypatch.setattr(_update, "CHUNK", 5)
    monkeypatch.setattr(_update, "THREADED_BYTES", 0)
    monkeypatch.setattr(parallel, "_threads", threads)
    cn_params, cn_opt = run("cnnlab", name, kwargs, dtype=np.float32)
    pt_params, pt_opt = run("torch", name, kwargs, dtype=np.float32)
    assert_params_close(cn_params, pt_params, rtol=2e-5, atol=2e-6)  # float32 over 20 steps, as parity_float32
    assert_state_close(cn_opt, pt_opt, rtol=1e-4, atol=1e-5)
    w = cnnlab.tensor(init_arrays()[0].T.copy(), requires_grad=True)
    w._data = np.ascontiguousarray(w._data.T).T  # same values, Fortran order
    tw = torch.tensor(w._data.copy(), requires_grad=True)
    opt, topt = getattr(cnnlab.optim, name)([w], **kwargs), getattr(torch.optim, name)([tw], **kwargs)
    for k in range(3):
        g = np.random.default_rng(k).standard_normal(w.shape)
        w.grad, tw.grad = cnnlab.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    assert not w._data.flags.c_contiguous
    np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_parameter_groups_with_own_options(name):
    groups = [([0], dict(lr=BASE[name]["lr"] * 0.5)), ([1, 2], GROUP_OPTIONS[name])]
    cn_params, cn_opt = run("cnnlab", name, BASE[name], groups=groups)
    pt_params, pt_opt = run("torch", name, BASE[name], groups=groups)
    assert_params_close(cn_params, pt_params)
    assert_state_close(cn_opt, pt_opt)
    assert cn_opt.param_groups[1]["lr"] == GROUP_OPTIONS[name]["lr"]
    assert cn_opt.param_groups[0].keys() == pt_opt.param_groups[0].keys()  # the defaults filled in


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_add_param_group_and_group_lr_changes(name):
    cn_params, cn_opt = build("cnnlab", name, BASE[name], init_arrays(), groups=[([0, 1], {})])
    pt_params, pt_opt = build("torch", name, BASE[name], init_arrays(), groups=[([0, 1], {})])
    run_steps("cnnlab", cn_params, cn_opt, 0, 5)
    run_steps("torch", pt_params, pt_opt, 0, 5)
    cn_opt.add_param_group({"params": cn_params[2], "lr": 0.01})
    pt_opt.add_param_group({"params": pt_params[2], "lr": 0.01})
    for opt in (cn_opt, pt_opt):
        opt.param_groups[0]["lr"] *= 0.5  # what a scheduler does
    run_steps("cnnlab", cn_params, cn_opt, 5, 12)
    run_steps("torch", pt_params, pt_opt, 5, 12)
    assert_params_close(cn_params, pt_params)
    assert cn_opt.param_groups[1].keys() == pt_opt.param_groups[1].keys()


def test_end_to_end_least_squares_with_closure():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((16, 4)), rng.standard_normal((16, 3))
    W0, b0 = rng.standard_normal((3, 4)), rng.standard_normal(3)
    for name, kwargs in [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.05)),
                         ("RMSprop", dict(lr=0.01, centered=True))]:
        results = {}
        for lib, mod in (("cnnlab", cnnlab), ("torch", torch)):
            W, b = _tensor(lib, W0), _tensor(lib, b0)
            x, y = mod.tensor(X), mod.tensor(Y)
            opt = getattr(_module(lib), name)([W, b], **kwargs)

            def closure():
                opt.zero_grad()
                loss = ((x @ W.T + b - y) ** 2).mean()
                loss.backward()
                return loss

            losses = [float(opt.step(closure).detach()) for _ in range(STEPS)]
            results[lib] = (losses, _np(W), _np(b))
        np.testing.assert_allclose(results["cnnlab"][0], results["torch"][0], rtol=1e-9)
        np.testing.assert_allclose(results["cnnlab"][1], results["torch"][1], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(results["cnnlab"][2], results["torch"][2], rtol=1e-9, atol=1e-12)
        assert results["cnnlab"][0][-1] < results["cnnlab"][0][0]


def test_closure_runs_with_grad_enabled_inside_no_grad():
    w = cnnlab.tensor([2.0], requires_grad=True)
    opt = cnnlab.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cnnlab.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 4.0 and w.tolist() == [1.0]
    assert opt.step() is None


# ---- in-place updates, skipping, zero_grad ------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[1].get("maximize") or c[1].get("weight_decay")],
                         ids=[i for i, c in zip(IDS, CASES) if c[1].get("maximize") or c[1].get("weight_decay")])
def test_update_in_place_and_grad_untouched(name, kwargs):
    params, opt = build("cnnlab", name, kwargs, init_arrays())
    arrays = [p._data for p in params]
    for k in range(3):
        grads = grads_at([p._data for p in params], k)
        for p, g in zip(params, grads):
            p.grad = cnnlab.tensor(g.copy())
        state_arrays = {(id(p), key): v._data for p in params for key, v in opt.state[p].items()}
        opt.step()
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad._data, g)  # the gradient is not written to
        for p in params:  # the state tensors are updated in place too
            for key, v in opt.state[p].items():
                if (id(p), key) in state_arrays:
                    assert v._data is state_arrays[(id(p), key)]
    assert all(p._data is a for p, a in zip(params, arrays))
    assert all(p.requires_grad and p.is_leaf for p in params)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_parameters_without_grad_are_skipped(name):
    params, opt = build("cnnlab", name, BASE[name], init_arrays())
    before = [p._data.copy() for p in params]
    params[0].grad = cnnlab.tensor(np.ones(SHAPES[0]))
    opt.step()
    assert not np.array_equal(params[0]._data, before[0])
    for p, b in zip(params[1:], before[1:]):
        np.testing.assert_array_equal(p._data, b)
        if name != "Adagrad":  # Adagrad makes every state at construction, as PyTorch
            assert len(opt.state[p]) == 0


def test_zero_grad_set_to_none_false_keeps_zeros_and_steps_on_them():
    results = {}
    for lib in ("cnnlab", "torch"):
        params, opt = build(lib, "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1), init_arrays())
        run_steps(lib, params, opt, 0, 3)
        opt.zero_grad(set_to_none=False)
        assert all(p.grad is not None and not _np(p.grad).any() for p in params)
        opt.step()  # a step with zero gradients still applies momentum and weight decay
        results[lib] = params
        opt.zero_grad()
        assert all(p.grad is None for p in params)
    assert_params_close(results["cnnlab"], results["torch"])


# ---- state dicts --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_layout_matches_torch(name):
    groups = [([0], {}), ([1, 2], GROUP_OPTIONS[name])]
    _, cn_opt = run("cnnlab", name, BASE[name], groups=groups, steps=3)
    _, pt_opt = run("torch", name, BASE[name], groups=groups, steps=3)
    cs, ts = cn_opt.state_dict(), pt_opt.state_dict()
    assert list(cs) == ["state", "param_groups"]
    for cg, tg in zip(cs["param_groups"], ts["param_groups"]):
        assert cg.keys() == tg.keys()
        assert cg["params"] == tg["params"]
        assert {k: v for k, v in cg.items()} == {k: v for k, v in tg.items()}
    assert_state_close(cn_opt, pt_opt)
    for st in cs["state"].values():
        if "step" in st:
            assert st["step"].shape == () and st["step"]._data.dtype == np.float32


ROUND_TRIP = [("SGD", SGD_CASES[1]), ("SGD", SGD_CASES[3]), ("Adam", ADAM_CASES[1]), ("Adam", ADAM_CASES[3]),
              ("AdamW", ADAMW_CASES[1]), ("RMSprop", RMSPROP_CASES[3]), ("Adagrad", ADAGRAD_CASES[1])]


@pytest.mark.parametrize("name,kwargs", ROUND_TRIP, ids=[IDS[CASES.index(c)] for c in ROUND_TRIP])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    groups = [([0, 2], {}), ([1], dict(lr=kwargs["lr"] * 2))]
    full_params, _ = run("cnnlab", name, kwargs, groups=groups)
    params, opt = run("cnnlab", name, kwargs, groups=groups, steps=STEPS // 2)
    saved = pickle.loads(pickle.dumps(copy.deepcopy(opt.state_dict())))
    run_steps("cnnlab", params, opt, STEPS // 2, STEPS // 2 + 3)  # training goes on: the copy must not move
    # a fresh optimizer, with other options, on copies of the weights at the checkpoint
    resumed_arrays = [p._data.copy() for p in run("cnnlab", name, kwargs, groups=groups, steps=STEPS // 2)[0]]
    other = dict(kwargs, lr=123.0)
    new_params, new_opt = build("cnnlab", name, other, resumed_arrays, groups=groups)
    new_opt.load_state_dict(saved)
    assert new_opt.param_groups[0]["lr"] == kwargs["lr"] and new_opt.param_groups[1]["lr"] == kwargs["lr"] * 2
    assert new_opt.param_groups[0]["params"][0] is new_params[0]
    run_steps("cnnlab", new_params, new_opt, STEPS // 2, STEPS)
    for a, b in zip(new_params, full_params):
        np.testing.assert_array_equal(a._data, b._data)


@pytest.mark.parametrize("as_numpy", [True, False], ids=["numpy", "torch-tensors"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_load_torch_state_dict(name, as_numpy):
    kwargs = dict(BASE[name], **({"amsgrad": True} if name.startswith("Adam") else {}))
    pt_params, pt_opt = run("torch", name, kwargs, steps=STEPS // 2)
    sd = copy.deepcopy(pt_opt.state_dict())
    if as_numpy:
        sd["state"] = {i: {k: v.numpy() for k, v in st.items()} for i, st in sd["state"].items()}
    cn_params, cn_opt = build("cnnlab", name, dict(kwargs, lr=7.0), [_np(p) for p in pt_params])
    cn_opt.load_state_dict(sd)
    for st in cn_opt.state.values():
        assert all(isinstance(v, cnnlab.Tensor) for v in st.values())
    run_steps("torch", pt_params, pt_opt, STEPS // 2, STEPS)
    run_steps("cnnlab", cn_params, cn_opt, STEPS // 2, STEPS)
    assert_params_close(cn_params, pt_params)
    assert_state_close(cn_opt, pt_opt)


def test_load_state_dict_casts_to_parameter_dtype():
    _, opt64 = run("cnnlab", "Adam", dict(lr=0.05), steps=2)
    params32, opt32 = build("cnnlab", "Adam", dict(lr=0.05), init_arrays(np.float32))
    opt32.load_state_dict(opt64.state_dict())
    st = opt32.state[params32[0]]
    assert st["exp_avg"]._data.dtype == np.float32 and st["step"]._data.dtype == np.float32
    assert st["exp_avg"]._data is not opt64.state[opt64.param_groups[0]["params"][0]]["exp_avg"]._data


def test_state_dict_errors():
    _, opt = run("cnnlab", "SGD", dict(lr=0.1), groups=[([0], {}), ([1, 2], {})], steps=1)
    _, one_group = build("cnnlab", "SGD", dict(lr=0.1), init_arrays())
    with pytest.raises(ValueError, match="another number of parameter groups. Got 2 saved groups, the "
                                         "optimizer has 1"):
        one_group.load_state_dict(opt.state_dict())
    _, other_sizes = build("cnnlab", "SGD", dict(lr=0.1), init_arrays(), groups=[([0, 1], {}), ([2], {})])
    with pytest.raises(ValueError, match="doesn't match the size of the optimizer's group. Got 1 saved "
                                         "parameters in group 0, the optimizer has 2"):
        other_sizes.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


def test_named_parameters_and_repr():
    ps = [cnnlab.tensor(a, requires_grad=True) for a in init_arrays()]
    tps = [torch.tensor(a, requires_grad=True) for a in init_arrays()]
    opt = cnnlab.optim.SGD([("w", ps[0]), ("b", ps[1])], lr=0.1)
    topt = torch.optim.SGD([("w", tps[0]), ("b", tps[1])], lr=0.1)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    assert opt.param_groups[0]["params"][1] is ps[1]
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text and "    momentum: 0" in text


def test_default_hyperparameters_match_torch():
    for name in OPTIMIZERS:
        cn = getattr(cnnlab.optim, name)([cnnlab.zeros(2, requires_grad=True)]).defaults
        pt = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
        assert cn == pt, name


# ---- errors -------------------------------------------------------------------------------------------
def _p():
    return cnnlab.zeros(3, requires_grad=True)


@pytest.mark.parametrize("make,exc,match", [
    (lambda: cnnlab.optim.SGD([_p()], lr=-0.1), ValueError, r"^SGD: lr must be non-negative\. Got lr=-0\.1\.$"),
    (lambda: cnnlab.optim.SGD([_p()], lr=0.1, momentum=-1), ValueError,
     r"SGD: momentum must be non-negative\. Got momentum=-1\."),
    (lambda: cnnlab.optim.SGD([_p()], lr=0.1, weight_decay=-1e-4), ValueError,
     r"SGD: weight_decay must be non-negative\. Got weight_decay=-0\.0001\."),
    (lambda: cnnlab.optim.SGD([_p()], lr=0.1, nesterov=True), ValueError,
     r"SGD: Nesterov momentum requires a momentum > 0 and zero dampening\. Got nesterov=True, momentum=0, "
     r"dampening=0\."),
    (lambda: cnnlab.optim.SGD([_p()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     r"Got nesterov=True, momentum=0\.9, dampening=0\.1\."),
    (lambda: cnnlab.optim.SGD([_p()], lr="0.1"), TypeError, r"SGD: lr must be a real number\. Got lr='0\.1'\."),
    (lambda: cnnlab.optim.Adam([_p()], betas=(1.0, 0.999)), ValueError,
     r"Adam: betas\[0\] must be in \[0, 1\)\. Got betas=\(1\.0, 0\.999\)\."),
    (lambda: cnnlab.optim.AdamW([_p()], betas=(0.9, -0.1)), ValueError,
     r"AdamW: betas\[1\] must be in \[0, 1\)\. Got betas=\(0\.9, -0\.1\)\."),
    (lambda: cnnlab.optim.Adam([_p()], betas=0.9), ValueError, r"Adam: betas must be a pair of floats"),
    (lambda: cnnlab.optim.Adam([_p()], eps=-1.0), ValueError, r"Adam: eps must be non-negative\. Got eps=-1\.0\."),
    (lambda: cnnlab.optim.Adam([_p()], lr=float("nan")), ValueError, r"Adam: lr must be non-negative"),
    (lambda: cnnlab.optim.RMSprop([_p()], alpha=-0.5), ValueError,
     r"RMSprop: alpha must be non-negative\. Got alpha=-0\.5\."),
    (lambda: cnnlab.optim.Adagrad([_p()], lr_decay=-1), ValueError,
     r"Adagrad: lr_decay must be non-negative\. Got lr_decay=-1\."),
    (lambda: cnnlab.optim.SGD([_p()], differentiable=True), ValueError, r"differentiable=True is not supported"),
    (lambda: cnnlab.optim.SGD([], lr=0.1), ValueError, r"optimizer got an empty parameter list"),
    (lambda: cnnlab.optim.Adam(iter([])), ValueError, r"Adam: optimizer got an empty parameter list"),
    (lambda: cnnlab.optim.SGD(_p(), lr=0.1), TypeError, r"SGD: params must be an iterable of tensors or dicts, "
                                                        r"not a single tensor"),
    (lambda: cnnlab.optim.SGD({_p()}, lr=0.1), TypeError, r"the order of a set changes between runs"),
    (lambda: cnnlab.optim.SGD([_p(), 3], lr=0.1), TypeError,
     r"SGD: can only optimize tensors\. Got an element of type int at index 1\."),
    (lambda: cnnlab.optim.SGD([_p() * 2], lr=0.1), ValueError, r"can't optimize a non-leaf tensor"),
    (lambda: cnnlab.optim.SGD([{"params": [_p()], "lr": -1.0}], lr=0.1), ValueError,
     r"SGD: lr must be non-negative\. Got lr=-1\.0\."),
    (lambda: cnnlab.optim.SGD([{"lr": 1.0}], lr=0.1), ValueError, r"a parameter group must have a 'params'"),
])
def test_invalid_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_parameter_in_two_groups():
    p, q = _p(), _p()
    with pytest.raises(ValueError, match=r"SGD: some parameters appear in more than one parameter group\. Got a "
                                         r"tensor of shape \(3,\) in group 0 and in the new group 1\."):
        cnnlab.optim.SGD([{"params": [p, q]}, {"params": [p]}], lr=0.1)
    opt = cnnlab.optim.Adam([p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [q, p]})
    assert len(opt.param_groups) == 1
    with pytest.warns(UserWarning, match="same parameter more than once"):
        cnnlab.optim.SGD([q, q], lr=0.1)


def test_gradient_of_wrong_shape():
    p = _p()
    opt = cnnlab.optim.Adam([p])
    p.grad = cnnlab.zeros(4)
    with pytest.raises(ShapeError, match=r"Adam: a parameter's gradient must have its shape\. "
                                         r"Got param\.shape=\(3,\), grad\.shape=\(4,\)\."):
        opt.step()
