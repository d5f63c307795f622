"""Blocks from architecture lectures: AlexNet's LocalResponseNorm, MobileNet's depthwise-separable conv with
ReLU6, a squeeze-and-excitation gate, Hardswish/SiLU/GELU activations, GroupNorm, channel shuffle."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SEBlock(nn.Module):
    def __init__(self, channels, reduction=2):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(channels // reduction, channels, bias=False), nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


def channel_shuffle(x, groups):
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, -1, height, width)


class DWSeparable(nn.Module):
    def __init__(self, inp, oup, stride):
        super().__init__()
        self.dw = nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False)
        self.bn1 = nn.BatchNorm2d(inp)
        self.pw = nn.Conv2d(inp, oup, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(oup)
        self.se = SEBlock(oup)
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x):
        x = self.act(self.bn1(self.dw(x)))
        return self.se(self.act(self.bn2(self.pw(x))))


if __name__ == "__main__":
    CHECK = {}
    x = torch.tensor(np.random.default_rng(20).standard_normal((2, 4, 8, 8)), dtype=torch.float32) * 3
    block = DWSeparable(4, 8, 2)
    det_init(block)
    out = block(x)
    CHECK["block"] = out
    out.sum().backward()
    CHECK["dw_grad"] = block.dw.weight.grad
    CHECK["repr"] = repr(block)
    CHECK["lrn"] = nn.LocalResponseNorm(size=5, alpha=0.0001, beta=0.75, k=2)(x)
    CHECK["shuffle"] = channel_shuffle(x, 2)
    CHECK["relu6"] = F.relu6(x)
    CHECK["hardswish"] = nn.Hardswish()(x)
    CHECK["silu"] = nn.SiLU()(x)
    CHECK["F_silu"] = F.silu(x)
    CHECK["hardsigmoid"] = F.hardsigmoid(x)
    CHECK["gelu"] = nn.GELU()(x)
    CHECK["mish"] = nn.Mish()(x)
    CHECK["softplus"] = F.softplus(x)
    CHECK["prelu"] = nn.PReLU()(x)
    CHECK["groupnorm"] = nn.GroupNorm(2, 4)(x)
    CHECK["instancenorm"] = nn.InstanceNorm2d(4)(x)
    CHECK["layernorm_chw"] = nn.LayerNorm([4, 8, 8])(x)
    CHECK["zeropad"] = nn.ZeroPad2d((1, 0, 2, 1))(x)
    CHECK["reflectpad"] = nn.ReflectionPad2d(1)(x)
    CHECK["channel_softmax"] = nn.Softmax2d()(x)
    CHECK["circular_conv"] = F.conv2d(F.pad(x, (1, 1, 1, 1), mode='circular'), torch.ones(2, 4, 3, 3))
