"""GoogLeNet / Inception v1 (Szegedy et al., 2014), with torchvision's module tree, state_dict keys, printed form,
auxiliary classifiers and pretrained weights."""
import warnings
from collections import namedtuple

from .. import nn
from ..nn import functional as F
from ..ops.shape import cat
from ..nn.modules.fusion import conv_bn
from ._api import define_builder, overwrite_named_param, weights_enum

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux", "BasicConv2d", "GoogLeNet_Weights",
           "googlenet", "transform_input"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
_GoogLeNetOutputs = GoogLeNetOutputs


def transform_input(x):
    """Map an input normalised with ImageNet's mean and std to one normalised to [-1, 1] per channel (what the
    ported Google weights expect): x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5."""
    channels = [x[:, c].unsqueeze(1) * (std / 0.5) + (mean - 0.5) / 0.5
                for c, (mean, std) in enumerate(((0.485, 0.229), (0.456, 0.224), (0.406, 0.225)))]
    return cat(channels, 1)


def default_init_weights(init_weights, model_name):
    """torchvision's rule for `init_weights=None`: warn that the default will change, then initialise.

    Example:
        >>> default_init_weights(False, "googlenet")
        False
    """
    if init_weights is None:
        warnings.warn(f"The default weight initialization of {model_name} will be changed in future releases of "
                      "torchvision. If you wish to keep the old behavior (which leads to long initialization "
                      "times due to scipy/scipy#11299), please set init_weights=True.", FutureWarning)
        return True
    return init_weights


def init_trunc_normal(model, std_of):
    """GoogLeNet's and Inception v3's init: Conv2d/Linear weights truncated normal on [-2, 2] with std
    `std_of(layer)`, BatchNorm2d weight 1 and bias 0, in `model.modules()` order (torchvision's draw order).

    Example:
        >>> import cnnlab as torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
        >>> init_trunc_normal(net, lambda layer: 0.01)
        >>> float(abs(net[0].weight).max()) < 0.1, float(net[1].weight.sum())
        (True, 2.0)
    """
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=std_of(m), a=-2, b=2)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


def pretrained_kwargs(kwargs, weights, builder_name):
    """The builders' rule for pretrained weights, applied to `kwargs` in place: transform_input defaults to
    True, aux_logits must be True and init_weights False (overwritten, or an error if set otherwise), and
    num_classes is the weights' category count. Nothing changes when `weights` is None.

    Example:
        >>> kw = {"num_classes": 10}
        >>> pretrained_kwargs(kw, None, "googlenet"); kw
        {'num_classes': 10}
    """
    if weights is None:
        return
    if "transform_input" not in kwargs:
        kwargs["transform_input"] = True
    overwrite_named_param(kwargs, "aux_logits", True, builder_name)
    overwrite_named_param(kwargs, "init_weights", False, builder_name)
    overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), builder_name)


class BasicConv2d(nn.Module):
    """Conv2d (no bias), BatchNorm2d (eps=0.001), ReLU."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(conv_bn(self.conv, self.bn, x), inplace=True)  # bn(conv(x)), folded in inference


class Inception(nn.Module):
    """Four parallel branches concatenated along the channels: 1x1; 1x1 then 3x3; 1x1 then 3x3 (5x5 in the
    paper: torchvision's known deviation, kept for its weights); 3x3 max pool then 1x1."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, conv_block=None):
        super().__init__()
        conv_block = conv_block or BasicConv2d
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(conv_block(in_channels, ch3x3red, kernel_size=1),
                                     conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(conv_block(in_channels, ch5x5red, kernel_size=1),
                                     conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     conv_block(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier on an intermediate feature map (used only while training)."""

    def __init__(self, in_channels, num_classes, conv_block=None, dropout=0.7):
        super().__init__()
        conv_block = conv_block or BasicConv2d
        self.conv = conv_block(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4))).flatten(1)  # (N, 128 * 4 * 4)
        x = self.dropout(F.relu(self.fc1(x), inplace=True))
        return self.fc2(x)


class GoogLeNet(nn.Module):
    """GoogLeNet. Matches torchvision.models.GoogLeNet.

    Args:
        num_classes (int, default 1000).
        aux_logits (bool, default True): build the two auxiliary classifiers; in training mode the forward then
            returns GoogLeNetOutputs(logits, aux_logits2, aux_logits1).
        transform_input (bool, default False): re-normalise the input as the ported weights expect.
        init_weights (bool, default None): truncated-normal initialisation (None: True, with torchvision's
            FutureWarning).
        blocks (list of 3 callables, default [BasicConv2d, Inception, InceptionAux]).
        dropout (float, default 0.2), dropout_aux (float, default 0.7).

    Shape:
        (N, 3, H, W) -> (N, num_classes); H and W at least 15.
    """

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, init_weights=None, blocks=None,
                 dropout=0.2, dropout_aux=0.7):
        super().__init__()
        blocks = blocks or [BasicConv2d, Inception, InceptionAux]
        init_weights = default_init_weights(init_weights, "GoogleNet")
        if len(blocks) != 3:
            raise ValueError(f"GoogLeNet: blocks must hold 3 callables. Got len(blocks)={len(blocks)}.")
        conv_block, inception_block, aux_block = blocks
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        self.conv1 = conv_block(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = aux_block(512, num_classes, dropout=dropout_aux)
            self.aux2 = aux_block(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

        if init_weights:
            init_trunc_normal(self, lambda layer: 0.01)

    def _transform_input(self, x):
        return transform_input(x) if self.transform_input else x

    def _forward(self, x):
        x = self.maxpool1(self.conv1(x))  # (N, 64, H/4, W/4)
        x = self.maxpool2(self.conv3(self.conv2(x)))  # (N, 192, H/8, W/8)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (N, 480, H/16, W/16)
        x = self.inception4a(x)  # (N, 512, H/16, W/16)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # (N, 528, H/16, W/16)
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))  # (N, 832, H/32, W/32)
        x = self.inception5b(self.inception5a(x))  # (N, 1024, H/32, W/32)
        x = self.dropout(self.avgpool(x).flatten(1))  # (N, 1024)
        return self.fc(x), aux2, aux1

    def eager_outputs(self, x, aux2, aux1):
        return GoogLeNetOutputs(x, aux2, aux1) if self.training and self.aux_logits else x

    def forward(self, x):
        x, aux2, aux1 = self._forward(self._transform_input(x))
        return self.eager_outputs(x, aux2, aux1)


GoogLeNet_Weights = weights_enum("GoogLeNet_Weights", __name__)


def _construct(weights, progress, **kwargs):
    original_aux_logits = kwargs.get("aux_logits", False)
    pretrained_kwargs(kwargs, weights, "googlenet")
    model = GoogLeNet(**kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        if not original_aux_logits:
            model.aux_logits = False
            model.aux1 = None
            model.aux2 = None
        else:
            warnings.warn("auxiliary heads in the pretrained googlenet model are NOT pretrained, so make sure to "
                          "train them")
    return model


googlenet = define_builder("googlenet", "GoogLeNet (Inception v1)", GoogLeNet_Weights, _construct, __name__,
                           "passed to GoogLeNet (num_classes, aux_logits, transform_input, init_weights, blocks, "
                           "dropout, dropout_aux); with weights, transform_input defaults to True and the "
                           "auxiliary heads are dropped unless aux_logits=True.")
