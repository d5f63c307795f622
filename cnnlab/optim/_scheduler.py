"""LRScheduler, the base of the learning-rate schedules, and the helpers they share.

A schedule sets `group['lr']` in each of its optimizer's parameter groups. Construction stores each group's
starting lr as `group['initial_lr']` (kept in `base_lrs`) and takes step 0; every `step()` then adds one to
`last_epoch` and asks `get_lr()` for the new values. Like PyTorch's, most schedules compute the next lr from
the current one ("chainable" form, so two schedules can act on the same optimizer); `step(epoch)` jumps to
an epoch with the closed form where there is one.
"""
import functools
import warnings
import weakref

from .optimizer import Optimizer


def check_optimizer(sched, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{sched}: optimizer must be a cnnlab.optim.Optimizer. "
                        f"Got {type(optimizer).__name__}.")


def format_param(sched, name, optimizer, value):
    """One value per parameter group: a list or tuple of that length, or a single value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{sched}: {name} must have one value per parameter group. Got {len(value)} "
                             f"values for {len(optimizer.param_groups)} groups.")
        return list(value)
    return [value] * len(optimizer.param_groups)


def group_values(optimizer, key):
    return [group[key] for group in optimizer.param_groups]


def _track_step_calls(optimizer):
    """Wrap optimizer.step (once) so the schedule can warn when it is stepped before the optimizer."""
    step = optimizer.step
    func = getattr(step, "__func__", None)
    if getattr(step, "_wrapped_by_lr_sched", False) or func is None:
        return
    ref = weakref.ref(optimizer)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        opt = ref()
        opt._opt_called = True
        return func.__get__(opt, type(opt))(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True
    optimizer.step = wrapper


class LRScheduler:
    """Base class of the learning-rate schedules.

    Args:
        optimizer (Optimizer): the optimizer whose groups' 'lr' the schedule sets.
        last_epoch (int, default -1): the index of the last epoch; -1 starts afresh (and records each
            group's lr as 'initial_lr'); a value >= 0 resumes and needs 'initial_lr' in every group.

    Subclasses implement `get_lr()` (the chainable form) and may implement `_get_closed_form_lr()`.

    Raises:
        TypeError: optimizer is not a cnnlab optimizer.
        KeyError: last_epoch >= 0 and a group has no 'initial_lr'.

    Matches torch.optim.lr_scheduler.LRScheduler.
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in "
                                   f"param_groups[{i}] when resuming with last_epoch >= 0; load the "
                                   f"optimizer's state first. Got last_epoch={last_epoch}.")
        self.base_lrs = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _track_step_calls(optimizer)
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self):
        """Everything but the optimizer, as a dict (as PyTorch's `__dict__` copy)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` returned."""
        self.__dict__.update(state_dict)

    def get_last_lr(self):
        """The learning rates the last step set, one per parameter group."""
        return self._last_lr

    def get_lr(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr().")

    def _warn_if_called_outside_step(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    def step(self, epoch=None):
        """Advance one epoch (or, deprecated, jump to `epoch` with the closed form) and set the groups' lr."""
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn("Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                              "initialization. Please, make sure to call `optimizer.step()` before "
                              "`lr_scheduler.step()`.", UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them in "
                              "the opposite order: `optimizer.step()` before `lr_scheduler.step()`, or the "
                              "first value of the learning rate schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn("The epoch parameter in `scheduler.step()` is deprecated; call `scheduler.step()` "
                          "once per epoch. With an epoch, the closed form is used where there is one.",
                          UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = group_values(self.optimizer, "lr")


_LRScheduler = LRScheduler
