"""MobileNetV3 small and large (Howard et al., 2019): inverted residuals with squeeze-excitation and hard-swish,
with torchvision's module tree, state_dict keys, printed form and pretrained weights."""
from functools import partial

from .. import nn
from ._api import define_builder, overwrite_named_param, weights_enum
from ._init import init_mobile_weights, linear_normal_001
from .mobilenetv2 import make_divisible

__all__ = ["MobileNetV3", "InvertedResidualConfig", "InvertedResidual", "MobileNet_V3_Large_Weights",
           "MobileNet_V3_Small_Weights", "mobilenet_v3_large", "mobilenet_v3_small"]


class InvertedResidualConfig:
    """One row of the paper's Tables 1 and 2: channels scaled by width_mult and rounded to multiples of 8."""

    def __init__(self, input_channels, kernel, expanded_channels, out_channels, use_se, activation, stride,
                 dilation, width_mult):
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels, width_mult):
        return make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    """1x1 expansion, kxk depthwise, optional squeeze-excitation (hard-sigmoid gate), 1x1 linear projection."""

    def __init__(self, cnf, norm_layer, se_layer=partial(nn.SqueezeExcitation, scale_activation=nn.Hardsigmoid)):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"InvertedResidual: stride must be 1 or 2. Got stride={cnf.stride}.")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation_layer = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(nn.Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                                                  norm_layer=norm_layer, activation_layer=activation_layer))
        stride = 1 if cnf.dilation > 1 else cnf.stride  # a dilated block keeps the resolution
        layers.append(nn.Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
                                              stride=stride, dilation=cnf.dilation, groups=cnf.expanded_channels,
                                              norm_layer=norm_layer, activation_layer=activation_layer))
        if cnf.use_se:
            layers.append(se_layer(cnf.expanded_channels, make_divisible(cnf.expanded_channels // 4, 8)))
        layers.append(nn.Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, kernel_size=1,
                                              norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input):
        result = self.block(input)
        return result + input if self.use_res_connect else result


class MobileNetV3(nn.Module):
    """MobileNetV3. Matches torchvision.models.MobileNetV3.

    Args:
        inverted_residual_setting (list of InvertedResidualConfig): the blocks.
        last_channel (int): the width of the classifier's hidden layer.
        num_classes (int, default 1000).
        block (callable, default InvertedResidual).
        norm_layer (callable, default BatchNorm2d with eps=0.001, momentum=0.01).
        dropout (float, default 0.2).

    Shape:
        (N, 3, H, W) -> (N, num_classes).
    """

    def __init__(self, inverted_residual_setting, last_channel, num_classes=1000, block=None, norm_layer=None,
                 dropout=0.2, **kwargs):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("MobileNetV3: inverted_residual_setting must not be empty. "
                             f"Got inverted_residual_setting={inverted_residual_setting!r}.")
        if not (isinstance(inverted_residual_setting, (list, tuple))
                and all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting)):
            raise TypeError("MobileNetV3: inverted_residual_setting must be a list of InvertedResidualConfig. Got "
                            f"{type(inverted_residual_setting).__name__}.")
        block = block or InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)

        first = inverted_residual_setting[0].input_channels
        layers = [nn.Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                                          activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        last_out = 6 * last_in
        layers.append(nn.Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                              activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(last_out, last_channel), nn.Hardswish(inplace=True),
                                        nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))

        init_mobile_weights(self, linear_normal_001)

    def forward(self, x):
        x = self.avgpool(self.features(x)).flatten(1)  # (N, 6 * last block's channels)
        return self.classifier(x)


def _mobilenet_v3_conf(arch, width_mult=1.0, reduced_tail=False, dilated=False, **kwargs):
    """The block table of `arch` and the classifier's width. reduced_tail halves the last stage's channels,
    dilated replaces its stride with dilation 2 (both for segmentation backbones)."""
    r = 2 if reduced_tail else 1
    d = 2 if dilated else 1
    bneck = partial(InvertedResidualConfig, width_mult=width_mult)
    if arch == "mobilenet_v3_large":
        setting = [
            bneck(16, 3, 16, 16, False, "RE", 1, 1),
            bneck(16, 3, 64, 24, False, "RE", 2, 1),  # C1
            bneck(24, 3, 72, 24, False, "RE", 1, 1),
            bneck(24, 5, 72, 40, True, "RE", 2, 1),  # C2
            bneck(40, 5, 120, 40, True, "RE", 1, 1),
            bneck(40, 5, 120, 40, True, "RE", 1, 1),
            bneck(40, 3, 240, 80, False, "HS", 2, 1),  # C3
            bneck(80, 3, 200, 80, False, "HS", 1, 1),
            bneck(80, 3, 184, 80, False, "HS", 1, 1),
            bneck(80, 3, 184, 80, False, "HS", 1, 1),
            bneck(80, 3, 480, 112, True, "HS", 1, 1),
            bneck(112, 3, 672, 112, True, "HS", 1, 1),
            bneck(112, 5, 672, 160 // r, True, "HS", 2, d),  # C4
            bneck(160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d),
            bneck(160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d),
        ]
        last_channel = InvertedResidualConfig.adjust_channels(1280 // r, width_mult)  # C5
    elif arch == "mobilenet_v3_small":
        setting = [
            bneck(16, 3, 16, 16, True, "RE", 2, 1),  # C1
            bneck(16, 3, 72, 24, False, "RE", 2, 1),  # C2
            bneck(24, 3, 88, 24, False, "RE", 1, 1),
            bneck(24, 5, 96, 40, True, "HS", 2, 1),  # C3
            bneck(40, 5, 240, 40, True, "HS", 1, 1),
            bneck(40, 5, 240, 40, True, "HS", 1, 1),
            bneck(40, 5, 120, 48, True, "HS", 1, 1),
            bneck(48, 5, 144, 48, True, "HS", 1, 1),
            bneck(48, 5, 288, 96 // r, True, "HS", 2, d),  # C4
            bneck(96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d),
            bneck(96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d),
        ]
        last_channel = InvertedResidualConfig.adjust_channels(1024 // r, width_mult)  # C5
    else:
        raise ValueError(f"mobilenet_v3: unknown architecture. Got arch={arch!r}.")
    return setting, last_channel


def _define(name, enum_name, title):
    weights_cls = weights_enum(enum_name, __name__)

    def construct(weights, progress, **kwargs):
        setting, last_channel = _mobilenet_v3_conf(name, **kwargs)
        for key in ("width_mult", "reduced_tail", "dilated"):  # MobileNetV3 takes and ignores them, as torchvision's
            kwargs.pop(key, None)
        if weights is not None:
            overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), name)
        model = MobileNetV3(setting, last_channel, **kwargs)
        if weights is not None:
            model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        return model

    return weights_cls, define_builder(name, title, weights_cls, construct, __name__,
                                       "width_mult, reduced_tail, dilated (the block table), and what MobileNetV3 "
                                       "takes (num_classes, block, norm_layer, dropout).")


MobileNet_V3_Large_Weights, mobilenet_v3_large = _define("mobilenet_v3_large", "MobileNet_V3_Large_Weights",
                                                         "MobileNetV3-Large")
MobileNet_V3_Small_Weights, mobilenet_v3_small = _define("mobilenet_v3_small", "MobileNet_V3_Small_Weights",
                                                         "MobileNetV3-Small")
