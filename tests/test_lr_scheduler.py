"""cnnlab.optim.lr_scheduler against torch.optim.lr_scheduler: the same lr (and momentum) sequences, exactly.

Each case builds the same optimizer (two parameter groups with different lrs) in both libraries, steps the
optimizer and then the schedule, and compares get_last_lr(), the groups' lr and momentum/betas and the other
group entries the schedule writes (initial_lr, max_lr, ...) with ==: the schedules are plain Python float
arithmetic, so the values must be bit-identical.
"""
import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import cnnlab
import cnnlab.optim
from cnnlab.optim import lr_scheduler as CS

torch = pytest.importorskip("torch")
PS = torch.optim.lr_scheduler


def _lib(lib):
    return (torch, torch.optim, PS) if lib == "torch" else (cnnlab, cnnlab.optim, CS)


def make_optimizer(lib, kind="SGD"):
    mod, optim, _ = _lib(lib)
    ps = [mod.zeros(2, requires_grad=True), mod.zeros(3, requires_grad=True)]
    groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}]
    if kind == "SGD":
        return optim.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "Adam":
        return optim.Adam(groups, lr=0.1)
    return optim.Adagrad(groups, lr=0.1)


def _groups_view(opt):
    """What a schedule may write into the groups: every entry but the parameters."""
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


def trace(lib, make, steps, kind="SGD", metrics=None, opt_and_sched=None):
    """The schedule's values after construction and after each of `steps` (optimizer step, schedule step)."""
    opt, sched = opt_and_sched or (None, None)
    if opt is None:
        opt = make_optimizer(lib, kind)
        sched = make(_lib(lib)[2], opt)
    out = [(list(sched.get_last_lr()), _groups_view(opt))]
    for k in range(steps):
        opt.step()  # no gradients: nothing moves, but the step is recorded (no order warning)
        sched.step() if metrics is None else sched.step(metrics[k])
        out.append((list(sched.get_last_lr()), _groups_view(opt)))
    return out


def assert_same_trace(cn, pt):
    assert len(cn) == len(pt)
    for k, ((cn_lr, cn_groups), (pt_lr, pt_groups)) in enumerate(zip(cn, pt)):
        assert all(type(v) is float for v in cn_lr), (k, cn_lr)
        assert cn_lr == pt_lr, f"step {k}: get_last_lr() {cn_lr} != torch {pt_lr}"
        assert cn_groups == pt_groups, f"step {k}: param_groups {cn_groups} != torch {pt_groups}"


CASES = {
    "StepLR": (lambda S, o: S.StepLR(o, step_size=7, gamma=0.3), 40),
    "StepLR-default-gamma": (lambda S, o: S.StepLR(o, step_size=1), 30),
    "MultiStepLR": (lambda S, o: S.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.5), 40),
    "ExponentialLR": (lambda S, o: S.ExponentialLR(o, gamma=0.93), 50),
    "CosineAnnealingLR": (lambda S, o: S.CosineAnnealingLR(o, T_max=17), 80),
    "CosineAnnealingLR-eta_min": (lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01), 45),
    "CosineAnnealingLR-T_max=1": (lambda S, o: S.CosineAnnealingLR(o, T_max=1, eta_min=0.001), 10),
    "LambdaLR": (lambda S, o: S.LambdaLR(o, lambda e: 1.0 / (1.0 + 0.3 * e)), 40),
    "LambdaLR-per-group": (lambda S, o: S.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: min(1.0, (e + 1) / 8)]), 40),
    "MultiplicativeLR": (lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97 if e % 3 else 0.9), 40),
    "LinearLR-default": (lambda S, o: S.LinearLR(o), 30),
    "LinearLR": (lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.5, total_iters=25), 40),
    "LinearLR-decay": (lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=12), 30),
    "ConstantLR": (lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=10), 30),
    "PolynomialLR": (lambda S, o: S.PolynomialLR(o, total_iters=20, power=2.0), 30),
    "OneCycleLR-cos": (lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=60), 60),
    "OneCycleLR-linear": (lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.4], total_steps=50, anneal_strategy="linear",
                                                    pct_start=0.25, div_factor=10.0, final_div_factor=100.0), 50),
    "OneCycleLR-three-phase": (lambda S, o: S.OneCycleLR(o, max_lr=0.5, epochs=6, steps_per_epoch=10,
                                                         three_phase=True, base_momentum=0.8,
                                                         max_momentum=[0.9, 0.99]), 60),
    "OneCycleLR-no-momentum": (lambda S, o: S.OneCycleLR(o, max_lr=2.0, total_steps=33, pct_start=0.5,
                                                         cycle_momentum=False), 33),
    "CyclicLR-triangular": (lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5), 40),
    "CyclicLR-triangular2": (lambda S, o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=4,
                                                     step_size_down=7, mode="triangular2"), 50),
    "CyclicLR-exp_range": (lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                                                   mode="exp_range", gamma=0.97, cycle_momentum=False), 40),
    "CyclicLR-scale_fn": (lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                  scale_fn=lambda x: 1.0 / (1.0 + x), scale_mode="iterations"), 30),
    "CosineAnnealingWarmRestarts": (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7), 40),
    "CosineAnnealingWarmRestarts-T_mult": (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                     eta_min=0.001), 50),
    "SequentialLR": (lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10),
                                                     S.CosineAnnealingLR(o, T_max=20)], milestones=[10]), 50),
    "SequentialLR-three": (lambda S, o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=3),
                                                           S.ExponentialLR(o, gamma=0.9),
                                                           S.StepLR(o, step_size=4, gamma=0.5)],
                                                       milestones=[5, 15]), 40),
    "ChainedScheduler": (lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.2, total_iters=5),
                                                          S.ExponentialLR(o, gamma=0.95)]), 30),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sequence_matches_torch(name):
    make, steps = CASES[name]
    cn, pt = trace("cnnlab", make, steps), trace("torch", make, steps)
    assert_same_trace(cn, pt)
    assert len({tuple(lrs) for lrs, _ in cn}) >= 2  # the schedule really changes the lr


@pytest.mark.parametrize("name", ["OneCycleLR-cos", "OneCycleLR-three-phase", "CyclicLR-triangular"])
def test_momentum_cycles_beta1_of_adam(name):
    make, steps = CASES[name]
    cn, pt = trace("cnnlab", make, steps, kind="Adam"), trace("torch", make, steps, kind="Adam")
    assert_same_trace(cn, pt)
    assert len({g[0]["betas"] for _, g in cn}) > 2


def test_two_schedules_chain_on_one_optimizer():
    seqs = []
    for lib in ("cnnlab", "torch"):
        opt = make_optimizer(lib)
        S = _lib(lib)[2]
        a, b = S.StepLR(opt, step_size=3, gamma=0.5), S.CosineAnnealingLR(opt, T_max=12)
        seq = []
        for _ in range(30):
            opt.step()
            a.step()
            b.step()
            seq.append([g["lr"] for g in opt.param_groups])
        seqs.append(seq)
    assert seqs[0] == seqs[1]


PLATEAU_METRICS = [round(1.0 / (1.0 + 0.1 * k) + 0.05 * math.sin(1.7 * k), 3) for k in range(30)]
PLATEAU_METRICS += [PLATEAU_METRICS[-1]] * 10 + [0.5, 0.5, 0.49, 0.4999, 0.3] + [0.3] * 15


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2, factor=0.5),
    dict(patience=1, factor=0.5, threshold=0.05, threshold_mode="abs"),
    dict(patience=2, cooldown=3, factor=0.3, min_lr=[0.01, 0.002]),
    dict(patience=0, factor=0.5, min_lr=0.004, eps=1e-3),
    dict(mode="max", patience=2, factor=0.7),
    dict(mode="max", patience=1, threshold=0.01, threshold_mode="abs", cooldown=1),
], ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    make = lambda S, o: S.ReduceLROnPlateau(o, **kwargs)  # noqa: E731
    n = len(PLATEAU_METRICS)
    cn = trace("cnnlab", make, n, metrics=PLATEAU_METRICS)
    pt = trace("torch", make, n, metrics=PLATEAU_METRICS)
    assert_same_trace(cn, pt)
    assert cn[-1][0] != cn[0][0]  # the metric sequence triggers at least one cut


def test_reduce_lr_on_plateau_accepts_a_tensor_metric_and_keeps_state():
    opt = make_optimizer("cnnlab")
    sched = CS.ReduceLROnPlateau(opt, patience=0)
    sched.step(cnnlab.tensor(1.0))
    sched.step(cnnlab.tensor(2.0))
    assert sched.get_last_lr() == [0.010000000000000002, 0.005000000000000001]
    assert sched.best == 1.0 and sched.num_bad_epochs == 0 and sched.last_epoch == 2


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                                  "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts-T_mult"])
def test_step_with_epoch_uses_the_closed_form(name):
    make, _ = CASES[name]
    epochs = [3, 4, 11, 10, 25, 2.5 if "Warm" in name else 2, 40]
    seqs = []
    for lib in ("cnnlab", "torch"):
        opt = make_optimizer(lib)
        sched = make(_lib(lib)[2], opt)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in epochs:
                opt.step()
                sched.step(e)
                seq.append(sched.get_last_lr())
        seqs.append(seq)
    assert seqs[0] == seqs[1]


def test_initial_lr_and_base_lrs():
    opt = make_optimizer("cnnlab")
    sched = CS.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05] == sched.base_lrs
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.05]
    opt.param_groups[0]["initial_lr"] = 1.0
    resumed = CS.StepLR(opt, step_size=2, last_epoch=5)  # resuming reads initial_lr, keeps it
    assert resumed.base_lrs == [1.0, 0.05] and resumed.last_epoch == 6
    fresh = make_optimizer("cnnlab")
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        CS.ExponentialLR(fresh, gamma=0.9, last_epoch=3)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "LambdaLR", "MultiplicativeLR", "OneCycleLR-cos",
                                  "CyclicLR-triangular", "CosineAnnealingWarmRestarts-T_mult", "SequentialLR",
                                  "ChainedScheduler", "LinearLR"])
def test_state_dict_round_trip(name):
    make, steps = CASES[name]
    full = trace("cnnlab", make, steps)
    half = steps // 2
    opt = make_optimizer("cnnlab")
    sched = make(CS, opt)
    trace("cnnlab", make, half, opt_and_sched=(opt, sched))
    opt_sd = copy.deepcopy(opt.state_dict())
    sched_sd = pickle.loads(pickle.dumps(sched.state_dict()))  # plain data, no functions or optimizer
    new_opt = make_optimizer("cnnlab")
    new_sched = make(CS, new_opt)
    new_opt.load_state_dict(opt_sd)
    new_sched.load_state_dict(sched_sd)
    rest = trace("cnnlab", make, steps - half, opt_and_sched=(new_opt, new_sched))
    assert_same_trace(rest, full[half:])


@pytest.mark.parametrize("name", ["StepLR", "OneCycleLR-cos", "CyclicLR-triangular", "CosineAnnealingWarmRestarts",
                                  "LinearLR", "SequentialLR"])
def test_state_dict_keys_match_torch(name):
    make, _ = CASES[name]
    cn = make(CS, make_optimizer("cnnlab")).state_dict()
    pt = make(PS, make_optimizer("torch")).state_dict()
    assert sorted(cn) == sorted(pt)
    if "_schedulers" in cn:
        for c, t in zip(cn["_schedulers"], pt["_schedulers"]):
            assert sorted(c) == sorted(t)
    plateau_cn = CS.ReduceLROnPlateau(make_optimizer("cnnlab")).state_dict()
    assert sorted(plateau_cn) == sorted(PS.ReduceLROnPlateau(make_optimizer("torch")).state_dict())


def test_onecycle_stepping_past_the_end():
    opt = make_optimizer("cnnlab")
    sched = CS.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match=r"OneCycleLR: stepped past the end of the schedule\. Got step 4 with "
                                         r"total_steps=3\."):
        sched.step()


def test_warnings_like_torch():
    opt = make_optimizer("cnnlab")
    sched = CS.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    opt = make_optimizer("cnnlab")
    sched = CS.ExponentialLR(opt, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            opt.step()
            sched.step()
    assert sched.get_last_lr() == [0.0125, 0.00625]
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(1)
    assert sched.get_last_lr() == [0.05, 0.025]


def _adagrad():
    return make_optimizer("cnnlab", "Adagrad")


@pytest.mark.parametrize("make,exc,match", [
    (lambda: CS.StepLR([1, 2], step_size=2), TypeError, r"StepLR: optimizer must be a cnnlab\.optim\.Optimizer\. "
                                                        r"Got list\."),
    (lambda: CS.StepLR(_adagrad(), step_size=0), ValueError, r"StepLR: step_size must be a positive integer\. "
                                                             r"Got step_size=0\."),
    (lambda: CS.ConstantLR(_adagrad(), factor=1.5), ValueError, r"ConstantLR: factor must be in \[0, 1\]\. "
                                                                r"Got factor=1\.5\."),
    (lambda: CS.LinearLR(_adagrad(), start_factor=0), ValueError, r"LinearLR: start_factor must be in \(0, 1\]"),
    (lambda: CS.LinearLR(_adagrad(), end_factor=2.0), ValueError, r"LinearLR: end_factor must be in \[0, 1\]"),
    (lambda: CS.CosineAnnealingLR(_adagrad(), T_max=0), ValueError, r"CosineAnnealingLR: T_max must be positive"),
    (lambda: CS.LambdaLR(_adagrad(), [lambda e: 1.0]), ValueError,
     r"LambdaLR: expected one lr_lambda per parameter group\. Got 1 functions for 2 groups\."),
    (lambda: CS.MultiplicativeLR(_adagrad(), 0.9), TypeError, r"MultiplicativeLR: lr_lambda must be a function"),
    (lambda: CS.ReduceLROnPlateau(_adagrad(), factor=1.0), ValueError,
     r"ReduceLROnPlateau: factor must be < 1\.0\. Got factor=1\.0\."),
    (lambda: CS.ReduceLROnPlateau(_adagrad(), mode="lowest"), ValueError, r"mode must be 'min' or 'max'"),
    (lambda: CS.ReduceLROnPlateau(_adagrad(), threshold_mode="pct"), ValueError,
     r"threshold_mode must be 'rel' or 'abs'"),
    (lambda: CS.ReduceLROnPlateau(_adagrad(), min_lr=[0.1]), ValueError,
     r"min_lr must have one value per parameter group\. Got 1 values for 2 groups\."),
    (lambda: CS.OneCycleLR(_adagrad(), max_lr=1.0, cycle_momentum=False), ValueError,
     r"OneCycleLR: give either total_steps or both epochs and steps_per_epoch"),
    (lambda: CS.OneCycleLR(_adagrad(), max_lr=1.0, total_steps=0), ValueError,
     r"total_steps must be a positive integer\. Got total_steps=0\."),
    (lambda: CS.OneCycleLR(_adagrad(), max_lr=1.0, total_steps=9, pct_start=1.5, cycle_momentum=False),
     ValueError, r"pct_start must be a float in \[0, 1\]"),
    (lambda: CS.OneCycleLR(_adagrad(), max_lr=1.0, total_steps=9, anneal_strategy="exp", cycle_momentum=False),
     ValueError, r"anneal_strategy must be 'cos' or 'linear'"),
    (lambda: CS.OneCycleLR(_adagrad(), max_lr=1.0, total_steps=9), ValueError,
     r"cycle_momentum=True needs an optimizer with a 'momentum' or 'betas' option\. Got Adagrad"),
    (lambda: CS.OneCycleLR(_adagrad(), max_lr=[1.0], total_steps=9, cycle_momentum=False), ValueError,
     r"max_lr must have one value per parameter group\. Got 1 values for 2 groups\."),
    (lambda: CS.CyclicLR(_adagrad(), 0.1, 1.0, mode="sawtooth", cycle_momentum=False), ValueError,
     r"CyclicLR: mode must be"),
    (lambda: CS.CosineAnnealingWarmRestarts(_adagrad(), T_0=0), ValueError, r"T_0 must be a positive integer"),
    (lambda: CS.CosineAnnealingWarmRestarts(_adagrad(), T_0=2, T_mult=0), ValueError, r"T_mult must be an integer"),
])
def test_invalid_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_combinator_errors():
    opt, other = _adagrad(), _adagrad()
    a = CS.ExponentialLR(opt, gamma=0.9)
    with pytest.raises(ValueError, match=r"SequentialLR: needs one milestone fewer than schedulers\. Got 2 "
                                         r"schedulers and 2 milestones\."):
        CS.SequentialLR(opt, [a, CS.StepLR(opt, 2)], milestones=[3, 5])
    with pytest.raises(ValueError, match="all schedulers must belong to the same optimizer"):
        CS.SequentialLR(opt, [a, CS.StepLR(other, 2)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau can't be combined"):
        CS.ChainedScheduler([a, CS.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        CS.ChainedScheduler([])


def test_optimizer_schedule_end_to_end_matches_torch():
    """An Adam fit with a OneCycleLR changing lr and beta1 each step: the weights follow PyTorch's."""
    rng = np.random.default_rng(5)
    X, Y, W0 = rng.standard_normal((12, 3)), rng.standard_normal((12, 2)), rng.standard_normal((2, 3))
    weights = {}
    for lib in ("cnnlab", "torch"):
        mod, optim, S = _lib(lib)
        W = mod.tensor(W0, requires_grad=True)
        x, y = mod.tensor(X), mod.tensor(Y)
        opt = optim.Adam([W], lr=0.01)
        sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=25)
        for _ in range(25):
            opt.zero_grad()
            ((x @ W.T - y) ** 2).mean().backward()
            opt.step()
            sched.step()
        weights[lib] = W.detach().numpy().copy()
    np.testing.assert_allclose(weights["cnnlab"], weights["torch"], rtol=1e-9, atol=1e-12)
