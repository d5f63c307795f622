"""L-BFGS: a quasi-Newton method that builds its steps from the last few gradient differences.

Every parameter is handled as one flat vector x. Each iteration turns the gradient into a direction with the
two-loop recursion over the stored pairs (s = step taken, y = change of gradient), which applies an estimate of
the inverse Hessian built from those pairs, then moves along it with a fixed step lr (the first one shortened
to min(1, 1 / |g|_1) * lr) or with a strong-Wolfe line search. One `step(closure)` runs up to max_iter such
iterations; the closure re-evaluates the model and its gradients as many times as needed.
"""
import numbers

import numpy as np

from ..autograd import enable_grad, no_grad
from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from ._line_search import strong_wolfe
from .optimizer import Optimizer, check_supported_flags


def _array(value):
    """A state value as NumPy (cnnlab and torch tensors, arrays); numbers and None pass through."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor from a loaded state dict
        return value.detach().cpu().numpy()
    return value


def _tensor(value):
    """How PyTorch keeps a state value: arrays and NumPy scalars as tensors, Python numbers as they are."""
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor._wrap(np.array(value))
    return value


class LBFGS(Optimizer):
    """Limited-memory BFGS with an optional strong-Wolfe line search; step() needs a closure.

    Args:
        params (iterable): the tensors to optimize (one group only: L-BFGS works on all of them as one vector).
        lr (float, default 1): the step length (the first step of the first iteration is min(1, 1/|g|_1) * lr).
        max_iter (int, default 20): iterations per step() call.
        max_eval (int, default max_iter * 5 // 4): closure evaluations per step() call.
        tolerance_grad (float, default 1e-7): stop when max |gradient| falls to this.
        tolerance_change (float, default 1e-9): stop when the step, the loss change or the slope along the
            direction falls below this.
        history_size (int, default 100): how many (step, gradient change) pairs are kept.
        line_search_fn (str, default None): None (fixed steps) or 'strong_wolfe'.

    State: kept under the first parameter, as PyTorch: 'func_evals', 'n_iter', the direction 'd', the step
    't', 'old_dirs', 'old_stps', 'ro', 'H_diag', 'prev_flat_grad', 'prev_loss' (and 'al').

    Raises:
        ValueError: a negative lr, several parameter groups, or another line_search_fn (RuntimeError in step,
        as PyTorch, for a line_search_fn other than 'strong_wolfe').

    Matches torch.optim.LBFGS (same iterates in float64).

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - cnnlab.tensor([3.0, 0.5])) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> [round(v, 4) for v in w.tolist()]
    [3.0, 0.5]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if not isinstance(lr, numbers.Real) or not lr >= 0.0:
            raise ValueError(f"LBFGS: lr must be a non-negative number. Got lr={lr!r}.")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        self._params = self.param_groups[0]["params"]

    def _check_group(self, group):
        check_supported_flags("LBFGS", group)

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS: per-parameter options (parameter groups) are not supported; L-BFGS treats "
                             "all parameters as one vector. Got a second group.")
        super().add_param_group(param_group)

    # ---- the parameters as one flat vector ---------------------------------------------------------------
    def _flat_grad(self):
        parts = []
        for p in self._params:
            if p.grad is None:
                parts.append(np.zeros(p._data.size, p._data.dtype))
                continue
            g = p.grad._data
            if g.shape != p._data.shape:
                raise ShapeError(f"LBFGS: a parameter's gradient must have its shape. Got "
                                 f"param.shape={shape_str(p._data.shape)}, grad.shape={shape_str(g.shape)}.")
            parts.append(g.reshape(-1))
        return np.concatenate(parts)

    def _add_step(self, t, d):
        """x <- x + t d, parameter by parameter, in place."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += (d[offset:offset + n] * t).reshape(p._data.shape).astype(p._data.dtype, copy=False)
            offset += n

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss), self._flat_grad()

    # ---- one step: up to max_iter L-BFGS iterations --------------------------------------------------------
    def step(self, closure=None):
        """Run up to max_iter iterations; returns the loss the closure gave at the starting point.

        Args:
            closure (callable): clears the gradients, computes the loss, calls backward() and returns the loss.
        Raises:
            TypeError: no closure. RuntimeError: a line_search_fn other than None and 'strong_wolfe'.
        """
        if closure is None:
            raise TypeError("LBFGS.step: a closure is required (it re-evaluates the model several times per "
                            "step: zero_grad, loss, backward, return loss). Got closure=None.")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tol_grad:  # already optimal
            return orig_loss

        d, t = _array(state.get("d")), _array(state.get("t"))
        old_dirs = [_array(v) for v in state.get("old_dirs", [])]
        old_stps = [_array(v) for v in state.get("old_stps", [])]
        ro = [_array(v) for v in state.get("ro", [])]
        h_diag, prev_flat_grad = _array(state.get("H_diag")), _array(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        n_iter = 0
        opt_cond = False
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                d, h_diag = self._direction(state, flat_grad, prev_flat_grad, d, t, old_dirs, old_stps, ro, h_diag,
                                            history_size)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # the first iteration's step is shortened to at most 1 / |g|_1 (the gradient's scale is unknown)
            if state["n_iter"] == 1:
                inv_l1 = 1.0 / np.abs(flat_grad).sum()
                t = (inv_l1 if inv_l1 < 1.0 else 1.0) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)  # slope along d
            if gtd > -tol_change:
                break

            ls_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError(f"LBFGS: only line_search_fn='strong_wolfe' is supported. Got "
                                       f"line_search_fn={line_search_fn!r}.")
                x0 = [p._data.copy() for p in self._params]

                def evaluate(step, x0=x0, d=d):
                    self._add_step(step, d)
                    result = self._evaluate(closure)
                    for p, x in zip(self._params, x0):
                        np.copyto(p._data, x)
                    return result

                loss, flat_grad, t, ls_evals = strong_wolfe(evaluate, t, d, loss, flat_grad, gtd,
                                                            max_ls=max_eval - current_evals)
                self._add_step(t, d)
                opt_cond = np.abs(flat_grad).max() <= tol_grad
            else:
                self._add_step(t, d)
                if n_iter != max_iter:  # the last iteration's point is evaluated by the next step() call
                    loss, flat_grad = self._evaluate(closure)
                    opt_cond = np.abs(flat_grad).max() <= tol_grad
                    ls_evals = 1
            current_evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state["d"], state["t"] = _tensor(d), _tensor(t)
        state["old_dirs"], state["old_stps"] = [_tensor(v) for v in old_dirs], [_tensor(v) for v in old_stps]
        state["ro"], state["H_diag"] = [_tensor(v) for v in ro], _tensor(h_diag)
        state["prev_flat_grad"], state["prev_loss"] = _tensor(prev_flat_grad), prev_loss
        return orig_loss

    @staticmethod
    def _direction(state, flat_grad, prev_flat_grad, d, t, old_dirs, old_stps, ro, h_diag, history_size):
        """Store the last (s, y) pair when its curvature y.s is positive, then d = -H g by the two-loop
        recursion with H0 = (y.s / y.y) I. Returns (d, H_diag); the history lists are updated in place."""
        y = flat_grad - prev_flat_grad
        s = d * t
        ys = y.dot(s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:
                del old_dirs[0], old_stps[0], ro[0]
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            h_diag = ys / y.dot(y)
        if "al" not in state:
            state["al"] = [None] * history_size
        al = state["al"]
        # first loop, newest pair first: a_i = rho_i s_i.q, q -= a_i y_i
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * _array(ro[i])
            q = q - old_dirs[i] * al[i]
        # second loop, oldest first, from r = H0 q: b_i = rho_i y_i.r, r += (a_i - b_i) s_i
        r = q * h_diag
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * _array(ro[i])
            r = r + old_stps[i] * (al[i] - be_i)
        for i in range(len(old_dirs)):
            al[i] = _tensor(al[i])
        return r, h_diag
