"""ResNet (He et al., 2015), ResNeXt (Xie et al., 2016) and Wide ResNet (Zagoruyko & Komodakis, 2016), with
torchvision's module tree, state_dict keys, printed form and pretrained weights.

Each builder is made by _api.define_builder from a construct(weights, progress, **kwargs) function: the
weights arrive checked (None or a ResNet18_Weights member); with weights, num_classes must be 1000 and the
state_dict comes from weights.get_state_dict(progress=progress, check_hash=True).
"""
from .. import nn
from ..nn.modules.fusion import affine_pair, conv_bn, conv_bn_affine, hooked, inference_input, pair_params
from ._api import define_builder, overwrite_named_param, weights_enum

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution, padded to keep the size (no bias: a batch norm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution (no bias)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


def _inference_path(x, relu, pairs, downsample=None):
    """Whether a block (or the stem) may run as conv_bn_affine calls: each (conv, bn) pair an affine_pair, the ReLU
    an unhooked nn.ReLU, a downsample (if any) an unhooked nn.Sequential of one more such pair, and x an inference
    input (no graph to record, no ONNX trace; nn/modules/fusion.py). Hooks, training mode and export take the
    layer-by-layer path."""
    if downsample is not None:
        if type(downsample) is not nn.Sequential or len(downsample) != 2 or hooked(downsample):
            return False
        pairs = pairs + (tuple(downsample),)
    if type(relu) is not nn.ReLU or hooked(relu) or not all(affine_pair(c, b) for c, b in pairs):
        return False
    return inference_input(x, [p for c, b in pairs for p in pair_params(c, b)])


def _identity(block, x):
    """The skip of a block on the inference path: x, or its downsample's conv and batch norm as one op."""
    return x if block.downsample is None else conv_bn_affine(block.downsample[0], block.downsample[1], x)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a skip connection (ResNet-18/34)."""
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock: only supports groups=1 and base_width=64. Got groups={groups}, "
                             f"base_width={base_width}.")
        if dilation > 1:
            raise NotImplementedError(f"BasicBlock: dilation > 1 is not supported. Got dilation={dilation}.")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        if _inference_path(x, self.relu, ((self.conv1, self.bn1), (self.conv2, self.bn2)), self.downsample):
            out = conv_bn_affine(self.conv1, self.bn1, x, relu=True)  # batch norm, skip and ReLU in the conv's blocks
            return conv_bn_affine(self.conv2, self.bn2, out, residual=_identity(self, x), relu=True)
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(conv_bn(self.conv1, self.bn1, x))  # conv_bn: bn(conv(x)), folded in inference
        out = conv_bn(self.conv2, self.bn2, out)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (grouped for ResNeXt, strided: the V1.5 layout), 1x1 expand by 4, and a skip."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        if _inference_path(x, self.relu, ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)),
                           self.downsample):
            out = conv_bn_affine(self.conv1, self.bn1, x, relu=True)  # batch norm, skip and ReLU in the conv's blocks
            out = conv_bn_affine(self.conv2, self.bn2, out, relu=True)
            return conv_bn_affine(self.conv3, self.bn3, out, residual=_identity(self, x), relu=True)
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(conv_bn(self.conv1, self.bn1, x))  # conv_bn: bn(conv(x)), folded in inference
        out = self.relu(conv_bn(self.conv2, self.bn2, out))
        out = conv_bn(self.conv3, self.bn3, out)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A 7x7/2 stem, max pooling, four stages of residual blocks (64, 128, 256, 512 planes), global average
    pooling and a linear classifier. Matches torchvision.models.ResNet.

    Args:
        block (BasicBlock or Bottleneck), layers (4 ints: blocks per stage), num_classes (int, default 1000),
        zero_init_residual (bool, default False): start each block's last batch norm at zero (the block begins
            as the identity), groups (int, default 1), width_per_group (int, default 64),
        replace_stride_with_dilation (3 bools, default None): dilate stages 2-4 instead of striding,
        norm_layer (default nn.BatchNorm2d).

    Shape: (N, 3, H, W) -> (N, num_classes); any H, W >= 1 (global pooling).
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        self._norm_layer = norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes, self.dilation = 64, 1
        replace_stride_with_dilation = replace_stride_with_dilation or [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("ResNet: replace_stride_with_dilation should be None or a 3-element tuple. "
                             f"Got replace_stride_with_dilation={replace_stride_with_dilation!r}.")
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer, downsample, previous_dilation = self._norm_layer, None, self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                         dilation=self.dilation, norm_layer=norm_layer) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        if _inference_path(x, self.relu, ((self.conv1, self.bn1),)):
            x = self.maxpool(conv_bn_affine(self.conv1, self.bn1, x, relu=True))  # (N, 64, H/4, W/4)
        else:
            x = self.maxpool(self.relu(conv_bn(self.conv1, self.bn1, x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))  # (N, 512 * expansion) -> (N, num_classes)


def _resnet(block, layers, weights, progress, name, **kwargs):
    if weights is not None:
        overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), name)
    model = ResNet(block, layers, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def _define(name, enum_name, block, layers, title, **fixed):
    """The weights class and the registered builder `name` (a ResNet with these blocks and fixed arguments)."""
    weights_cls = weights_enum(enum_name, __name__)

    def construct(weights, progress, **kwargs):
        for key, value in fixed.items():
            overwrite_named_param(kwargs, key, value, name)
        return _resnet(block, layers, weights, progress, name, **kwargs)

    return weights_cls, define_builder(name, title, weights_cls, construct, __name__,
                                       "passed to ResNet (num_classes, zero_init_residual, "
                                       "replace_stride_with_dilation, norm_layer).")


ResNet18_Weights, resnet18 = _define("resnet18", "ResNet18_Weights", BasicBlock, [2, 2, 2, 2], "ResNet-18")
ResNet34_Weights, resnet34 = _define("resnet34", "ResNet34_Weights", BasicBlock, [3, 4, 6, 3], "ResNet-34")
ResNet50_Weights, resnet50 = _define("resnet50", "ResNet50_Weights", Bottleneck, [3, 4, 6, 3], "ResNet-50")
ResNet101_Weights, resnet101 = _define("resnet101", "ResNet101_Weights", Bottleneck, [3, 4, 23, 3], "ResNet-101")
ResNet152_Weights, resnet152 = _define("resnet152", "ResNet152_Weights", Bottleneck, [3, 8, 36, 3], "ResNet-152")
ResNeXt50_32X4D_Weights, resnext50_32x4d = _define(
    "resnext50_32x4d", "ResNeXt50_32X4D_Weights", Bottleneck, [3, 4, 6, 3], "ResNeXt-50 32x4d",
    groups=32, width_per_group=4)
ResNeXt101_32X8D_Weights, resnext101_32x8d = _define(
    "resnext101_32x8d", "ResNeXt101_32X8D_Weights", Bottleneck, [3, 4, 23, 3], "ResNeXt-101 32x8d",
    groups=32, width_per_group=8)
ResNeXt101_64X4D_Weights, resnext101_64x4d = _define(
    "resnext101_64x4d", "ResNeXt101_64X4D_Weights", Bottleneck, [3, 4, 23, 3], "ResNeXt-101 64x4d",
    groups=64, width_per_group=4)
Wide_ResNet50_2_Weights, wide_resnet50_2 = _define(
    "wide_resnet50_2", "Wide_ResNet50_2_Weights", Bottleneck, [3, 4, 6, 3], "Wide ResNet-50-2", width_per_group=128)
Wide_ResNet101_2_Weights, wide_resnet101_2 = _define(
    "wide_resnet101_2", "Wide_ResNet101_2_Weights", Bottleneck, [3, 4, 23, 3], "Wide ResNet-101-2",
    width_per_group=128)
