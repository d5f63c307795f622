"""RMSprop: gradient steps divided by a running root-mean-square of the gradients."""
import numpy as np

from ..tensor import Tensor
from ._update import addcdiv_, addcmul_, chunks, lerp_, update_chunks
from .optimizer import Optimizer, step_tensor, check_non_negative, check_supported_flags


class RMSprop(Optimizer):
    """RMSprop, updating the parameters in place.

    For each parameter with a gradient g (negated when maximize):

        g <- g + weight_decay * p
        v <- alpha * v + (1 - alpha) * g^2
        a <- sqrt(v - m^2) + eps with m <- alpha * m + (1 - alpha) * g   (centered), else sqrt(v) + eps
        b <- momentum * b + g / a,  p <- p - lr * b     (momentum > 0), else p <- p - lr * g / a

    Args:
        params (iterable): tensors or parameter-group dicts.
        lr (float, default 1e-2): learning rate.
        alpha (float, default 0.99): smoothing constant of the squared-gradient average.
        eps (float, default 1e-8): added to the denominator.
        weight_decay (float, default 0): L2 penalty added to the gradient.
        momentum (float, default 0): momentum factor.
        centered (bool, default False): divide by an estimate of the gradient's variance instead.
        maximize (bool, default False): ascend the objective instead of descending.
        capturable, differentiable (default False), foreach (default None): accepted for compatibility;
            differentiable=True is refused.

    State per parameter: 'step' (0-d float32 tensor), 'square_avg', and 'momentum_buffer' (momentum > 0)
    and 'grad_avg' (centered).

    Raises:
        ValueError: a negative lr, alpha, eps, momentum or weight_decay.

    Matches torch.optim.RMSprop.

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_non_negative("RMSprop", group, "lr", "eps", "momentum", "weight_decay", "alpha")
        check_supported_flags("RMSprop", group)

    def _update_group(self, group):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        maximize, centered = group["maximize"], group["centered"]
        pieces = []  # chunks of (p, g, v[, grad average][, momentum buffer]) over every parameter
        for p, grad in self._params_with_grad(group):
            param = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = step_tensor()
                state["square_avg"] = Tensor._wrap(np.zeros_like(param))
                if momentum > 0:
                    state["momentum_buffer"] = Tensor._wrap(np.zeros_like(param))
                if centered:
                    state["grad_avg"] = Tensor._wrap(np.zeros_like(param))
            state["step"]._data += 1
            arrays = [param, grad, state["square_avg"]._data]
            if centered:
                arrays.append(_state_array(state, "grad_avg", param))
            if momentum > 0:
                arrays.append(_state_array(state, "momentum_buffer", param))
            pieces += list(chunks(*arrays))

        def update(_, piece):  # chunk by chunk, each op as PyTorch's (and rounded as it)
            pc, gc, square_avg, *rest = piece
            g = np.negative(gc) if maximize else gc  # never written to while it is p.grad
            if weight_decay != 0:
                g = np.multiply(pc, weight_decay) + g  # g + wd * p
            np.multiply(square_avg, alpha, out=square_avg)
            addcmul_(square_avg, g, g, 1.0 - alpha)
            if centered:
                grad_avg = rest.pop(0)
                lerp_(grad_avg, g, 1.0 - alpha)
                avg = np.array(square_avg)
                addcmul_(avg, grad_avg, grad_avg, -1.0)  # v - m^2
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(square_avg)
            avg += eps
            if momentum > 0:
                buf = rest.pop(0)
                np.multiply(buf, momentum, out=buf)
                addcdiv_(buf, g, avg, 1.0)
                pc += np.multiply(buf, -lr)  # p.add_(buf, alpha=-lr)
            else:
                addcdiv_(pc, g, avg, -lr)

        update_chunks(update, pieces, sum(piece[0].nbytes for piece in pieces))


def _state_array(state, key, param):
    """A state buffer's array, made (zeros) when an option was switched on in a group after the first step."""
    if key not in state:
        state[key] = Tensor._wrap(np.zeros_like(param))
    return state[key]._data
