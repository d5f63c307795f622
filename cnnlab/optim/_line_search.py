"""The strong-Wolfe line search behind LBFGS(line_search_fn='strong_wolfe'), as torch.optim.lbfgs runs it.

Along the direction d from the point x, phi(t) = f(x + t d) with slope phi'(t) = grad f(x + t d) . d. A step t
satisfies the strong Wolfe conditions when it decreases f enough (Armijo: phi(t) <= phi(0) + c1 t phi'(0)) and
the slope has flattened (|phi'(t)| <= -c2 phi'(0)). The search first grows t until an interval is known to
contain such a step (bracketing), then shrinks that interval (zoom); both choose new trial steps at the minimum
of the cubic through two points' values and slopes. The scalars stay NumPy scalars of the parameters' dtype
where PyTorch keeps 0-d tensors, so float32 runs round as PyTorch's do.
"""
import numpy as np


def cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic with values f1, f2 and slopes g1, g2 at x1, x2, clipped to bounds (default the
    interval between x1 and x2); the bounds' midpoint when the cubic has no minimum.

    >>> float(cubic_minimum(0.0, 1.0, -1.0, 2.0, 1.0, 1.0))   # symmetric: the minimum is halfway
    1.0
    """
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    # d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2); d2 = sqrt(d1^2 - g1 g2); the minimum lies between the points
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(at, lo), hi)
    return (lo + hi) / 2.0


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Search a step t along d that satisfies the strong Wolfe conditions.

    Args:
        evaluate (callable): evaluate(t) -> (loss float, flat gradient array) at x + t d (x left unchanged).
        t: the first trial step. d (ndarray): the direction. f, g, gtd: loss, flat gradient and slope g . d at t=0.
        c1, c2: the Armijo and curvature constants. tolerance_change: stop zooming when the interval (times
            max |d|) is shorter. max_ls: the most evaluations.
    Returns:
        (loss, flat gradient, t, number of evaluations) of the chosen step.
    """
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    # bracketing: grow t until [t_prev, t] holds an acceptable step, or t itself is one
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, b_f, b_g, b_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, b_f, b_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, b_f, b_g, b_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate: the cubic's minimum, between 1.01 t and 10 t
        nxt = cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new.copy(), gtd_new
        t = nxt
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: the better of the start and the last trial
        bracket, b_f, b_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket around the acceptable step; low is the end with the smaller loss
    insufficient = False
    low, high = (0, 1) if b_f[0] <= b_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_minimum(bracket[0], b_f[0], b_gtd[0], bracket[1], b_f[1], b_gtd[1])
        # a trial within 10% of an end twice in a row (or at an end) moves to 10% inside that end
        lo_end, hi_end = min(bracket), max(bracket)
        eps = 0.1 * (hi_end - lo_end)
        if min(hi_end - t, t - lo_end) < eps:
            if insufficient or t >= hi_end or t <= lo_end:
                t = hi_end - eps if abs(t - hi_end) < abs(t - lo_end) else lo_end + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= b_f[low]:
            bracket[high], b_f[high], b_g[high], b_gtd[high] = t, f_new, g_new.copy(), gtd_new
            low, high = (0, 1) if b_f[0] <= b_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], b_f[high], b_g[high], b_gtd[high] = bracket[low], b_f[low], b_g[low], b_gtd[low]
            bracket[low], b_f[low], b_g[low], b_gtd[low] = t, f_new, g_new.copy(), gtd_new
    return b_f[low], b_g[low], bracket[low], evals
