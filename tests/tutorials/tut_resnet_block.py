"""A ResNet BasicBlock with a projection shortcut; output and gradients."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class TinyResNet(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 16, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.avgpool(x)
        x = x.reshape(x.size(0), -1)
        return self.fc(x)


if __name__ == "__main__":
    CHECK = {}
    model = TinyResNet()
    det_init(model)
    CHECK["repr"] = str(model)
    CHECK["keys"] = list(model.state_dict().keys())
    x = torch.tensor(np.random.default_rng(4).standard_normal((3, 3, 8, 8)), dtype=torch.float32)
    out = model(x)
    CHECK["out_train"] = out
    loss = F.cross_entropy(out, torch.tensor([0, 3, 4]))
    loss.backward()
    CHECK["loss"] = loss.item()
    CHECK["grad_conv1"] = model.conv1.weight.grad
    CHECK["grad_shortcut"] = model.layer1[1].shortcut[0].weight.grad
    CHECK["grad_bn"] = model.layer1[0].bn2.weight.grad
    model.eval()
    with torch.no_grad():
        CHECK["out_eval"] = model(x)
    CHECK["running_var"] = model.layer1[1].bn2.running_var
