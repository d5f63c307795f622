"""The schedules that multiply the lr by a factor at some epochs: LambdaLR, MultiplicativeLR, StepLR,
MultiStepLR and ExponentialLR (re-exported by cnnlab.optim.lr_scheduler, where the others live).
"""
import types
from bisect import bisect_right
from collections import Counter

from ._scheduler import LRScheduler, group_values


class _LambdaBase(LRScheduler):
    """Shared by LambdaLR and MultiplicativeLR: one function of the epoch per parameter group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        name = type(self).__name__
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"{name}: expected one lr_lambda per parameter group. Got {len(lr_lambda)} "
                                 f"functions for {len(optimizer.param_groups)} groups.")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"{name}: lr_lambda must be a function. Got {type(fn).__name__}.")
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """As LRScheduler's, with callable objects' attributes saved in place of the functions."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        lr_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lr_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaBase):
    """lr = initial_lr * lr_lambda(epoch).

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        lr_lambda (callable or list of callables): epoch -> factor, one per group or one for all.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Raises:
        ValueError: a list of lr_lambda of the wrong length. TypeError: an lr_lambda that is not callable.

    Matches torch.optim.lr_scheduler.LambdaLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = LambdaLR(opt, lambda epoch: 0.5 ** epoch)
    >>> for _ in range(2):
    ...     opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.25]
    """

    def get_lr(self):
        self._warn_if_called_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaBase):
    """lr <- lr * lr_lambda(epoch) at each step after the first.

    Args:
        optimizer (Optimizer), lr_lambda (callable or list of callables), last_epoch (int, default -1): as
            for LambdaLR.

    Raises:
        As LambdaLR.

    Matches torch.optim.lr_scheduler.MultiplicativeLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = MultiplicativeLR(opt, lambda epoch: 0.5)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.125]
    """

    def get_lr(self):
        self._warn_if_called_outside_step()
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * fn(self.last_epoch) for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


def _check_positive_int(sched, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{sched}: {name} must be a positive integer. Got {name}={value!r}.")


class StepLR(LRScheduler):
    """lr <- lr * gamma every step_size epochs: lr = initial_lr * gamma ** (epoch // step_size).

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        step_size (int): epochs between decays, > 0.
        gamma (float, default 0.1): the decay factor.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Raises:
        ValueError: step_size is not a positive integer.

    Matches torch.optim.lr_scheduler.StepLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _check_positive_int("StepLR", "step_size", step_size)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr <- lr * gamma at each milestone epoch (a milestone listed twice multiplies by gamma ** 2).

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        milestones (iterable of int): the epochs at which to decay.
        gamma (float, default 0.1): the decay factor.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Matches torch.optim.lr_scheduler.MultiStepLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> lrs = []
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        if self.last_epoch not in self.milestones:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr <- lr * gamma every epoch: lr = initial_lr * gamma ** epoch.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        gamma (float): the decay factor.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Matches torch.optim.lr_scheduler.ExponentialLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.125]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]
