"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016): Fire modules (1x1 squeeze, then 1x1 and 3x3 expand,
concatenated), with torchvision's module tree and pretrained weights."""
from .. import nn
from ..ops.shape import cat
from ._api import define_builder, overwrite_named_param, weights_enum

__all__ = ["Fire", "SqueezeNet", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "squeezenet1_0", "squeezenet1_1"]


class Fire(nn.Module):
    """Squeeze to squeeze_planes with 1x1, expand with 1x1 and 3x3 in parallel, concatenate the channels."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)),
                    self.expand3x3_activation(self.expand3x3(x))], 1)  # (N, e1 + e3, H, W)


class SqueezeNet(nn.Module):
    """SqueezeNet: a strided stem, Fire modules between ceil-mode max pools, and a 1x1 convolution to the classes
    averaged over the map. Matches torchvision.models.SqueezeNet.

    Args: version ('1_0' or '1_1', default '1_0'), num_classes (int, default 1000), dropout (float, default 0.5).
    Shape: (N, 3, H, W) -> (N, num_classes); H, W >= 21 (1_0) or 17 (1_1).
    """

    def __init__(self, version="1_0", num_classes=1000, dropout=0.5):
        super().__init__()
        self.num_classes = num_classes
        pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # noqa: E731
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                pool(), Fire(512, 64, 256, 256))
        elif version == "1_1":  # a 3x3 stem and earlier pooling: 2.4x fewer operations, same accuracy
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
        else:
            raise ValueError(f"SqueezeNet: version must be '1_0' or '1_1'. Got version={version!r}.")
        final_conv = nn.Conv2d(512, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:  # small outputs at the start, as the paper's initialisation
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(self.features(x)).flatten(1)  # (N, classes, 1, 1) -> (N, classes)


def _define(version):
    name = f"squeezenet{version}"
    weights_cls = weights_enum(f"SqueezeNet{version}_Weights", __name__)

    def construct(weights, progress, **kwargs):
        if weights is not None:
            overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), name)
        model = SqueezeNet(version, **kwargs)
        if weights is not None:
            model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        return model

    return weights_cls, define_builder(name, f"SqueezeNet {version.replace('_', '.')}", weights_cls, construct,
                                       __name__, "passed to SqueezeNet (num_classes, dropout).")


SqueezeNet1_0_Weights, squeezenet1_0 = _define("1_0")
SqueezeNet1_1_Weights, squeezenet1_1 = _define("1_1")
