"""optim.LBFGS against torch.optim.LBFGS: the same iterates, losses, evaluation counts and state in float64,
with fixed steps and with the strong-Wolfe line search; state_dict round trips; errors."""
import copy

import numpy as np
import pytest
import torch

import cnnlab

torch.set_num_threads(1)


def _rosenbrock_numpy(x, y):
    """f and its gradient in NumPy (the same bits for both libraries, so only the optimizers' arithmetic can
    differ): a Rosenbrock valley in (x, y0) plus a quartic bowl in y1, y2 coupled to x."""
    f = (1 - x[0]) ** 2 + 100 * (y[0] - x[0] ** 2) ** 2 + ((y[1:] - 0.3) ** 4).sum() + (y[1:] * x[0]).sum()
    gx = np.array([-2 * (1 - x[0]) - 400 * x[0] * (y[0] - x[0] ** 2) + y[1:].sum()], dtype=x.dtype)
    gy = np.concatenate([[200 * (y[0] - x[0] ** 2)], 4 * (y[1:] - 0.3) ** 3 + x[0]]).astype(y.dtype)
    return f, gx, gy


def rosenbrock_problem(lib, dtype=np.float64, start=(-1.5, 2.0)):
    """Two parameters (a 1-element and a 3-element tensor) and a closure that sets their gradients from
    _rosenbrock_numpy: curved enough that the line search brackets and zooms. (Fixed steps of length 1 bounce
    around this valley chaotically, magnifying the last bits in which two libraries round a dot product:
    fixed steps are compared on bowl_problem.)"""
    x = lib.tensor(np.array([start[0]], dtype=dtype), requires_grad=True)
    y = lib.tensor(np.array([start[1], 0.5, -0.7], dtype=dtype), requires_grad=True)

    def make_closure(opt):
        def closure():
            f, gx, gy = _rosenbrock_numpy(x.detach().numpy().copy(), y.detach().numpy().copy())
            x.grad, y.grad = lib.tensor(gx), lib.tensor(gy)
            return lib.tensor(np.array(f, dtype=dtype))
        return closure
    return [x, y], make_closure


def bowl_problem(lib, dtype=np.float64, start=None):
    """A least-squares fit with a quartic penalty and a cosine term: smooth, bounded curvature."""
    rng = np.random.default_rng(0)
    A, b = lib.tensor(rng.standard_normal((6, 4)).astype(dtype)), lib.tensor(rng.standard_normal(6).astype(dtype))
    w = lib.tensor(rng.standard_normal(4).astype(dtype), requires_grad=True)
    c = lib.tensor(np.array([0.3], dtype=dtype), requires_grad=True)

    def make_closure(opt):
        def closure():
            opt.zero_grad()
            loss = ((A @ w + c - b) ** 2).sum() + (w ** 4).sum() * 0.1 + lib.cos(3 * c).sum()
            loss.backward()
            return loss
        return closure
    return [w, c], make_closure


def trajectory(lib, steps, dtype=np.float64, problem=None, **kwargs):
    problem = problem or (rosenbrock_problem if kwargs.get("line_search_fn") else bowl_problem)
    params, make_closure = problem(lib, dtype)
    opt = lib.optim.LBFGS(params, **kwargs)
    closure = make_closure(opt)
    record = []
    for _ in range(steps):
        loss = opt.step(closure)
        record.append((loss.item(), [p.detach().numpy().copy() for p in params]))
    return record, opt


def state_arrays(opt):
    state = opt.state_dict()["state"][0]
    out = {}
    for k, v in state.items():
        if isinstance(v, list):
            out[k] = [None if e is None else np.asarray(e.detach().numpy() if hasattr(e, "detach") else e)
                      for e in v]
        elif hasattr(v, "detach"):
            out[k] = np.asarray(v.detach().numpy())
        else:
            out[k] = v
    return out


def assert_same_state(cn_opt, pt_opt, rtol=1e-9, atol=1e-12):
    a, b = state_arrays(cn_opt), state_arrays(pt_opt)
    assert list(a) == list(b)
    for k in b:
        if isinstance(b[k], list):
            assert len(a[k]) == len(b[k]), k
            for u, v in zip(a[k], b[k]):
                assert (u is None) == (v is None), k
                if v is not None:
                    np.testing.assert_allclose(u, v, rtol=rtol, atol=atol, err_msg=k)
        elif isinstance(b[k], np.ndarray):
            np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol, err_msg=k)
        else:
            assert type(a[k]) is type(b[k]) and a[k] == pytest.approx(b[k], rel=rtol, abs=atol), k


CONFIGS = [dict(), dict(history_size=3, max_iter=9), dict(max_eval=5, max_iter=12), dict(lr=0.3),
           dict(max_iter=4, tolerance_change=1e-3), dict(lr=0.8, max_iter=8, history_size=2)]


def _relative_change(got, base):
    """Per step: the largest relative difference between two trajectories' losses and parameters."""
    return [max([abs(gl - bl) / max(abs(bl), 1e-300)] +
                [float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))) for a, b in zip(gp, bp)])
            for (gl, gp), (bl, bp) in zip(got, base)]


# Two correct L-BFGS codes differ by rounding only: NumPy and PyTorch sum the two-loop recursion's dot products
# in different orders (and BLAS picks the order by CPU kind: OpenBLAS's SkylakeX and Haswell kernels differ), a
# relative error of a few unit roundoffs u per iteration. The line search on the Rosenbrock valley amplifies a
# perturbation of the iterate by up to ~5e9 over three steps (a 1-ulp change of the start moves the third
# iterate by 1e-6 with lr=0.3, 1e-11 with lr=1), so no fixed tolerance fits every config on every CPU. Instead
# the test measures that amplification: it reruns cnnlab from starts moved by +-u and takes, per step, the
# largest change D. Rounding injected at a later iteration is amplified at most as much as at the start (the
# amplification grows along the trajectory), so the difference is bounded by sum_j e_j * D / u over the
# iterations j with e_j <= ~4u (length-4 dot products): <= 4 * 60 * D for 3 steps of up to 20 iterations,
# ~4 * sqrt(60) * D ~ 30 * D for rounding errors of random sign. ROUNDING_BUDGET = 100 sits between the two.
# The floor (1e-8) is the tolerance where the problem is well conditioned (the bowl; D far below 1e-10).
ROUNDING_BUDGET = 100
U = np.finfo(np.float64).eps / 2


def rounding_tolerances(steps, problem, line_search_fn, kwargs, floor=1e-8):
    """Per-step relative tolerances for comparing two float64 implementations on this problem: floor, or
    ROUNDING_BUDGET times the change of cnnlab's trajectory when its start moves by one unit roundoff."""
    if problem is not rosenbrock_problem:
        return [floor] * steps
    base, _ = trajectory(cnnlab, steps, line_search_fn=line_search_fn, problem=problem, **kwargs)
    spread = [0.0] * steps
    for sx, sy in ((1, 0), (0, 1), (-1, -1), (1, -1)):
        def moved(lib, dtype=np.float64, start=(-1.5 * (1 + sx * U), 2.0 * (1 + sy * U))):
            return rosenbrock_problem(lib, dtype, start)
        got, _ = trajectory(cnnlab, steps, line_search_fn=line_search_fn, problem=moved, **kwargs)
        spread = [max(a, b) for a, b in zip(spread, _relative_change(got, base))]
    return [max(floor, ROUNDING_BUDGET * d) for d in spread]


@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("problem, line_search_fn", [(bowl_problem, None), (bowl_problem, "strong_wolfe"),
                                                     (rosenbrock_problem, "strong_wolfe")],
                         ids=["bowl-fixed", "bowl-wolfe", "rosenbrock-wolfe"])
def test_trajectory_matches_torch(line_search_fn, kwargs, problem):
    steps = 3
    got, cn_opt = trajectory(cnnlab, steps, line_search_fn=line_search_fn, problem=problem, **kwargs)
    want, pt_opt = trajectory(torch, steps, line_search_fn=line_search_fn, problem=problem, **kwargs)
    tolerances = rounding_tolerances(steps, problem, line_search_fn, kwargs)
    for (gl, gp), (wl, wp), rtol in zip(got, want, tolerances):
        assert gl == pytest.approx(wl, rel=rtol, abs=1e-10)
        for a, b in zip(gp, wp):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-10)
    # the state holds differences of iterates (s, y, d): relative rounding 100x the iterates' (floor 1e-6)
    assert_same_state(cn_opt, pt_opt, rtol=100 * tolerances[-1], atol=1e-8)


def test_rounding_tolerances_stay_tight_where_the_problem_is_well_conditioned():
    """The measured budget must not swallow real differences: on the default config the tolerance stays near
    the floor, and a relative change of 1e-6 of one iterate exceeds it."""
    tolerances = rounding_tolerances(3, rosenbrock_problem, "strong_wolfe", {})
    assert max(tolerances) < 1e-7
    assert rounding_tolerances(3, bowl_problem, None, {}) == [1e-8] * 3


def test_line_search_brackets_and_zooms():
    """The problem makes the strong-Wolfe search evaluate more than once per iteration (zoom runs), and the
    fixed-step run moves differently: a check that both code paths are exercised above."""
    _, opt = trajectory(cnnlab, 1, line_search_fn="strong_wolfe", max_iter=20)
    state = opt.state_dict()["state"][0]
    assert state["func_evals"] > state["n_iter"] + 1
    fixed, _ = trajectory(cnnlab, 1, problem=rosenbrock_problem, max_iter=20)
    wolfe, _ = trajectory(cnnlab, 1, problem=rosenbrock_problem, line_search_fn="strong_wolfe", max_iter=20)
    assert fixed[0][0] == wolfe[0][0]  # the first loss is the starting point's
    assert not np.allclose(fixed[0][1][1], wolfe[0][1][1])


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_float32_close_to_torch(line_search_fn):
    got, _ = trajectory(cnnlab, 2, dtype=np.float32, line_search_fn=line_search_fn, max_iter=6)
    want, _ = trajectory(torch, 2, dtype=np.float32, line_search_fn=line_search_fn, max_iter=6)
    for (gl, gp), (wl, wp) in zip(got, want):
        assert gl == pytest.approx(wl, rel=1e-3)
        for a, b in zip(gp, wp):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_and_torch_state(line_search_fn):
    """Two steps, save, load into a fresh optimizer on copies of the parameters, two more steps: the same as
    four uninterrupted steps, also when the state saved is PyTorch's."""
    kwargs = dict(line_search_fn=line_search_fn, max_iter=5, history_size=4)
    want, _ = trajectory(torch, 4, **kwargs)
    problem = rosenbrock_problem if line_search_fn else bowl_problem
    for source in (cnnlab, torch):
        params, make_closure = problem(source)
        opt = source.optim.LBFGS(params, **kwargs)
        closure = make_closure(opt)
        for _ in range(2):
            opt.step(closure)
        saved = copy.deepcopy(opt.state_dict())
        values = [p.detach().numpy().copy() for p in params]
        x = cnnlab.tensor(values[0], requires_grad=True)
        y = cnnlab.tensor(values[1], requires_grad=True)
        new_params, new_make_closure = problem(cnnlab, start=(0.0, 0.0))
        with cnnlab.no_grad():
            new_params[0].copy_(x)
            new_params[1].copy_(y)
        new_opt = cnnlab.optim.LBFGS(new_params, **kwargs)
        new_opt.load_state_dict(saved)
        new_closure = new_make_closure(new_opt)
        for _ in range(2):
            new_opt.step(new_closure)
        for a, b in zip(new_params, want[-1][1]):
            np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-9, atol=1e-12, err_msg=source.__name__)


def test_already_optimal_returns_after_one_evaluation():
    w = cnnlab.tensor([2.0], requires_grad=True)
    opt = cnnlab.optim.LBFGS([w])

    def closure():
        opt.zero_grad()
        loss = ((w - 2.0) ** 2).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 0.0
    assert opt.state[w] == {"func_evals": 1, "n_iter": 0} and w.item() == 2.0


def test_errors():
    w = cnnlab.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="LBFGS.step: a closure is required"):
        cnnlab.optim.LBFGS([w]).step()
    with pytest.raises(ValueError, match=r"LBFGS: lr must be a non-negative number. Got lr=-1"):
        cnnlab.optim.LBFGS([w], lr=-1)
    with pytest.raises(ValueError):
        torch.optim.LBFGS([torch.ones(1, requires_grad=True)], lr=-1)
    v = cnnlab.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"LBFGS: per-parameter options \(parameter groups\) are not supported"):
        cnnlab.optim.LBFGS([{"params": [w]}, {"params": [v], "lr": 0.1}])
    with pytest.raises(ValueError):
        torch.optim.LBFGS([{"params": [torch.ones(1, requires_grad=True)]},
                           {"params": [torch.ones(1, requires_grad=True)], "lr": 0.1}])
    opt = cnnlab.optim.LBFGS([w], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="LBFGS: only line_search_fn='strong_wolfe' is supported. Got "
                                           "line_search_fn='backtracking'"):
        opt.step(closure)
