"""Schedules made of other schedules: SequentialLR (one after another) and ChainedScheduler (all at once)."""
from bisect import bisect_right

from ._plateau import ReduceLROnPlateau
from ._scheduler import LRScheduler, check_optimizer, group_values


def _check_schedulers(name, optimizer, schedulers):
    if len(schedulers) < 1:
        raise ValueError(f"{name}: expects at least one scheduler. Got schedulers=[].")
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{name}: the scheduler at index {i} has no `optimizer` attribute. "
                            f"Got {type(s).__name__}.")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{name}: ReduceLROnPlateau can't be combined (its step needs a metric). "
                             f"Got one at index {i}.")
        if s.optimizer is not optimizer:
            raise ValueError(f"{name}: all schedulers must belong to the same optimizer. Got "
                             f"{type(s).__name__} at index {i} with another optimizer.")


class _Combined(LRScheduler):
    """State dicts of a schedule made of schedules: its own attributes plus each scheduler's state dict."""

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        schedulers = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, saved in zip(self._schedulers, schedulers):
            s.load_state_dict(saved)


class SequentialLR(_Combined):
    """Run schedulers one after another, switching at the milestone epochs.

    At a milestone the next scheduler restarts from its epoch 0 (its initial lr values).

    Args:
        optimizer (Optimizer): the optimizer all schedulers belong to.
        schedulers (list of LRScheduler): the schedulers, in order.
        milestones (list of int): the epochs at which to switch; one fewer than schedulers.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Raises:
        ValueError: no schedulers, a ReduceLROnPlateau, schedulers of another optimizer, or the wrong number
            of milestones.

    Matches torch.optim.lr_scheduler.SequentialLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD, lr_scheduler as S
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> warm = S.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = S.ExponentialLR(opt, gamma=0.5)
    >>> sched = S.SequentialLR(opt, [warm, decay], milestones=[2])
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        check_optimizer("SequentialLR", optimizer)
        _check_schedulers("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: needs one milestone fewer than schedulers. Got {len(schedulers)} "
                             f"schedulers and {len(milestones)} milestones.")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # undo the lr changes the schedulers' construction made
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None):
        """Take back the initial step that constructing each (nested) scheduler took."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self):
        """Advance one epoch with the scheduler whose turn it is."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Combined):
    """Step several schedulers together each epoch; their chainable updates compose.

    Args:
        schedulers (sequence of LRScheduler): the schedulers, stepped in order.
        optimizer (Optimizer, default None): their optimizer (default: the first scheduler's).

    Raises:
        ValueError: as SequentialLR.

    Matches torch.optim.lr_scheduler.ChainedScheduler.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD, lr_scheduler as S
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, 0.5)])
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler: expects at least one scheduler. Got schedulers=[].")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = group_values(optimizer, "lr")

    def step(self):
        """Step every scheduler once."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = group_values(self.optimizer, "lr")
