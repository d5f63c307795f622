"""DenseNet-BC (Huang et al., 2016): each layer sees the concatenation of all earlier feature maps in its
block; transitions halve channels and size. torchvision's module tree and pretrained weights."""
import collections
import re

from .. import nn
from ..nn import functional as F
from ..ops.shape import cat
from ._api import define_builder, overwrite_named_param, weights_enum

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201", "DenseNet121_Weights",
           "DenseNet161_Weights", "DenseNet169_Weights", "DenseNet201_Weights"]


class _DenseLayer(nn.Module):
    """BN-ReLU-1x1 (to bn_size * growth_rate) then BN-ReLU-3x3 (to growth_rate): the new features."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate, memory_efficient=False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        # torchvision recomputes the bottleneck in the backward pass to save memory; the values are the same,
        # and here the flag is kept for the signature only
        self.memory_efficient = memory_efficient

    def forward(self, features):
        x = cat(features, 1) if isinstance(features, (list, tuple)) else features  # (N, sum of channels, H, W)
        bottleneck = self.conv1(self.relu1(self.norm1(x)))
        new = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new = F.dropout(new, p=self.drop_rate, training=self.training)
        return new


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate, memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", _DenseLayer(num_input_features + i * growth_rate, growth_rate,
                                                              bn_size, drop_rate, memory_efficient))

    def forward(self, init_features):
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC. Matches torchvision.models.DenseNet.

    Args:
        growth_rate (int, default 32): channels each layer adds (k in the paper).
        block_config (4 ints, default (6, 12, 24, 16)): layers per dense block.
        num_init_features (int, default 64): channels of the 7x7 stem.
        bn_size (int, default 4): the bottleneck has bn_size * growth_rate channels.
        drop_rate (float, default 0): dropout after each layer.
        num_classes (int, default 1000), memory_efficient (bool, default False: accepted, same results).
    Shape: (N, 3, H, W) -> (N, num_classes), H, W >= 29.
    """

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4, drop_rate=0,
                 num_classes=1000, memory_efficient=False):
        super().__init__()
        self.features = nn.Sequential(collections.OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", _DenseBlock(num_layers, num_features, bn_size, growth_rate,
                                                                      drop_rate, memory_efficient))
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)  # (N, num_features)
        return self.classifier(out)


# the published files name a layer's parts 'norm.1', 'conv.2' (dots are no longer allowed in module names)
_OLD_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def _renamed_keys(state_dict):
    """The published files' keys in today's names ('...denselayer1.norm.1.weight' -> '...denselayer1.norm1.weight').

    >>> list(_renamed_keys({"features.denseblock1.denselayer1.norm.1.weight": 0}))
    ['features.denseblock1.denselayer1.norm1.weight']
    """
    out = collections.OrderedDict()
    for key, value in state_dict.items():
        match = _OLD_KEY.match(key)
        out[match.group(1) + match.group(2) if match else key] = value
    return out


def _define(depth, growth_rate, block_config, num_init_features):
    name = f"densenet{depth}"
    weights_cls = weights_enum(f"DenseNet{depth}_Weights", __name__)

    def construct(weights, progress, **kwargs):
        if weights is not None:
            overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), name)
        model = DenseNet(growth_rate, block_config, num_init_features, **kwargs)
        if weights is not None:
            model.load_state_dict(_renamed_keys(weights.get_state_dict(progress=progress, check_hash=True)))
        return model

    return weights_cls, define_builder(name, f"DenseNet-{depth}", weights_cls, construct, __name__,
                                       "passed to DenseNet (num_classes, drop_rate, bn_size, memory_efficient).")


DenseNet121_Weights, densenet121 = _define(121, 32, (6, 12, 24, 16), 64)
DenseNet161_Weights, densenet161 = _define(161, 48, (6, 12, 36, 24), 96)
DenseNet169_Weights, densenet169 = _define(169, 32, (6, 12, 32, 32), 64)
DenseNet201_Weights, densenet201 = _define(201, 32, (6, 12, 48, 32), 64)
