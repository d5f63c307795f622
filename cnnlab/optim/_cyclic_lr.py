"""Cyclic schedules, stepped once per batch or epoch: OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts.

OneCycleLR and CyclicLR also cycle the momentum (SGD's 'momentum', or beta1 of Adam-like optimizers' 'betas')
opposite to the lr; both set the group's lr outright at each step (no chaining).
"""
import math
import types

from ._scheduler import LRScheduler, check_optimizer, format_param


def _cycle_momentum_setup(sched, optimizer, max_momentum, base_momentum, fresh):
    """Record max/base momentum per group and start the groups at max_momentum (when starting afresh)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{sched}: cycle_momentum=True needs an optimizer with a 'momentum' or 'betas' option. "
                         f"Got {type(optimizer).__name__}; pass cycle_momentum=False.")
    use_beta1 = "betas" in optimizer.defaults
    max_moms = format_param(sched, "max_momentum", optimizer, max_momentum)
    base_moms = format_param(sched, "base_momentum", optimizer, base_momentum)
    if fresh:
        for m_mom, b_mom, group in zip(max_moms, base_moms, optimizer.param_groups):
            _set_momentum(group, m_mom, use_beta1)
            group["max_momentum"] = m_mom
            group["base_momentum"] = b_mom
    return use_beta1, max_moms, base_moms


def _set_momentum(group, momentum, use_beta1):
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


class OneCycleLR(LRScheduler):
    """The 1cycle policy: lr rises from max_lr / div_factor to max_lr, then anneals to a far smaller value.

    Phases (step counts from 0; pct_start * total_steps steps warm up):
        two-phase: initial_lr -> max_lr, then max_lr -> min_lr;
        three_phase: initial_lr -> max_lr -> initial_lr, then initial_lr -> min_lr;
    with initial_lr = max_lr / div_factor and min_lr = initial_lr / final_div_factor. With cycle_momentum the
    momentum goes max_momentum -> base_momentum -> max_momentum meanwhile. Step it after every batch.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        max_lr (float or list): the peak lr, per group or for all.
        total_steps (int, default None): the number of steps; or give epochs and steps_per_epoch.
        epochs, steps_per_epoch (int, default None): total_steps = epochs * steps_per_epoch.
        pct_start (float, default 0.3): the fraction of steps spent rising.
        anneal_strategy (str, default 'cos'): 'cos' or 'linear'.
        cycle_momentum (bool, default True): cycle the momentum (beta1 for Adam-like optimizers).
        base_momentum (float or list, default 0.85), max_momentum (float or list, default 0.95).
        div_factor (float, default 25.0), final_div_factor (float, default 1e4).
        three_phase (bool, default False): use the three-phase schedule.
        last_epoch (int, default -1): the index of the last batch; -1 starts afresh.

    Raises:
        ValueError: neither total_steps nor epochs and steps_per_epoch, a bad pct_start or anneal_strategy,
            cycle_momentum with an optimizer that has no momentum, or stepping past total_steps.

    Matches torch.optim.lr_scheduler.OneCycleLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=4, pct_start=0.5, anneal_strategy='linear')
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(round(sched.get_last_lr()[0], 6)); opt.step(); sched.step()
    >>> lrs
    [0.04, 1.0, 0.500002, 4e-06]
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        check_optimizer("OneCycleLR", optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: total_steps must be a positive integer. "
                                 f"Got total_steps={total_steps!r}.")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ValueError(f"OneCycleLR: {name} must be a positive integer. Got {name}={value!r}.")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give either total_steps or both epochs and steps_per_epoch. "
                             f"Got total_steps=None, epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}.")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be a float in [0, 1]. Got pct_start={pct_start!r}.")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear'. "
                             f"Got anneal_strategy={anneal_strategy!r}.")
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum")]
        else:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum")]
        self._anneal_func_type = anneal_strategy
        max_lrs = format_param("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for max_lr_i, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = max_lr_i / div_factor
                group["max_lr"] = max_lr_i
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, _, _ = _cycle_momentum_setup("OneCycleLR", optimizer, max_momentum, base_momentum,
                                                         last_epoch == -1)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        self._warn_if_called_outside_step()
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped past the end of the schedule. Got step {step_num} with "
                             f"total_steps={self.total_steps}.")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == last:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(group, momentum, self.use_beta1)
        return lrs


class CyclicLR(LRScheduler):
    """The lr cycles between base_lr and max_lr (triangular, triangular2 or exp_range); step after each batch.

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        base_lr, max_lr (float or list): the bounds of the cycle, per group or for all.
        step_size_up (int, default 2000), step_size_down (int, default None = step_size_up): half-cycle lengths.
        mode (str, default 'triangular'): 'triangular', 'triangular2' (halve the amplitude each cycle) or
            'exp_range' (scale by gamma ** iteration).
        gamma (float, default 1.0): exp_range's factor.
        scale_fn (callable, default None): a custom amplitude scale in place of mode.
        scale_mode (str, default 'cycle'): the argument of scale_fn: 'cycle' number or 'iterations'.
        cycle_momentum (bool, default True), base_momentum (default 0.8), max_momentum (default 0.9).
        last_epoch (int, default -1): the index of the last batch; -1 starts afresh.

    Raises:
        ValueError: an unknown mode without scale_fn, or cycle_momentum with an optimizer without momentum.

    Matches torch.optim.lr_scheduler.CyclicLR.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        check_optimizer("CyclicLR", optimizer)
        self.optimizer = optimizer
        base_lrs = format_param("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = format_param("CyclicLR", "max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range' unless scale_fn "
                             f"is given. Got mode={mode!r}, scale_fn=None.")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.max_momentums, self.base_momentums = _cycle_momentum_setup(
                "CyclicLR", optimizer, max_momentum, base_momentum, last_epoch == -1)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """The amplitude scale at cycle (or iteration) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        self._warn_if_called_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale_factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base_m, max_m in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, max_m - (max_m - base_m) * scale_factor * scale, self.use_beta1)
        return lrs

    def state_dict(self):
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom")
        super().load_state_dict(state)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from initial_lr to eta_min that restarts every T_i epochs, with T_i growing by T_mult.

    lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, with T_cur the epochs since the
    last restart. `step(epoch)` accepts fractional epochs (e.g. epoch + batch / batches).

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        T_0 (int): epochs until the first restart, > 0.
        T_mult (int, default 1): growth factor of the period after each restart, >= 1.
        eta_min (float, default 0.0): the smallest lr.
        last_epoch (int, default -1): the last epoch index; -1 starts afresh.

    Raises:
        ValueError: T_0 or T_mult not a positive integer, or a negative epoch.

    Matches torch.optim.lr_scheduler.CosineAnnealingWarmRestarts.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> opt = SGD([cnnlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = CosineAnnealingWarmRestarts(opt, T_0=2)
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(round(sched.get_last_lr()[0], 4)); opt.step(); sched.step()
    >>> lrs
    [1.0, 0.5, 1.0, 0.5]
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer. Got T_0={T_0!r}.")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1. Got T_mult={T_mult!r}.")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: eta_min must be a float or int. Got eta_min={eta_min!r}.")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_called_outside_step()
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or go to `epoch` (may be fractional) and set the groups' lr."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be non-negative. Got epoch={epoch!r}.")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:  # n restarts so far: T_0 * (T_mult ** n - 1) / (T_mult - 1) <= epoch
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
