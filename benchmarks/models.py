"""The benchmark's networks, written once against the API that cnnlab shares with PyTorch.

Each builder takes the module namespace (`cnnlab.nn` or `torch.nn`) as its first argument, so the same code
builds the same network in both libraries; `copy_weights` then makes the two compute the same function.
This module imports neither library: the memory benchmark builds a model in a process that holds only one.

>>> import cnnlab.nn as nn
>>> resnet18(nn, num_classes=10, layout="cifar")(__import__("cnnlab").randn(2, 3, 32, 32)).shape
cnnlab.Size([2, 10])
"""
import importlib

import numpy as np

_CLASSES = {}  # id(nn namespace) -> (BasicBlock, ResNet, LeNet5): classes built once per library


def _classes(nn):
    """Define the model classes on top of this namespace's Module (cached per namespace)."""
    if id(nn) in _CLASSES:
        return _CLASSES[id(nn)]

    class BasicBlock(nn.Module):
        """Two 3x3 conv-BN stages with an identity (or 1x1 strided conv-BN) shortcut: ResNet-18/34's block."""

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or in_planes != planes:
                self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                                nn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class ResNet(nn.Module):
        """ResNet-18: a stem, four stages of two BasicBlocks (64, 128, 256, 512 planes), global average pool,
        one linear layer. layout='imagenet': 7x7 s2 stem + 3x3 s2 max pool (224x224 inputs);
        layout='cifar': 3x3 s1 stem and no max pool (32x32 inputs)."""

        def __init__(self, num_classes=1000, layout="imagenet", in_channels=3):
            super().__init__()
            if layout == "imagenet":
                self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
                self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            elif layout == "cifar":
                self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
                self.maxpool = nn.Identity()
            else:
                raise ValueError(f"resnet18: layout must be 'imagenet' or 'cifar'. Got layout={layout!r}.")
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            stages, in_planes = [], 64
            for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                stages.append(nn.Sequential(BasicBlock(in_planes, planes, stride), BasicBlock(planes, planes)))
                in_planes = planes
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))       # (N, 64, H/4, W/4) imagenet
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512, H/32, W/32) imagenet
            return self.fc(self.avgpool(x).flatten(1))                 # (N, num_classes)

    class LeNet5(nn.Module):
        """LeNet-5 for 1x28x28 digits: conv5(p2)-relu-maxpool2-conv5-relu-maxpool2-fc120-fc84-fc10."""

        def __init__(self, num_classes=10):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # (N, 6, 14, 14)
                nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))             # (N, 16, 5, 5)
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                nn.Linear(84, num_classes))

        def forward(self, x):
            return self.classifier(self.features(x))

    _CLASSES[id(nn)] = (BasicBlock, ResNet, LeNet5)
    return _CLASSES[id(nn)]


def resnet18(nn, num_classes=1000, layout="imagenet"):
    """ResNet-18 built from `nn` (cnnlab.nn or torch.nn); layout 'imagenet' (224x224) or 'cifar' (32x32)."""
    return _classes(nn)[1](num_classes=num_classes, layout=layout)


def unet(nn, num_classes=2, in_channels=3, base=32, depth=4):
    """A U-Net built from `nn`: per level two 3x3 conv-BN-ReLU stages (padding 1, sizes kept), 2x2 max pooling
    down, 2x2 transposed convolutions up with the skip connection concatenated, a 1x1 classifier; the speed
    issue's case is base 32 on 256x256 inputs."""
    def double_conv(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    cat = importlib.import_module(nn.__name__.split(".")[0]).cat  # cnnlab.cat or torch.cat

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [base * 2 ** i for i in range(depth + 1)]          # 32, 64, 128, 256, 512
            self.down = nn.ModuleList([double_conv(in_channels, widths[0])] +
                                      [double_conv(widths[i], widths[i + 1]) for i in range(depth)])
            self.pool = nn.MaxPool2d(2)
            self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                     for i in reversed(range(depth))])
            self.merge = nn.ModuleList([double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth))])
            self.head = nn.Conv2d(widths[0], num_classes, 1)

        def forward(self, x):
            skips = []
            for i, block in enumerate(self.down):
                x = block(x if i == 0 else self.pool(x))                # (N, base * 2^i, H / 2^i, W / 2^i)
                skips.append(x)
            skips.pop()
            for up, merge in zip(self.up, self.merge):
                x = merge(cat([skips.pop(), up(x)], 1))                 # skip first, as in the paper
            return self.head(x)                                          # (N, num_classes, H, W)

    return UNet()


def lenet5(nn, num_classes=10):
    """LeNet-5 (ReLU, max pooling) built from `nn` (cnnlab.nn or torch.nn), for (N, 1, 28, 28) inputs."""
    return _classes(nn)[2](num_classes=num_classes)


def zoo(name, num_classes=1000):
    """A builder `build(nn)` of the model zoo's `name` ('resnet50', 'mobilenet_v2', 'convnext_tiny'): from
    torchvision.models when `nn` is torch.nn, from cnnlab.models otherwise. Both have the same state_dict keys,
    so the cases copy one set of weights into both."""
    def build(nn):
        if nn.__name__.startswith("torch"):
            return getattr(_torchvision_models(), name)(num_classes=num_classes)
        from cnnlab import models as cmodels
        return cmodels.get_model(name, num_classes=num_classes)
    build.__name__ = name
    return build


def _torchvision_models():
    """torchvision.models without its compiled operators, which do not load against a CPU build of torch
    (the classification models need none of them; tests/tv.py explains)."""
    import sys
    import types
    for stub in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(stub, types.ModuleType(stub))
    import torchvision.models
    return torchvision.models


def copy_weights(src, dst, from_numpy):
    """Load every parameter and buffer of module `src` (PyTorch) into `dst` (cnnlab), converted with
    `from_numpy` (e.g. cnnlab.from_numpy), so that both compute the same function."""
    state = {k: from_numpy(np.array(v.detach().cpu().numpy(), copy=True)) for k, v in src.state_dict().items()}
    dst.load_state_dict(state)


def count_flops(torch_model, example):
    """Multiply-add FLOPs (2 per MAC) of one forward pass of a PyTorch model's Conv2d and Linear layers,
    counted with forward hooks on `example` (these layers carry nearly all of a CNN's arithmetic)."""
    import torch
    total = [0]

    def hook(mod, inputs, out):
        if isinstance(mod, torch.nn.Conv2d):
            kh, kw = mod.kernel_size
            total[0] += 2 * out.numel() * (mod.in_channels // mod.groups) * kh * kw
        else:
            total[0] += 2 * out.numel() * mod.in_features

    handles = [m.register_forward_hook(hook) for m in torch_model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    was_training = torch_model.training
    torch_model.eval()
    with torch.no_grad():
        torch_model(example)
    torch_model.train(was_training)
    for h in handles:
        h.remove()
    return total[0]
