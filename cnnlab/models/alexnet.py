"""AlexNet (Krizhevsky et al., 2012) in torchvision's single-GPU layout ("one weird trick" variant, 64-192-384-
256-256 filters), with its pretrained weights."""
from .. import nn
from ._api import define_builder, overwrite_named_param, weights_enum

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    """Five convolutions (11x11/4, 5x5, three 3x3) with three 3x3/2 max pools, adaptive pooling to 6x6 and a
    4096-4096-classes classifier with dropout. Matches torchvision.models.AlexNet.

    Args: num_classes (int, default 1000), dropout (float, default 0.5).
    Shape: (N, 3, H, W) -> (N, num_classes), H, W >= 63 (224 gives 55 -> 27 -> 13 -> 6 before the classifier).

    >>> import cnnlab
    >>> AlexNet(num_classes=10)(cnnlab.zeros(1, 3, 63, 63)).shape
    cnnlab.Size([1, 10])
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),   # 224 -> 55
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                   # 27
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                   # 13
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                   # 6
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))   # (N, 256, 6, 6)
        return self.classifier(x.flatten(1))  # (N, 9216) -> (N, num_classes)


AlexNet_Weights = weights_enum("AlexNet_Weights", __name__)


def _alexnet(weights, progress, **kwargs):
    if weights is not None:
        overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), "alexnet")
    model = AlexNet(**kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


alexnet = define_builder("alexnet", "AlexNet", AlexNet_Weights, _alexnet, __name__,
                         "passed to AlexNet (num_classes, dropout).")
