"""Adadelta: steps sized by the ratio of two running root-mean-squares (of past steps and of gradients)."""
import numpy as np

from ..tensor import Tensor
from ._update import addcmul_, chunks, update_chunks
from .optimizer import Optimizer, is_real, step_tensor, check_non_negative, check_supported_flags


class Adadelta(Optimizer):
    """Adadelta, updating the parameters in place.

    For each parameter with a gradient g (negated when maximize):

        g <- g + weight_decay * p
        v <- rho * v + (1 - rho) * g^2
        d <- sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * d^2
        p <- p - lr * d

    Args:
        params (iterable): tensors or parameter-group dicts.
        lr (float, default 1.0): scales the step (Adadelta's own step size is the ratio above).
        rho (float, default 0.9): decay rate of the two running averages, in [0, 1].
        eps (float, default 1e-6): added inside both square roots.
        weight_decay (float, default 0): L2 penalty added to the gradient.
        foreach (default None), capturable, differentiable (default False): accepted for compatibility;
            cnnlab has one CPU implementation, and differentiable=True is refused.
        maximize (bool, default False): ascend the objective instead of descending.

    State per parameter: 'step' (a 0-d float32 tensor), 'square_avg' (v) and 'acc_delta' (u), tensors of the
    parameter's shape.

    Raises:
        ValueError: a negative lr, eps or weight_decay, or rho outside [0, 1].

    Matches torch.optim.Adadelta.

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adadelta([w], lr=1.0)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9968, -1.9968]
    >>> sorted(opt.state[w])
    ['acc_delta', 'square_avg', 'step']
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_non_negative("Adadelta", group, "lr", "eps", "weight_decay")
        check_supported_flags("Adadelta", group)
        rho = group["rho"]
        if not is_real(rho):
            raise TypeError(f"Adadelta: rho must be a real number. Got rho={rho!r}.")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: rho must be in [0, 1]. Got rho={rho!r}.")

    def _update_group(self, group):
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        weight_decay, maximize = float(group["weight_decay"]), group["maximize"]
        pieces = []  # chunks of (p, g, square average, accumulated delta) over every parameter
        for p, grad in self._params_with_grad(group):
            param = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = step_tensor()
                state["square_avg"] = Tensor._wrap(np.zeros_like(param))
                state["acc_delta"] = Tensor._wrap(np.zeros_like(param))
            state["step"]._data += 1
            pieces += list(chunks(param, grad, state["square_avg"]._data, state["acc_delta"]._data))

        def update(_, piece):  # chunk by chunk, each op as PyTorch's (and rounded as it)
            pc, gc, square_avg, acc_delta = piece
            g = np.negative(gc) if maximize else gc  # never written to while it is p.grad
            if weight_decay != 0:
                g = np.multiply(pc, weight_decay) + g  # g + wd * p
            np.multiply(square_avg, rho, out=square_avg)
            addcmul_(square_avg, g, g, 1.0 - rho)
            std = np.add(square_avg, eps)
            np.sqrt(std, out=std)
            delta = np.add(acc_delta, eps)
            np.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            np.multiply(acc_delta, rho, out=acc_delta)
            addcmul_(acc_delta, delta, delta, 1.0 - rho)
            pc += np.multiply(delta, -lr)  # p.add_(delta, alpha=-lr)

        update_chunks(update, pieces, sum(piece[0].nbytes for piece in pieces))
