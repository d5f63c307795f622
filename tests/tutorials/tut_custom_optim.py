"""Writing your own optimizer and schedule, as optimisation lectures do: subclass Optimizer (param_groups,
per-parameter state, @torch.no_grad step, p.add_(..., alpha=)) and _LRScheduler (base_lrs, last_epoch)."""
import numpy as np
import torch
import torch.nn as nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import _LRScheduler


class MomentumSGD(Optimizer):
    def __init__(self, params, lr=0.01, momentum=0.9):
        if lr < 0.0:
            raise ValueError("Invalid learning rate: {}".format(lr))
        defaults = dict(lr=lr, momentum=momentum)
        super(MomentumSGD, self).__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['momentum_buffer'] = torch.zeros_like(p, memory_format=torch.preserve_format)
                buf = state['momentum_buffer']
                buf.mul_(group['momentum']).add_(p.grad)
                p.add_(buf, alpha=-group['lr'])
                state['step'] += 1
        return loss


class WarmupLR(_LRScheduler):
    def __init__(self, optimizer, warmup_steps, last_epoch=-1):
        self.warmup_steps = warmup_steps
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        scale = min(1.0, (self.last_epoch + 1) / self.warmup_steps)
        return [base_lr * scale for base_lr in self.base_lrs]


if __name__ == "__main__":
    CHECK = {}
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    det_init(model)
    opt = MomentumSGD(model.parameters(), lr=0.1)
    sched = WarmupLR(opt, warmup_steps=3)
    x = torch.tensor(np.random.default_rng(26).standard_normal((5, 3)), dtype=torch.float32)
    y = x.sum(dim=1, keepdim=True)
    lrs, losses = [], []
    for step in range(5):
        def closure():
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss
        losses.append(opt.step(closure).item())
        sched.step()
        lrs.append(opt.param_groups[0]['lr'])
    CHECK["losses"] = losses
    CHECK["lrs"] = lrs
    CHECK["w"] = model[2].weight
    CHECK["state_steps"] = [s['step'] for s in opt.state.values()]
    CHECK["state_dict_keys"] = sorted(opt.state_dict().keys())
    CHECK["param_groups_keys"] = sorted(k for k in opt.state_dict()['param_groups'][0].keys())
    try:
        MomentumSGD(model.parameters(), lr=-1)
    except ValueError as e:
        CHECK["error"] = str(e)
