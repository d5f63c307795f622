"""EfficientNet B0-B3 (Tan & Le, 2019): MBConv blocks (inverted residuals with squeeze-excitation, SiLU and
stochastic depth) scaled in width and depth, with torchvision's module tree, state_dict keys, printed form and
pretrained weights. FusedMBConv and the EfficientNetV2 tables are here too, as in torchvision."""
import copy
import math
from functools import partial

from .. import nn
from ._api import define_builder, overwrite_named_param, weights_enum
from ._init import init_mobile_weights, linear_uniform_by_out_features
from .mobilenetv2 import make_divisible

__all__ = ["EfficientNet", "MBConv", "FusedMBConv", "MBConvConfig", "FusedMBConvConfig", "EfficientNet_B0_Weights",
           "EfficientNet_B1_Weights", "EfficientNet_B2_Weights", "EfficientNet_B3_Weights", "efficientnet_b0",
           "efficientnet_b1", "efficientnet_b2", "efficientnet_b3"]


class _MBConvConfig:
    """One stage: expansion ratio, kernel, first block's stride, channels in/out, number of blocks, block class."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels, width_mult, min_value=None):
        return make_divisible(channels * width_mult, 8, min_value)

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class MBConvConfig(_MBConvConfig):
    """A stage of MBConv blocks, its channels scaled by width_mult and its depth by depth_mult (rounded up)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0,
                 depth_mult=1.0, block=None):
        super().__init__(expand_ratio, kernel, stride, self.adjust_channels(input_channels, width_mult),
                         self.adjust_channels(out_channels, width_mult), self.adjust_depth(num_layers, depth_mult),
                         block or MBConv)

    @staticmethod
    def adjust_depth(num_layers, depth_mult):
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    """A stage of FusedMBConv blocks (EfficientNetV2's Table 4)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block=None):
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block or FusedMBConv)


class _StochasticResidual(nn.Module):
    """The forward MBConv and FusedMBConv share: self.block, plus the input through a stochastic-depth drop of
    the block's output where use_res_connect (the shape is kept)."""

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + input
        return result


class MBConv(_StochasticResidual):
    """1x1 expansion (SiLU), kxk depthwise (SiLU), squeeze-excitation, 1x1 projection; where the shape is kept,
    a skip around a stochastic-depth drop of the branch."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=nn.SqueezeExcitation):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"MBConv: stride must be 1 or 2. Got stride={cnf.stride}.")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers = []
        if expanded != cnf.input_channels:
            layers.append(nn.Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1, norm_layer=norm_layer,
                                                  activation_layer=nn.SiLU))
        layers.append(nn.Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel, stride=cnf.stride,
                                              groups=expanded, norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(se_layer(expanded, max(1, cnf.input_channels // 4), activation=partial(nn.SiLU, inplace=True)))
        layers.append(nn.Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                              activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = nn.StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels


class FusedMBConv(_StochasticResidual):
    """kxk expansion convolution (SiLU) and 1x1 projection (or one kxk convolution when nothing is expanded);
    a skip around a stochastic-depth drop where the shape is kept (EfficientNetV2)."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"FusedMBConv: stride must be 1 or 2. Got stride={cnf.stride}.")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers = [nn.Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=cnf.kernel, stride=cnf.stride,
                                              norm_layer=norm_layer, activation_layer=nn.SiLU),
                      nn.Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                              activation_layer=None)]
        else:
            layers = [nn.Conv2dNormActivation(cnf.input_channels, cnf.out_channels, kernel_size=cnf.kernel,
                                              stride=cnf.stride, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = nn.StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels


class EfficientNet(nn.Module):
    """EfficientNet V1 and V2. Matches torchvision.models.EfficientNet.

    Args:
        inverted_residual_setting (list of MBConvConfig / FusedMBConvConfig): the stages.
        dropout (float): before the classifier.
        stochastic_depth_prob (float, default 0.2): the drop probability of the last block; block i of all n
            drops with stochastic_depth_prob * i / n.
        num_classes (int, default 1000).
        norm_layer (callable, default nn.BatchNorm2d).
        last_channel (int, default None): the last convolution's width; None means 4x the last stage's.

    Shape:
        (N, 3, H, W) -> (N, num_classes).
    """

    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000,
                 norm_layer=None, last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("EfficientNet: inverted_residual_setting must not be empty. "
                             f"Got inverted_residual_setting={inverted_residual_setting!r}.")
        if not (isinstance(inverted_residual_setting, (list, tuple))
                and all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("EfficientNet: inverted_residual_setting must be a list of MBConvConfig. Got "
                            f"{type(inverted_residual_setting).__name__}.")
        norm_layer = norm_layer or nn.BatchNorm2d
        layers = [nn.Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3, stride=2,
                                          norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)  # shallow: later blocks of a stage change channels and stride
                if stage:
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(block_id) / total_blocks  # deeper blocks drop more often
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(nn.Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                              activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))

        init_mobile_weights(self, linear_uniform_by_out_features)

    def forward(self, x):
        x = self.avgpool(self.features(x)).flatten(1)  # (N, last_channel)
        return self.classifier(x)


def _efficientnet_conf(arch, **kwargs):
    """The stages of `arch` ('efficientnet_b0'..'efficientnet_b7' with width_mult and depth_mult in kwargs,
    'efficientnet_v2_s/m/l') and the last convolution's width (None: 4x the last stage's)."""
    if arch.startswith("efficientnet_b"):
        bneck = partial(MBConvConfig, width_mult=kwargs.pop("width_mult"), depth_mult=kwargs.pop("depth_mult"))
        setting = [
            bneck(1, 3, 1, 32, 16, 1),
            bneck(6, 3, 2, 16, 24, 2),
            bneck(6, 5, 2, 24, 40, 2),
            bneck(6, 3, 2, 40, 80, 3),
            bneck(6, 5, 1, 80, 112, 3),
            bneck(6, 5, 2, 112, 192, 4),
            bneck(6, 3, 1, 192, 320, 1),
        ]
        return setting, None
    fused, mb = FusedMBConvConfig, MBConvConfig
    tables = {
        "efficientnet_v2_s": [fused(1, 3, 1, 24, 24, 2), fused(4, 3, 2, 24, 48, 4), fused(4, 3, 2, 48, 64, 4),
                              mb(4, 3, 2, 64, 128, 6), mb(6, 3, 1, 128, 160, 9), mb(6, 3, 2, 160, 256, 15)],
        "efficientnet_v2_m": [fused(1, 3, 1, 24, 24, 3), fused(4, 3, 2, 24, 48, 5), fused(4, 3, 2, 48, 80, 5),
                              mb(4, 3, 2, 80, 160, 7), mb(6, 3, 1, 160, 176, 14), mb(6, 3, 2, 176, 304, 18),
                              mb(6, 3, 1, 304, 512, 5)],
        "efficientnet_v2_l": [fused(1, 3, 1, 32, 32, 4), fused(4, 3, 2, 32, 64, 7), fused(4, 3, 2, 64, 96, 7),
                              mb(4, 3, 2, 96, 192, 10), mb(6, 3, 1, 192, 224, 19), mb(6, 3, 2, 224, 384, 25),
                              mb(6, 3, 1, 384, 640, 7)],
    }
    for name, setting in tables.items():
        if arch.startswith(name):
            return setting, 1280
    raise ValueError(f"efficientnet: unknown architecture. Got arch={arch!r}.")


def _define(name, enum_name, title, width_mult, depth_mult, dropout):
    weights_cls = weights_enum(enum_name, __name__)

    def construct(weights, progress, **kwargs):
        setting, last_channel = _efficientnet_conf(name, width_mult=width_mult, depth_mult=depth_mult)
        if weights is not None:
            overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), name)
        model = EfficientNet(setting, kwargs.pop("dropout", dropout), last_channel=last_channel, **kwargs)
        if weights is not None:
            model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        return model

    return weights_cls, define_builder(name, title, weights_cls, construct, __name__,
                                       f"dropout (default {dropout}) and what EfficientNet takes (num_classes, "
                                       "stochastic_depth_prob, norm_layer).")


EfficientNet_B0_Weights, efficientnet_b0 = _define("efficientnet_b0", "EfficientNet_B0_Weights", "EfficientNet-B0",
                                                   1.0, 1.0, 0.2)
EfficientNet_B1_Weights, efficientnet_b1 = _define("efficientnet_b1", "EfficientNet_B1_Weights", "EfficientNet-B1",
                                                   1.0, 1.1, 0.2)
EfficientNet_B2_Weights, efficientnet_b2 = _define("efficientnet_b2", "EfficientNet_B2_Weights", "EfficientNet-B2",
                                                   1.1, 1.2, 0.3)
EfficientNet_B3_Weights, efficientnet_b3 = _define("efficientnet_b3", "EfficientNet_B3_Weights", "EfficientNet-B3",
                                                   1.2, 1.4, 0.3)
