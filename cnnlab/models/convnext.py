"""ConvNeXt tiny/small/base/large (Liu et al., 2022): 7x7 depthwise convolution, channels-last layer norm, an
inverted MLP with GELU, layer scale and stochastic depth, with torchvision's module tree, state_dict keys,
printed form and pretrained weights."""
from functools import partial

from .. import nn
from ..kernels import parallel
from ..creation import ones
from ..nn import functional as F
from ..nn.functional import fused_block
from ..nn.modules.fusion import hooked, inference_input
from ..tensor import Tensor
from ._api import define_builder, overwrite_named_param, weights_enum

__all__ = ["ConvNeXt", "CNBlock", "CNBlockConfig", "LayerNorm2d", "ConvNeXt_Tiny_Weights", "ConvNeXt_Small_Weights",
           "ConvNeXt_Base_Weights", "ConvNeXt_Large_Weights", "convnext_tiny", "convnext_small", "convnext_base",
           "convnext_large"]


# the kernels own the threads during a forward (a partial, so interop.to_torch's copy of this code keeps it as it is)
_BLAS_HELD = partial(parallel.own_threads)


def _array_of(t):  # not named _data: interop.to_torch maps every name a function reads, attributes included
    return None if t is None else t._data


def _inference_input(x, params):
    """fusion.inference_input (no graph to record, no ONNX trace, a non-empty float32/float64 (N, C, H, W) input
    of the parameters' dtype) behind a test of x against the global Tensor: in interop's copies of this code
    (to_torch's, and from_torch's copy back of those) Tensor and inference_input's tensor module are torch's, so
    the cnnlab input of the copy back stops here, before inference_input reads torch's missing _trace_hook."""
    return isinstance(x, Tensor) and inference_input(x, params)


def _channels_only(norm, x):
    """Whether LayerNorm2d may normalise without its permutes: an inference input (_inference_input) and a norm
    over C."""
    params = [p for p in (norm.weight, norm.bias) if p is not None]
    return _inference_input(x, params) and tuple(norm.normalized_shape) == (x.shape[1],)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an (N, C, H, W) tensor: each pixel's C values are normalised. Matches
    torchvision.models.convnext.LayerNorm2d.

    >>> import cnnlab
    >>> LayerNorm2d(8, eps=1e-6)(cnnlab.randn(2, 8, 3, 3)).shape
    cnnlab.Size([2, 8, 3, 3])
    """

    def forward(self, x):
        if _channels_only(self, x):  # inference: normalised over C in the NCHW layout, no permutes
            out = fused_block.channel_layer_norm(x._data, _array_of(self.weight), _array_of(self.bias), self.eps)
            return Tensor._wrap(out)
        x = x.permute(0, 2, 3, 1)  # (N, H, W, C)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)  # (N, C, H, W)


class CNBlock(nn.Module):
    """7x7 depthwise conv, LayerNorm and Linear(dim, 4 dim), GELU, Linear(4 dim, dim) channels-last, a learned
    per-channel layer scale, stochastic depth, and the skip."""

    def __init__(self, dim, layer_scale, stochastic_depth_prob, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            nn.Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            nn.Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(ones(dim, 1, 1) * layer_scale)  # (C, 1, 1), broadcast over H and W
        self.stochastic_depth = nn.StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input):
        if _fusable(self, input):  # inference: everything after the depthwise conv in one pass over pixel tiles
            conv, _, norm, lin1, _, lin2, _ = self.block
            y = conv(input)._data
            out = fused_block.convnext_mlp(y, input._data, _array_of(norm.weight), _array_of(norm.bias), norm.eps,
                                           lin1.weight._data, _array_of(lin1.bias), lin2.weight._data,
                                           _array_of(lin2.bias), self.layer_scale._data)
            return Tensor._wrap(out)
        result = self.stochastic_depth(self.layer_scale * self.block(input))
        return result + input


_LAYOUT = (nn.Conv2d, nn.Permute, nn.LayerNorm, nn.Linear, nn.GELU, nn.Linear, nn.Permute)


def _fusable(block, input):
    """Whether CNBlock.forward may run convnext_mlp: the layers of CNBlock's own layout (exact types, no hooks,
    exact GELU, channels-last permutes, a norm over C), stochastic depth off, an inference input
    (_inference_input)."""
    layers = list(block.block._modules.values())
    if tuple(type(m) for m in layers) != _LAYOUT:
        return False
    conv, to_last, norm, lin1, act, lin2, to_first = layers
    sd = block.stochastic_depth
    if type(sd) is not nn.StochasticDepth or (sd.training and sd.p > 0) or act.approximate != "none":
        return False
    if list(to_last.dims) != [0, 2, 3, 1] or list(to_first.dims) != [0, 3, 1, 2]:
        return False
    modules = layers[1:] + [block.block, sd]  # the conv is called as a module (its hooks run)
    if hooked(*modules):
        return False
    params = [block.layer_scale] + [p for m in layers for p in m._parameters.values() if p is not None]
    if not _inference_input(input, params):
        return False
    C = input.shape[1]
    return (conv.out_channels == C and tuple(norm.normalized_shape) == (C,) and lin1.in_features == C and
            lin2.in_features == lin1.out_features and lin2.out_features == C and block.layer_scale.numel() == C)


class CNBlockConfig:
    """One stage (Section 3 of the paper): its width, the next stage's width (None for the last), its depth."""

    def __init__(self, input_channels, out_channels, num_layers):
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self):
        return (f"{type(self).__name__}(input_channels={self.input_channels}, out_channels={self.out_channels}, "
                f"num_layers={self.num_layers})")


class ConvNeXt(nn.Module):
    """ConvNeXt. Matches torchvision.models.ConvNeXt.

    Args:
        block_setting (list of CNBlockConfig): the stages.
        stochastic_depth_prob (float, default 0.0): the last block's drop probability; block i of n drops with
            stochastic_depth_prob * i / (n - 1).
        layer_scale (float, default 1e-6): the initial layer scale.
        num_classes (int, default 1000).
        block (callable, default CNBlock), norm_layer (callable, default LayerNorm2d with eps=1e-6).

    Shape:
        (N, 3, H, W) -> (N, num_classes); H and W at least 32.
    """

    def __init__(self, block_setting, stochastic_depth_prob=0.0, layer_scale=1e-6, num_classes=1000, block=None,
                 norm_layer=None, **kwargs):
        super().__init__()
        if not block_setting:
            raise ValueError(f"ConvNeXt: block_setting must not be empty. Got block_setting={block_setting!r}.")
        if not (isinstance(block_setting, (list, tuple)) and all(isinstance(s, CNBlockConfig) for s in block_setting)):
            raise TypeError(f"ConvNeXt: block_setting must be a list of CNBlockConfig. Got "
                            f"{type(block_setting).__name__}.")
        block = block or CNBlock
        norm_layer = norm_layer or partial(LayerNorm2d, eps=1e-6)

        first = block_setting[0].input_channels
        layers = [nn.Conv2dNormActivation(3, first, kernel_size=4, stride=4, padding=0, norm_layer=norm_layer,
                                          activation_layer=None, bias=True)]  # the 'patchify' stem
        total_blocks = sum(cnf.num_layers for cnf in block_setting)
        block_id = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                sd_prob = stochastic_depth_prob * block_id / (total_blocks - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                block_id += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:  # downsampling between stages
                layers.append(nn.Sequential(norm_layer(cnf.input_channels),
                                            nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1]
        last_channels = last.out_channels if last.out_channels is not None else last.input_channels
        self.classifier = nn.Sequential(norm_layer(last_channels), nn.Flatten(1),
                                        nn.Linear(last_channels, num_classes))

        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        # the kernels thread the blocks themselves: BLAS is held at one thread throughout, since its threads,
        # once woken by a batch-1 convolution, spin for a while and take the cores from the kernel threads
        with _BLAS_HELD():
            return self.classifier(self.avgpool(self.features(x)))


_SETTINGS = {
    "convnext_tiny": ([(96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)], 0.1),
    "convnext_small": ([(96, 192, 3), (192, 384, 3), (384, 768, 27), (768, None, 3)], 0.4),
    "convnext_base": ([(128, 256, 3), (256, 512, 3), (512, 1024, 27), (1024, None, 3)], 0.5),
    "convnext_large": ([(192, 384, 3), (384, 768, 3), (768, 1536, 27), (1536, None, 3)], 0.5),
}


def _define(name, enum_name, title):
    weights_cls = weights_enum(enum_name, __name__)
    stages, default_sd = _SETTINGS[name]

    def construct(weights, progress, **kwargs):
        block_setting = [CNBlockConfig(*s) for s in stages]
        stochastic_depth_prob = kwargs.pop("stochastic_depth_prob", default_sd)
        if weights is not None:
            overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), name)
        model = ConvNeXt(block_setting, stochastic_depth_prob=stochastic_depth_prob, **kwargs)
        if weights is not None:
            model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        return model

    return weights_cls, define_builder(name, title, weights_cls, construct, __name__,
                                       f"stochastic_depth_prob (default {default_sd}) and what ConvNeXt takes "
                                       "(layer_scale, num_classes, block, norm_layer).")


ConvNeXt_Tiny_Weights, convnext_tiny = _define("convnext_tiny", "ConvNeXt_Tiny_Weights", "ConvNeXt-T")
ConvNeXt_Small_Weights, convnext_small = _define("convnext_small", "ConvNeXt_Small_Weights", "ConvNeXt-S")
ConvNeXt_Base_Weights, convnext_base = _define("convnext_base", "ConvNeXt_Base_Weights", "ConvNeXt-B")
ConvNeXt_Large_Weights, convnext_large = _define("convnext_large", "ConvNeXt_Large_Weights", "ConvNeXt-L")
