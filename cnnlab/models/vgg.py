"""VGG (Simonyan & Zisserman, 2014): configurations A, B, D, E (VGG-11/13/16/19), with and without batch norm,
with torchvision's module tree and pretrained weights."""
from .. import nn
from ._api import define_builder, overwrite_named_param, weights_enum

__all__ = ["VGG", "make_layers", "cfgs"] + [f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")]

# filters per 3x3 convolution, "M" a 2x2 max pool (the paper's table 1)
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """`features` (the convolutions), adaptive pooling to 7x7 and a 4096-4096-classes classifier with dropout.
    Matches torchvision.models.VGG.

    Args: features (nn.Module, e.g. make_layers(cfgs["D"])), num_classes (int, default 1000),
        init_weights (bool, default True), dropout (float, default 0.5).
    Shape: (N, 3, H, W) -> (N, num_classes), H, W >= 32.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))   # (N, 512, 7, 7)
        return self.classifier(x.flatten(1))


def make_layers(cfg, batch_norm=False):
    """The convolutional part of a VGG configuration: 3x3 padded convolutions (+ batch norm) + ReLU, 2x2 pools.

    >>> len(make_layers(cfgs["A"]))  # 8 convolutions, 8 ReLUs, 5 pools
    21
    """
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        layers += [nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
        in_channels = v
    return nn.Sequential(*layers)


def _define(depth, cfg, batch_norm):
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    weights_cls = weights_enum(f"VGG{depth}" + ("_BN" if batch_norm else "") + "_Weights", __name__)

    def construct(weights, progress, **kwargs):
        if weights is not None:
            kwargs["init_weights"] = False
            if weights.meta["categories"] is not None:  # (VGG16's IMAGENET1K_FEATURES have no classifier)
                overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), name)
        model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
        if weights is not None:
            model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        return model

    title = f"VGG-{depth}" + (" with batch normalization" if batch_norm else "")
    return weights_cls, define_builder(name, title, weights_cls, construct, __name__,
                                       "passed to VGG (num_classes, init_weights, dropout).")


VGG11_Weights, vgg11 = _define(11, "A", False)
VGG11_BN_Weights, vgg11_bn = _define(11, "A", True)
VGG13_Weights, vgg13 = _define(13, "B", False)
VGG13_BN_Weights, vgg13_bn = _define(13, "B", True)
VGG16_Weights, vgg16 = _define(16, "D", False)
VGG16_BN_Weights, vgg16_bn = _define(16, "D", True)
VGG19_Weights, vgg19 = _define(19, "E", False)
VGG19_BN_Weights, vgg19_bn = _define(19, "E", True)
