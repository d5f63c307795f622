"""Lecture notes: a small CNN for 3x32x32 images, its printed form, parameter shapes and count."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self):
        super(SmallCNN, self).__init__()
        self.conv1 = nn.Conv2d(3, 5, kernel_size=5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(5, 10, kernel_size=5)
        self.fc1 = nn.Linear(250, 32)
        self.fc2 = nn.Linear(32, 1)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 250)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x


class SmallCNNFlatten(SmallCNN):
    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


if __name__ == "__main__":
    CHECK = {}
    model = SmallCNN()
    print(model)
    CHECK["repr"] = str(model)
    shapes = []
    for name, param in model.named_parameters():
        print(name, param.shape, param.requires_grad)
        shapes.append((name, tuple(param.shape), param.requires_grad))
    CHECK["shapes"] = shapes
    CHECK["n_params"] = sum(p.numel() for p in model.parameters())
    CHECK["n_trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    CHECK["shape_str"] = str(model.conv1.weight.shape)
    CHECK["size0"] = model.fc1.weight.size(0)
    det_init(model)
    x = torch.tensor(np.random.default_rng(1).standard_normal((4, 3, 32, 32)), dtype=torch.float32)
    out = model(x)
    CHECK["out"] = out
    CHECK["out_shape"] = tuple(out.shape)
    m2 = SmallCNNFlatten()
    m2.load_state_dict(model.state_dict())
    CHECK["out_flatten"] = m2(x)
    CHECK["prob"] = torch.sigmoid(out).squeeze(1)
    CHECK["keys"] = list(model.state_dict().keys())
