"""Lecture-notes binary classifier (cats vs dogs style): the small CNN with one output, BCEWithLogitsLoss,
error rates counted with int()/float() on tensors, the curves saved with np.savetxt."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class SmallNet(nn.Module):
    def __init__(self):
        super(SmallNet, self).__init__()
        self.name = "small"
        self.conv1 = nn.Conv2d(3, 5, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(5, 10, 5)
        self.fc1 = nn.Linear(10 * 5 * 5, 32)
        self.fc2 = nn.Linear(32, 1)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 10 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        x = x.squeeze(1)  # Flatten to [batch_size]
        return x


def evaluate(net, loader, criterion):
    total_loss = 0.0
    total_err = 0.0
    total_epoch = 0
    for i, data in enumerate(loader, 0):
        inputs, labels = data
        outputs = net(inputs)
        loss = criterion(outputs, labels.float())
        corr = outputs > 0.0
        total_err += int((corr.long() != labels).sum())
        total_loss += loss.item()
        total_epoch += len(labels)
    return float(total_err) / total_epoch, float(total_loss) / (i + 1)


if __name__ == "__main__":
    CHECK = {}
    torch.manual_seed(1000)
    rng = np.random.default_rng(21)
    data = TensorDataset(torch.tensor(rng.standard_normal((24, 3, 32, 32)), dtype=torch.float32),
                         torch.tensor(rng.integers(0, 2, 24)))
    train_loader = DataLoader(data, batch_size=8)
    net = SmallNet()
    det_init(net, scale=0.1)
    criterion = nn.BCEWithLogitsLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    num_epochs = 3
    train_err = np.zeros(num_epochs)
    train_loss = np.zeros(num_epochs)
    for epoch in range(num_epochs):
        for imgs, labels in iter(train_loader):
            optimizer.zero_grad()
            outputs = net(imgs)
            loss = criterion(outputs, labels.float())
            loss.backward()
            optimizer.step()
        train_err[epoch], train_loss[epoch] = evaluate(net, train_loader, criterion)
        print(("Epoch {}: Train err: {}, Train loss: {}").format(epoch + 1, train_err[epoch], train_loss[epoch]))
    model_path = os.path.join(TMP, "model_{0}_bs{1}_lr{2}_epoch{3}".format(net.name, 8, 0.01, epoch))
    torch.save(net.state_dict(), model_path)
    np.savetxt("{}_train_err.csv".format(model_path), train_err)
    CHECK["train_err"] = train_err
    CHECK["train_loss"] = train_loss
    CHECK["csv"] = np.loadtxt("{}_train_err.csv".format(model_path))
    state = torch.load(model_path)
    CHECK["state_keys"] = list(state.keys())
    net2 = SmallNet()
    net2.load_state_dict(state)
    x = data[0][0].unsqueeze(0)
    CHECK["prob"] = torch.sigmoid(net2(x))
    CHECK["float_of_tensor"] = float(net2(x).sum())
    CHECK["bool_of_tensor"] = bool(net2(x)[0] > -100)
    CHECK["pos_weight"] = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))(net2(x), torch.tensor([1.0]))
    CHECK["bce_sigmoid"] = nn.BCELoss()(torch.sigmoid(net2(x)), torch.tensor([1.0]))
