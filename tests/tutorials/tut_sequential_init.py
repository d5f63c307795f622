"""nn.Sequential with an OrderedDict, weight initialisation through model.apply."""
from collections import OrderedDict

import torch
import torch.nn as nn


def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        if m.bias is not None:
            nn.init.constant_(m.bias, 0)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.constant_(m.weight, 1)
        nn.init.constant_(m.bias, 0)
    elif isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0, 0.01)
        nn.init.zeros_(m.bias)


if __name__ == "__main__":
    CHECK = {}
    torch.manual_seed(0)
    model = nn.Sequential(OrderedDict([
        ('conv1', nn.Conv2d(1, 20, 5)),
        ('bn1', nn.BatchNorm2d(20)),
        ('relu1', nn.ReLU()),
        ('conv2', nn.Conv2d(20, 64, 5, bias=False)),
        ('relu2', nn.ReLU(inplace=True)),
        ('pool', nn.AdaptiveAvgPool2d((1, 1))),
        ('flat', nn.Flatten()),
        ('fc', nn.Linear(64, 10)),
    ]))
    print(model)
    CHECK["repr"] = str(model)
    model.apply(init_weights)
    w = model.conv2.weight
    CHECK["conv2_std_ok"] = abs(w.std().item() / (2.0 / (64 * 25)) ** 0.5 - 1) < 0.1
    CHECK["conv1_bias"] = model.conv1.bias
    CHECK["bn_weight"] = model.bn1.weight
    CHECK["fc_bias"] = model.fc.bias
    CHECK["fc_std_ok"] = abs(model.fc.weight.std().item() / 0.01 - 1) < 0.2
    CHECK["n_conv"] = sum(1 for m in model.modules() if isinstance(m, nn.Conv2d))
    CHECK["names"] = [name for name, _ in model.named_modules()]
    CHECK["conv2_bias_none"] = model.conv2.bias is None
    CHECK["index"] = str(model[0])
    CHECK["slice"] = str(model[:2])
    CHECK["len"] = len(model)
    CHECK["gain"] = nn.init.calculate_gain('relu')
    lin = nn.Linear(10, 5)
    nn.init.xavier_uniform_(lin.weight)
    bound = (6 / 15) ** 0.5
    CHECK["xavier_in_bound"] = bool((lin.weight.abs() <= bound).all())
    det_init(model)
    x = torch.tensor([[[[float((i * 7 + j * 3) % 11) / 11 for j in range(12)] for i in range(12)]]] * 2)
    model.eval()
    CHECK["out_eval"] = model(x)
