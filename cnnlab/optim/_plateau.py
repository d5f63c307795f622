"""ReduceLROnPlateau: cut the lr when a monitored metric stops improving."""
import math
import warnings

from ._scheduler import LRScheduler, check_optimizer, group_values


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by factor when the metric has not improved for more than patience epochs.

    `step(metric)` takes the epoch's metric (e.g. the validation loss). An epoch counts as an improvement when
    the metric beats the best so far by the threshold: in 'min' mode `metric < best * (1 - threshold)`
    ('rel') or `metric < best - threshold` ('abs'), mirrored for 'max'. After a cut, `cooldown` epochs pass
    before bad epochs are counted again. The lr never goes below min_lr, and a cut smaller than eps is skipped.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        mode (str, default 'min'): 'min' (the metric should fall) or 'max'.
        factor (float, default 0.1): the lr's multiplier at a cut, < 1.
        patience (int, default 10): bad epochs tolerated before a cut.
        threshold (float, default 1e-4): the least improvement that counts.
        threshold_mode (str, default 'rel'): 'rel' or 'abs'.
        cooldown (int, default 0): epochs to wait after a cut.
        min_lr (float or list, default 0): the lr's lower bound, per group or for all.
        eps (float, default 1e-8): the smallest cut applied.

    Raises:
        ValueError: factor >= 1, an unknown mode or threshold_mode, or a list of min_lr of the wrong length.

    Matches torch.optim.lr_scheduler.ReduceLROnPlateau.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for loss in [1.0, 0.9, 0.95, 0.95, 0.95]:
    ...     opt.step(); sched.step(loss)
    >>> sched.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0. Got factor={factor!r}.")
        self.factor = factor
        check_optimizer("ReduceLROnPlateau", optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"ReduceLROnPlateau: min_lr must have one value per parameter group. Got "
                                 f"{len(min_lr)} values for {len(optimizer.param_groups)} groups.")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = group_values(optimizer, "lr")
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record one epoch's metric (a number or a one-element tensor) and cut the lr if it has plateaued."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn("The epoch parameter in `scheduler.step()` is deprecated.", UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown are ignored
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = group_values(self.optimizer, "lr")

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but "
                                   f"min_lr was given for {len(self.min_lrs)} (was a group added?). Set "
                                   "scheduler.min_lrs to one value per group.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max'. Got mode={mode!r}.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs'. "
                             f"Got threshold_mode={threshold_mode!r}.")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
