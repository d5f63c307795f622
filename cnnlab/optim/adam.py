"""Adam and AdamW: adaptive moment estimation, with L2 (Adam) or decoupled (AdamW) weight decay."""
import numpy as np

from ..tensor import Tensor
from ._update import addcdiv_, addcmul_, chunks, lerp_, update_chunks
from .optimizer import Optimizer, step_tensor, check_non_negative, check_supported_flags


class Adam(Optimizer):
    """Adam, updating the parameters in place.

    For each parameter with a gradient g (negated when maximize), at step t:

        g <- g + weight_decay * p              (or p <- p * (1 - lr * weight_decay) when decoupled)
        m <- beta1 * m + (1 - beta1) * g,   v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                 (amsgrad; v_max replaces v below)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params (iterable): tensors or parameter-group dicts.
        lr (float, default 1e-3): learning rate.
        betas (tuple of 2 floats, default (0.9, 0.999)): decay rates of the two moment estimates, in [0, 1).
        eps (float, default 1e-8): added to the denominator.
        weight_decay (float, default 0): L2 penalty (decoupled when decoupled_weight_decay=True).
        amsgrad (bool, default False): use the running maximum of the second moment (AMSGrad).
        maximize (bool, default False): ascend the objective instead of descending.
        decoupled_weight_decay (bool, default False): AdamW's decay (`AdamW` sets it).
        foreach, fused (default None), capturable, differentiable (default False): accepted for
            compatibility; cnnlab has one CPU implementation, and differentiable=True is refused.

    State per parameter: 'step' (a 0-d float32 tensor), 'exp_avg', 'exp_avg_sq' and, with amsgrad,
    'max_exp_avg_sq' (tensors of the parameter's shape).

    Raises:
        ValueError: a negative lr, eps or weight_decay, or a beta outside [0, 1).

    Matches torch.optim.Adam.

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    >>> opt.state[w]['step']
    tensor(1.)
    """

    _name = "Adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        self._check_group(defaults)
        defaults["betas"] = tuple(float(b) for b in betas)
        super().__init__(params, defaults)

    def _check_group(self, group):
        name = self._name
        check_non_negative(name, group, "lr", "eps", "weight_decay")
        check_supported_flags(name, group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair of floats. Got betas={betas!r}.")
        for i, b in enumerate(betas):
            if not (isinstance(b, (int, float, np.floating, np.integer)) and 0.0 <= b < 1.0):
                raise ValueError(f"{name}: betas[{i}] must be in [0, 1). Got betas={tuple(betas)!r}.")

    def _update_group(self, group):
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
        pieces = []  # (chunks of p, g, m, v[, v_max], step size, sqrt(1 - beta2^t)) over every parameter
        for p, grad in self._params_with_grad(group):
            param = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = step_tensor()
                state["exp_avg"] = Tensor._wrap(np.zeros_like(param))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(param))
            if amsgrad and "max_exp_avg_sq" not in state:  # the first step, or amsgrad switched on in a group later
                state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(param))
            state["step"]._data += 1
            step = float(state["step"]._data)
            coefficients = (lr / (1.0 - beta1 ** step), (1.0 - beta2 ** step) ** 0.5)
            arrays = (param, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data) + \
                ((state["max_exp_avg_sq"]._data,) if amsgrad else ())
            pieces += [(c, *coefficients) for c in chunks(*arrays)]

        # chunk by chunk, each op as PyTorch's (and rounded as it)
        def update(_, piece):
            (pc, gc, m, v, *v_max), step_size, bias_correction2_sqrt = piece
            g = np.negative(gc) if maximize else gc  # never written to while it is p.grad
            if weight_decay != 0:
                if decoupled:
                    np.multiply(pc, 1.0 - lr * weight_decay, out=pc)
                else:
                    g = np.multiply(pc, weight_decay) + g  # g + wd * p
            lerp_(m, g, 1.0 - beta1)
            np.multiply(v, beta2, out=v)
            addcmul_(v, g, g, 1.0 - beta2)
            if v_max:
                np.maximum(v_max[0], v, out=v_max[0])
            denom = np.sqrt(v_max[0] if v_max else v)
            np.divide(denom, bias_correction2_sqrt, out=denom)
            denom += eps
            addcdiv_(pc, m, denom, -step_size)

        update_chunks(update, pieces, sum(piece[0][0].nbytes for piece in pieces))


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (`p <- p * (1 - lr * weight_decay)` before the Adam step).

    Args:
        params, lr (default 1e-3), betas (default (0.9, 0.999)), eps (default 1e-8), amsgrad, maximize,
            foreach, capturable, differentiable, fused: as for `Adam`.
        weight_decay (float, default 1e-2): decoupled weight decay coefficient.

    State per parameter: as for `Adam`.

    Raises:
        ValueError: as for `Adam`.

    Matches torch.optim.AdamW.

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.85, -1.8]
    """

    _name = "AdamW"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
