"""Learning-rate schedules as courses use them: OneCycleLR per batch, warm-up with LinearLR + SequentialLR,
MultiStepLR, LambdaLR, ExponentialLR, CosineAnnealingWarmRestarts; class weights in CrossEntropyLoss."""
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import (CosineAnnealingWarmRestarts, ExponentialLR, LambdaLR, LinearLR, MultiStepLR,
                                      OneCycleLR, SequentialLR)


def trace(make, steps=8, lr=0.1, **opt_kw):
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, **opt_kw)
    scheduler = make(optimizer)
    lrs = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    return lrs


if __name__ == "__main__":
    CHECK = {}
    CHECK["onecycle"] = trace(lambda o: OneCycleLR(o, max_lr=0.1, steps_per_epoch=4, epochs=2), momentum=0.9)
    CHECK["multistep"] = trace(lambda o: MultiStepLR(o, milestones=[2, 5], gamma=0.1))
    CHECK["lambda"] = trace(lambda o: LambdaLR(o, lr_lambda=lambda epoch: 0.95 ** epoch))
    CHECK["exp"] = trace(lambda o: ExponentialLR(o, gamma=0.9))
    CHECK["warm_restarts"] = trace(lambda o: CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2))
    CHECK["warmup"] = trace(lambda o: SequentialLR(o, schedulers=[LinearLR(o, start_factor=0.1, total_iters=3),
                                                                  ExponentialLR(o, gamma=0.9)], milestones=[3]))
    weights = torch.tensor([1.0, 2.0, 0.5])
    criterion = nn.CrossEntropyLoss(weight=weights)
    logits = torch.tensor([[1.0, 2.0, 0.1], [0.3, -1.0, 2.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([1, 2, 0])
    CHECK["weighted_ce"] = criterion(logits, target)
    CHECK["ce_none"] = nn.functional.cross_entropy(logits, target, reduction='none')
    CHECK["ignore"] = nn.CrossEntropyLoss(ignore_index=-100)(logits, torch.tensor([1, -100, 0]))
    CHECK["smoothing"] = nn.CrossEntropyLoss(label_smoothing=0.1)(logits, target)
    CHECK["soft_targets"] = nn.CrossEntropyLoss()(logits, torch.softmax(logits * 2, dim=1))
