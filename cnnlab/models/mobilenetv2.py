"""MobileNetV2 (Sandler et al., 2018): inverted residuals with linear bottlenecks, with torchvision's module
tree, state_dict keys, printed form and pretrained weights."""
from .. import nn
from ..nn.modules.fusion import affine_pair, conv_bn_affine, hooked, inference_input, pair_params
from ._api import define_builder, overwrite_named_param, weights_enum
from ._init import init_mobile_weights, linear_normal_001

__all__ = ["MobileNetV2", "InvertedResidual", "MobileNet_V2_Weights", "mobilenet_v2", "make_divisible"]


def make_divisible(v, divisor, min_value=None):
    """The channel count nearest v that divides by `divisor` (at least min_value, default divisor), raised by one
    divisor when rounding would lose more than 10% (the rule of the TensorFlow MobileNet code, as torchvision's
    _make_divisible).

    >>> make_divisible(32 * 0.35, 8), make_divisible(1280 * 1.4, 8), make_divisible(20, 8)
    (16, 1792, 24)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# a tuple (not the classes as globals): interop.to_torch maps a class a function reads to torch's, not a tuple's items
_LAYER_TYPES = (nn.Sequential, nn.Conv2dNormActivation, nn.ReLU6, nn.BatchNorm2d)


def _clamped_pair(layer):
    """(conv, bn, 6.0) for an unhooked Conv2dNormActivation of an affine_pair (nn/modules/fusion.py) and an unhooked
    nn.ReLU6 (min_val 0), which conv_bn_affine runs as one op; else None."""
    _, cna_type, relu6_type, _ = _LAYER_TYPES
    if type(layer) is not cna_type or len(layer) != 3 or hooked(layer):
        return None
    conv, bn, act = layer
    if type(act) is not relu6_type or hooked(act) or act.min_val != 0 or not affine_pair(conv, bn):
        return None
    return conv, bn, act.max_val


def _inference_steps(mods, x):
    """[(conv, bn, max_val or None)] to run the list of layers `mods` as conv_bn_affine calls (ReLU6 where max_val
    is a number): every layer a _clamped_pair, except a last Conv2d and BatchNorm2d (an affine_pair, no activation)
    where a block ends in a linear bottleneck; x an inference input (no graph, no ONNX trace). Hooks, training mode,
    other layer types and export get None: the layers run one by one."""
    tail = ()
    if len(mods) >= 2 and type(mods[-1]) is _LAYER_TYPES[3]:
        if not affine_pair(mods[-2], mods[-1]):
            return None
        tail, mods = ((mods[-2], mods[-1], None),), mods[:-2]
    steps = [_clamped_pair(m) for m in mods]
    if not steps and not tail or any(step is None for step in steps):
        return None
    steps += tail
    return steps if inference_input(x, [p for c, b, _ in steps for p in pair_params(c, b)]) else None


def _run_steps(steps, x, residual=None):
    """The layers of _inference_steps as conv_bn_affine calls, the residual added in the last one's blocks (a
    linear bottleneck's: the add comes before any clamp there)."""
    for i, (conv, bn, max_val) in enumerate(steps):
        last = i == len(steps) - 1
        x = conv_bn_affine(conv, bn, x, residual=residual if last else None, relu=max_val is not None,
                           max_val=max_val)
    return x


def _features(features, x):
    """features(x), with each Conv2dNormActivation (the stem, the last 1x1) as one conv_bn_affine call where the
    inference path holds for it (the inverted residuals decide for themselves)."""
    if type(features) is not _LAYER_TYPES[0] or hooked(features):
        return features(x)
    for layer in features:
        steps = _inference_steps([layer], x)
        x = layer(x) if steps is None else _run_steps(steps, x)
    return x


class InvertedResidual(nn.Module):
    """1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear projection; a skip when the shape is kept."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        self.stride = stride
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2. Got stride={stride}.")
        norm_layer = norm_layer or nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = self.stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(nn.Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                                  activation_layer=nn.ReLU6))
        layers += [
            nn.Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, norm_layer=norm_layer,
                                    activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        steps = None if type(self.conv) is not _LAYER_TYPES[0] or hooked(self.conv) else \
            _inference_steps(list(self.conv), x)
        if steps is not None and (steps[-1][2] is None or not self.use_res_connect):
            # inference: batch norms, ReLU6 and the skip in the convolutions' output blocks
            return _run_steps(steps, x, x if self.use_res_connect else None)
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


_DEFAULT_SETTING = [
    # t (expansion), c (channels), n (blocks), s (first block's stride)
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]


class MobileNetV2(nn.Module):
    """MobileNetV2. Matches torchvision.models.MobileNetV2.

    Args:
        num_classes (int, default 1000).
        width_mult (float, default 1.0): scales every layer's channels.
        inverted_residual_setting (list of [t, c, n, s], default None): the stages; None means the paper's.
        round_nearest (int, default 8): channels are rounded to a multiple of this (1 turns rounding off).
        block (callable, default InvertedResidual), norm_layer (callable, default nn.BatchNorm2d).
        dropout (float, default 0.2): before the classifier.

    Shape:
        (N, 3, H, W) -> (N, num_classes); the features are (N, 1280, ceil(H/32), ceil(W/32)).
    """

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                 block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        block = block or InvertedResidual
        norm_layer = norm_layer or nn.BatchNorm2d
        setting = _DEFAULT_SETTING if inverted_residual_setting is None else inverted_residual_setting
        if len(setting) == 0 or len(setting[0]) != 4:
            raise ValueError(f"MobileNetV2: inverted_residual_setting must be a non-empty list of [t, c, n, s]. "
                             f"Got inverted_residual_setting={setting!r}.")
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [nn.Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                            activation_layer=nn.ReLU6)]
        for t, c, n, s in setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(nn.Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                                norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

        init_mobile_weights(self, linear_normal_001)

    def forward(self, x):
        x = _features(self.features, x)  # (N, last_channel, H/32, W/32)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1)).flatten(1)  # (N, last_channel)
        return self.classifier(x)


MobileNet_V2_Weights = weights_enum("MobileNet_V2_Weights", __name__)


def _construct(weights, progress, **kwargs):
    if weights is not None:
        overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), "mobilenet_v2")
    model = MobileNetV2(**kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


mobilenet_v2 = define_builder("mobilenet_v2", "MobileNetV2", MobileNet_V2_Weights, _construct, __name__,
                              "passed to MobileNetV2 (num_classes, width_mult, inverted_residual_setting, "
                              "round_nearest, block, norm_layer, dropout).")
