"""Transfer-learning recipe: freeze the features, replace the head, train only what requires grad, schedules."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler


class Backbone(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                      nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


if __name__ == "__main__":
    CHECK = {}
    model = Backbone()
    det_init(model)
    for param in model.features.parameters():
        param.requires_grad = False
    num_ftrs = model.fc.in_features
    model.fc = nn.Linear(num_ftrs, 2)
    det_init(model.fc, seed=7)
    CHECK["repr"] = str(model)
    CHECK["trainable"] = [n for n, p in model.named_parameters() if p.requires_grad]
    CHECK["n_trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(2)
    x = torch.tensor(rng.standard_normal((6, 3, 8, 8)), dtype=torch.float32)
    y = torch.tensor([0, 1, 1, 0, 1, 0])
    lrs, losses = [], []
    for epoch in range(5):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]['lr'])
        losses.append(loss.item())
    CHECK["lrs"] = lrs
    CHECK["last_lr"] = scheduler.get_last_lr()
    CHECK["losses"] = losses
    CHECK["fc"] = model.fc.weight
    CHECK["frozen_grad_none"] = model.features[0].weight.grad is None
    CHECK["frozen_unchanged"] = model.features[0].weight
    CHECK["bn_running_mean"] = model.features[1].running_mean

    opt2 = optim.Adam(model.parameters(), lr=1e-2)
    plateau = lr_scheduler.ReduceLROnPlateau(opt2, mode='min', factor=0.5, patience=1)
    seen = []
    for val_loss in [1.0, 0.9, 0.95, 0.97, 0.99, 0.5, 0.6, 0.7]:
        plateau.step(val_loss)
        seen.append(opt2.param_groups[0]['lr'])
    CHECK["plateau"] = seen
    for g in opt2.param_groups:
        g['lr'] = 0.123
    CHECK["set_lr"] = opt2.param_groups[0]['lr']
    opt3 = torch.optim.SGD([{'params': model.features.parameters(), 'lr': 1e-4},
                            {'params': model.fc.parameters()}], lr=1e-2, momentum=0.9)
    CHECK["group_lrs"] = [g['lr'] for g in opt3.param_groups]
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt3, T_max=4)
    cos = []
    for _ in range(4):
        opt3.step()
        sched.step()
        cos.append(sched.get_last_lr())
    CHECK["cosine"] = cos
