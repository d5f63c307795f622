"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""
import numpy as np

from ..tensor import Tensor
from ._update import addcdiv_, addcmul_, chunks, update_chunks
from .optimizer import Optimizer, step_tensor, check_non_negative, check_supported_flags


class Adagrad(Optimizer):
    """Adagrad, updating the parameters in place.

    For each parameter with a gradient g (negated when maximize), at step t:

        g <- g + weight_decay * p
        s <- s + g^2
        p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    Args:
        params (iterable): tensors or parameter-group dicts.
        lr (float, default 1e-2): learning rate.
        lr_decay (float, default 0): learning-rate decay per step.
        weight_decay (float, default 0): L2 penalty added to the gradient.
        initial_accumulator_value (float, default 0): starting value of the sums s.
        eps (float, default 1e-10): added to the denominator.
        foreach, fused (default None), differentiable (default False), maximize (default False): as for SGD.

    State per parameter (made at construction, as in PyTorch): 'step' (0-d float32 tensor) and 'sum'.

    Raises:
        ValueError: a negative lr, lr_decay, weight_decay, initial_accumulator_value or eps.

    Matches torch.optim.Adagrad.

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        self._check_group(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _check_group(self, group):
        check_non_negative("Adagrad", group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                           "eps")
        check_supported_flags("Adagrad", group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = step_tensor()
        state["sum"] = Tensor._wrap(np.full_like(p._data, float(group["initial_accumulator_value"])))

    def _update_group(self, group):
        lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
        weight_decay, eps, maximize = float(group["weight_decay"]), float(group["eps"]), group["maximize"]
        pieces = []  # (chunks of p, g, sum; the parameter's decayed learning rate) over every parameter
        for p, grad in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:  # a parameter added with add_param_group after construction
                self._init_state(p, group)
            state["step"]._data += 1
            clr = lr / (1 + (float(state["step"]._data) - 1) * lr_decay)
            pieces += [(c, clr) for c in chunks(p._data, grad, state["sum"]._data)]

        def update(_, piece):  # chunk by chunk, each op as PyTorch's (and rounded as it)
            (pc, gc, state_sum), clr = piece
            g = np.negative(gc) if maximize else gc  # never written to while it is p.grad
            if weight_decay != 0:
                g = np.multiply(pc, weight_decay) + g  # g + wd * p
            addcmul_(state_sum, g, g, 1.0)
            std = np.sqrt(state_sum)
            std += eps
            addcdiv_(pc, g, std, -clr)

        update_chunks(update, pieces, sum(piece[0][0].nbytes for piece in pieces))
