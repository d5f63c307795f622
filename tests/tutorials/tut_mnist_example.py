"""The classic MNIST example script (log_softmax + nll_loss, Adadelta/StepLR, train/test functions)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(8 * 6 * 6, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, batches, optimizer):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(batches):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test(model, device, batches):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in batches:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return test_loss, correct


if __name__ == "__main__":
    CHECK = {}
    device = torch.device("cpu")
    rng = np.random.default_rng(11)
    batches = [(torch.tensor(rng.random((8, 1, 16, 16)), dtype=torch.float32),
                torch.tensor(rng.integers(0, 10, 8), dtype=torch.long)) for _ in range(3)]
    model = Net().to(device)
    det_init(model)
    # dropout is random: compare the deterministic eval pass, then train with dropout disabled
    CHECK["test_before"] = test(model, device, batches)
    model.dropout1.p = 0.0
    model.dropout2.p = 0.0
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    hist = []
    for epoch in range(1, 3):
        hist += train(model, device, batches, optimizer)
        scheduler.step()
    CHECK["losses"] = hist
    CHECK["test_after"] = test(model, device, batches)
    CHECK["lr"] = optimizer.param_groups[0]["lr"]
    model2 = Net()
    det_init(model2)
    opt2 = optim.Adam(model2.parameters(), lr=1e-3, weight_decay=1e-4)
    model2.dropout1.p = model2.dropout2.p = 0.0
    CHECK["adam_losses"] = train(model2, device, batches, opt2)
    CHECK["adam_fc2"] = model2.fc2.weight
