"""Learning-rate schedules: `cnnlab.optim.lr_scheduler`, as torch.optim.lr_scheduler.

The usual loop steps the optimizer once per batch and the schedule once per epoch (or per batch for
OneCycleLR and CyclicLR):

    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()
        scheduler.step()

This module holds the schedules that move the lr between two values over a fixed number of epochs
(ConstantLR, LinearLR, PolynomialLR, CosineAnnealingLR). The ones that multiply it by a factor at some epochs
(LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ExponentialLR: _multiplicative.py), the cyclic ones,
ReduceLROnPlateau and the combinators live beside it; every schedule is importable from here.
"""
import math

from ._chained import ChainedScheduler, SequentialLR
from ._cyclic_lr import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from ._multiplicative import ExponentialLR, LambdaLR, MultiStepLR, MultiplicativeLR, StepLR
from ._plateau import ReduceLROnPlateau
from ._scheduler import LRScheduler, _LRScheduler, group_values

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts", "_LRScheduler"]


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor for the first total_iters epochs, then initial_lr.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        factor (float, default 1/3): the factor, in [0, 1].
        total_iters (int, default 5): epochs with the reduced lr.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Raises:
        ValueError: factor outside [0, 1].

    Matches torch.optim.lr_scheduler.ConstantLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = ConstantLR(opt, factor=0.5, total_iters=2)
    >>> lrs = []
    >>> for _ in range(3):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [0.5, 0.5, 1.0]
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1.0:
            raise ValueError(f"ConstantLR: factor must be in [0, 1]. Got factor={factor!r}.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """lr goes linearly from initial_lr * start_factor to initial_lr * end_factor over total_iters epochs.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        start_factor (float, default 1/3): the first factor, in (0, 1].
        end_factor (float, default 1.0): the last factor, in [0, 1].
        total_iters (int, default 5): epochs to get from one to the other.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Raises:
        ValueError: a factor outside its range.

    Matches torch.optim.lr_scheduler.LinearLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1]. Got start_factor={start_factor!r}.")
        if not 0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1]. Got end_factor={end_factor!r}.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        # lr_t / lr_{t-1} = factor(t) / factor(t - 1), factor(t) = start + (end - start) * t / total
        delta = self.end_factor - self.start_factor
        ratio = 1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta)
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters) for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        total_iters (int, default 5): epochs until the lr reaches 0.
        power (float, default 1.0): the polynomial's power.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Matches torch.optim.lr_scheduler.PolynomialLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = PolynomialLR(opt, total_iters=4, power=2.0)
    >>> opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.5625]
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [group["lr"] * decay for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from initial_lr down to eta_min over T_max epochs (and back up, periodically).

    The closed form is lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2; like
    PyTorch, `step()` uses the recursive form lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi * t /
    T_max)) / (1 + cos(pi * (t - 1) / T_max)), which also follows changes others make to the lr, and
    `step(epoch)` the closed form.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        T_max (int): the number of epochs of half a cosine period, > 0.
        eta_min (float, default 0.0): the smallest lr.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Raises:
        ValueError: T_max <= 0.

    Matches torch.optim.lr_scheduler.CosineAnnealingLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.8536, 0.5, 0.1464, 0.0, 0.1464]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if isinstance(T_max, bool) or not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive. Got T_max={T_max!r}.")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        groups, t, T = self.optimizer.param_groups, self.last_epoch, self.T_max
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        if self._step_count == 1 and t > 0:  # resumed with last_epoch >= 0: start from the closed form
            return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum, where the ratio below would divide by 0
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (group["lr"] - self.eta_min) + self.eta_min for group in groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]
