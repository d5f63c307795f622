"""Convolution arithmetic from the lecture: output shapes for padding, stride, dilation and groups."""
import torch
import torch.nn as nn


def conv_out(size, k, s=1, p=0, d=1):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


if __name__ == "__main__":
    CHECK = {}
    x = torch.randn(1, 1, 7, 7)
    same = nn.Conv2d(1, 1, 3, padding='same')
    CHECK["same"] = tuple(same(x).shape)
    CHECK["same_repr"] = repr(same)
    CHECK["same_d2"] = tuple(nn.Conv2d(1, 2, 3, padding='same', dilation=2)(x).shape)
    CHECK["valid"] = tuple(nn.Conv2d(1, 1, 3, padding='valid')(x).shape)
    shapes = []
    for k, s, p, d in [(3, 1, 0, 1), (3, 2, 1, 1), (5, 2, 2, 1), (3, 1, 2, 2), (4, 3, 1, 1), (1, 1, 0, 1)]:
        conv = nn.Conv2d(3, 8, kernel_size=k, stride=s, padding=p, dilation=d)
        y = conv(torch.randn(2, 3, 32, 32))
        print(conv, '->', y.shape)
        shapes.append((repr(conv), tuple(y.shape), conv_out(32, k, s, p, d)))
    CHECK["shapes"] = shapes
    g = nn.Conv2d(8, 16, 3, groups=4, padding=1)
    CHECK["groups_weight"] = tuple(g.weight.shape)
    CHECK["groups_repr"] = repr(g)
    dw = nn.Conv2d(8, 8, 3, groups=8, bias=False)
    CHECK["dw_params"] = sum(p.numel() for p in dw.parameters())
    CHECK["rect"] = tuple(nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2))(torch.randn(1, 3, 10, 10)).shape)
    CHECK["rect_repr"] = repr(nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2)))
    CHECK["reflect_repr"] = repr(nn.Conv2d(3, 4, 3, padding=1, padding_mode='reflect'))
    CHECK["conv1d"] = tuple(nn.Conv1d(2, 4, 3, stride=2)(torch.randn(1, 2, 11)).shape)
    CHECK["kernel_size"] = same.kernel_size
    CHECK["stride"] = g.stride
    CHECK["padding_attr"] = same.padding
    CHECK["in_out"] = (g.in_channels, g.out_channels, g.groups)
