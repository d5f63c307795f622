"""Weight initialisation shared by the mobile-family builders (MobileNetV2/V3, EfficientNet).

torchvision initialises these three architectures with the same loop (Kaiming fan-out convolutions, unit
norms, zero biases) and differs only in how the classifier's Linear layers are drawn; one helper keeps the
three builders' random draws in the same module order as torchvision's.
"""
import math

from .. import nn


def linear_normal_001(linear):
    """MobileNetV2/V3's classifier init: weight ~ N(0, 0.01).

    Example:
        >>> import cnnlab as torch
        >>> layer = torch.nn.Linear(4, 2)
        >>> linear_normal_001(layer)
        >>> float(abs(layer.weight).max()) < 0.1
        True
    """
    nn.init.normal_(linear.weight, 0, 0.01)


def linear_uniform_by_out_features(linear):
    """EfficientNet's classifier init: weight ~ U(-1/sqrt(out_features), 1/sqrt(out_features)).

    Example:
        >>> import cnnlab as torch
        >>> layer = torch.nn.Linear(4, 100)
        >>> linear_uniform_by_out_features(layer)
        >>> float(abs(layer.weight).max()) <= 0.1
        True
    """
    init_range = 1.0 / math.sqrt(linear.out_features)
    nn.init.uniform_(linear.weight, -init_range, init_range)


def init_mobile_weights(model, init_linear_weight):
    """Initialise `model` in place as torchvision's MobileNet/EfficientNet builders do.

    Convolutions get Kaiming-normal fan-out weights and zero biases, BatchNorm2d/GroupNorm unit weights and
    zero biases, Linear layers `init_linear_weight(layer)` and zero biases. Modules are visited in
    `model.modules()` order, so the random draws follow torchvision's.

    Example:
        >>> import cnnlab as torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
        >>> init_mobile_weights(net, linear_normal_001)
        >>> float(net[0].bias.abs().sum()), float(net[1].weight.sum())
        (0.0, 4.0)
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            init_linear_weight(m)
            nn.init.zeros_(m.bias)
