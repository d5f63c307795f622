"""The 'training a classifier' tutorial: CIFAR-style Net, CrossEntropyLoss, SGD with momentum, save/load."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


if __name__ == "__main__":
    CHECK = {}
    rng = np.random.default_rng(0)
    images = torch.tensor(rng.standard_normal((32, 3, 32, 32)).astype(np.float32))
    labels = torch.tensor(rng.integers(0, 10, 32))
    trainset = TensorDataset(images, labels)
    trainloader = DataLoader(trainset, batch_size=4, shuffle=False, num_workers=0)
    CHECK["n_batches"] = len(trainloader)
    classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

    net = Net()
    det_init(net, scale=0.1)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    epoch_losses = []
    for epoch in range(2):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels_b = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels_b)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 4 == 3:
                print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 4:.3f}')
                epoch_losses.append(running_loss / 4)
                running_loss = 0.0
    print('Finished Training')
    CHECK["losses"] = epoch_losses
    CHECK["fc3.weight"] = net.fc3.weight

    PATH = os.path.join(TMP, 'cifar_net.pth')
    torch.save(net.state_dict(), PATH)
    net2 = Net()
    net2.load_state_dict(torch.load(PATH, weights_only=True))

    dataiter = iter(trainloader)
    images_b, labels_b = next(dataiter)
    outputs = net2(images_b)
    _, predicted = torch.max(outputs, 1)
    CHECK["predicted"] = predicted
    print('Predicted: ', ' '.join(f'{classes[predicted[j]]:5s}' for j in range(4)))
    CHECK["pred_names"] = [classes[predicted[j]] for j in range(4)]

    correct = 0
    total = 0
    with torch.no_grad():
        for data in trainloader:
            images_b, labels_b = data
            outputs = net2(images_b)
            _, predicted = torch.max(outputs.data, 1)
            total += labels_b.size(0)
            correct += (predicted == labels_b).sum().item()
    print(f'Accuracy of the network: {100 * correct // total} %')
    CHECK["correct"] = correct
    CHECK["total"] = total

    correct_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for images_b, labels_b in trainloader:
            outputs = net2(images_b)
            _, predictions = torch.max(outputs, 1)
            for label, prediction in zip(labels_b, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
    CHECK["per_class"] = correct_pred
