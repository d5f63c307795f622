"""The transfer-learning tutorial's train_model loop: phases, set_grad_enabled(phase == 'train'),
running_corrects as a tensor, best weights kept with copy.deepcopy."""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler


def train_model(model, loaders, dataset_sizes, criterion, optimizer, scheduler, num_epochs=3):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    log = []
    for epoch in range(num_epochs):
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in loaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == 'train'):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == 'train':
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == 'train':
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            print(f'{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}')
            log.append((phase, epoch_loss, epoch_acc.item()))
            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_model_wts)
    return model, log, best_acc


if __name__ == "__main__":
    CHECK = {}
    rng = np.random.default_rng(15)
    batches = {p: [(torch.tensor(rng.standard_normal((4, 3, 8, 8)), dtype=torch.float32),
                    torch.tensor(rng.integers(0, 2, 4))) for _ in range(2)] for p in ['train', 'val']}
    sizes = {p: 8 for p in batches}
    model_ft = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Linear(4, 2))
    det_init(model_ft)
    clone = copy.deepcopy(model_ft)
    CHECK["deepcopy_independent"] = clone[0].weight is not model_ft[0].weight
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.01, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
    model_ft, log, best = train_model(model_ft, batches, sizes, criterion, optimizer_ft, exp_lr_scheduler)
    CHECK["log"] = log
    CHECK["best"] = best
    CHECK["final_w"] = model_ft[5].weight
    CHECK["clone_untouched"] = torch.equal(clone[0].weight, model_ft[0].weight)
