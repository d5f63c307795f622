"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay."""
import numpy as np

from ..kernels import workspace
from ..tensor import Tensor
from ._update import CHUNK, chunks, update_chunks
from .optimizer import Optimizer, check_non_negative, check_supported_flags


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), updating the parameters in place.

    For each parameter with a gradient g (negated when maximize):

        g <- g + weight_decay * p
        b <- g at the first step, else momentum * b + (1 - dampening) * g      (when momentum != 0)
        g <- g + momentum * b if nesterov else b
        p <- p - lr * g

    Args:
        params (iterable): tensors or parameter-group dicts.
        lr (float, default 1e-3): learning rate.
        momentum (float, default 0): momentum factor.
        dampening (float, default 0): dampening of the momentum.
        weight_decay (float, default 0): L2 penalty added to the gradient.
        nesterov (bool, default False): Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize (bool, default False): ascend the objective instead of descending.
        foreach, fused (default None), differentiable (default False): accepted for compatibility; cnnlab
            has one CPU implementation, and differentiable=True is refused.

    State per parameter: 'momentum_buffer' (a tensor of the parameter's shape) when momentum != 0.

    Raises:
        ValueError: a negative lr, momentum or weight_decay, or nesterov without momentum or with dampening.

    Matches torch.optim.SGD.

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.46, -0.92]
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_non_negative("SGD", group, "lr", "momentum", "weight_decay")
        check_supported_flags("SGD", group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening. "
                             f"Got nesterov=True, momentum={group['momentum']}, dampening={group['dampening']}.")

    def _update_group(self, group):
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
        maximize, nesterov = group["maximize"], group["nesterov"]
        pieces = []  # (param chunk, grad chunk, buffer chunk or None, first step) over every parameter
        for p, grad in self._params_with_grad(group):
            param = p._data
            bufs = ()
            first = False
            if momentum != 0:
                state = self.state[p]
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = Tensor._wrap(np.empty_like(param))
                    first = True
                bufs = (state["momentum_buffer"]._data,)
            pieces += [(c[0], c[1], c[2] if bufs else None, first) for c in chunks(param, grad, *bufs)]

        # chunk by chunk, each op as PyTorch's (and rounded as it): d = g (+ wd * p); b = d at the first
        # step, else momentum * b + (1 - dampening) * d; d = d + momentum * b (nesterov) or b; p -= lr * d
        def update(_, piece):
            pc, gc, bc, first = piece
            d = np.negative(gc) if maximize else gc  # never written to while it is p.grad
            if weight_decay != 0:
                d = np.multiply(pc, weight_decay) + d  # g + wd * p
            if momentum != 0:
                if first:
                    np.copyto(bc, d)
                else:
                    bc *= momentum
                    bc += d if dampening == 0 else np.multiply(d, 1.0 - dampening)
                d = np.multiply(bc, momentum) + d if nesterov else bc
            # a reused chunk-sized buffer of this thread (a non-contiguous parameter is one whole-array piece)
            step = workspace.empty("sgd.step", d.shape, d.dtype) if d.size <= CHUNK else np.empty_like(d)
            np.multiply(d, -lr, out=step)
            pc += step  # p.add_(d, alpha=-lr)

        update_chunks(update, pieces, sum(piece[0].nbytes for piece in pieces))
