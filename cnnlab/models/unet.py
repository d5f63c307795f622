"""U-Net (Ronneberger, Fischer & Brox, 2015): a contracting path of 3x3 convolutions and 2x2 max pools, an
expanding path of 2x2 up-convolutions, and skip connections that crop the encoder's maps and concatenate them.

With padding=0 and the defaults it is the paper's network: 23 convolutions, a 572x572 tile giving a 388x388
map. With padding=1 every convolution keeps the size, so the output has the input's size.
"""
from .. import nn
from ..errors import ShapeError
from ..ops.shape import cat
from .registry import register_model

__all__ = ["UNet", "unet"]


class DoubleConv(nn.Sequential):
    """(3x3 convolution [+ batch norm] + ReLU) twice."""

    def __init__(self, in_channels, out_channels, padding=0, batch_norm=False):
        layers = []
        for c_in in (in_channels, out_channels):
            layers.append(nn.Conv2d(c_in, out_channels, kernel_size=3, padding=padding, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class UNet(nn.Module):
    """U-Net for segmentation: per-pixel class scores.

    Args:
        in_channels (int, default 1), num_classes (int, default 2): input channels and output maps.
        base_channels (int, default 64): channels of the first level; each level down doubles them.
        depth (int, default 4): the number of 2x2 poolings (and of up-convolutions).
        padding (0 or 1, default 0): 0 is the paper's unpadded convolutions (the output is smaller than the
            input: 572 -> 388); 1 keeps sizes (the output has the input's size).
        batch_norm (bool, default False): batch norm after each 3x3 convolution (not in the paper).
        bilinear (bool, default False): bilinear upsampling then a 1x1 convolution halving the channels, instead
            of the paper's 2x2 up-convolution (transposed convolution).

    Shape: (N, in_channels, H, W) -> (N, num_classes, H', W'), H' = W' = output_size(H) (H with padding=1).
        Each pooled map must have an even size: with padding=1, H and W divisible by 2**depth; with padding=0,
        sizes such as 572 (valid_sizes lists them).

    >>> import cnnlab
    >>> net = UNet(in_channels=1, num_classes=2, base_channels=8, depth=2, padding=1)
    >>> net(cnnlab.zeros(1, 1, 32, 32)).shape
    cnnlab.Size([1, 2, 32, 32])
    >>> UNet().output_size(572)
    388
    """

    def __init__(self, in_channels=1, num_classes=2, base_channels=64, depth=4, padding=0, batch_norm=False,
                 bilinear=False):
        super().__init__()
        for name, value, low in (("in_channels", in_channels, 1), ("num_classes", num_classes, 1),
                                 ("base_channels", base_channels, 1), ("depth", depth, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"UNet: {name} must be an integer >= {low}. Got {name}={value!r}.")
        if padding not in (0, 1):
            raise ValueError(f"UNet: padding must be 0 (the paper's valid convolutions) or 1 (same size). "
                             f"Got padding={padding!r}.")
        self.depth, self.padding = depth, padding
        widths = [base_channels * 2 ** i for i in range(depth + 1)]  # 64, 128, 256, 512, 1024
        self.encoder = nn.ModuleList([DoubleConv(in_channels, widths[0], padding, batch_norm)] +
                                     [DoubleConv(widths[i], widths[i + 1], padding, batch_norm) for i in range(depth)])
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.up = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for i in reversed(range(depth)):  # from the bottom up: widths[i + 1] -> widths[i]
            if bilinear:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                             nn.Conv2d(widths[i + 1], widths[i], kernel_size=1)))
            else:
                self.up.append(nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size=2, stride=2))
            self.decoder.append(DoubleConv(2 * widths[i], widths[i], padding, batch_norm))
        self.head = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    def output_size(self, size):
        """The output's height (or width) for an input of that size, or None where the size is not valid."""
        shrink = 0 if self.padding else 4  # two unpadded 3x3 convolutions remove 4 pixels
        for _ in range(self.depth):
            size -= shrink
            if size <= 0 or size % 2:
                return None
            size //= 2
        size -= shrink
        if size <= 0:
            return None
        for _ in range(self.depth):
            size = 2 * size - shrink
        return size if size > 0 else None

    def valid_sizes(self, below, above):
        """The valid input sizes in [below, above]."""
        return [s for s in range(max(1, below), above + 1) if self.output_size(s) is not None]

    def _check_input(self, x):
        if x.ndim != 4 or x.shape[1] != self.encoder[0][0].in_channels:
            raise ShapeError(f"UNet: input must be (N, {self.encoder[0][0].in_channels}, H, W). "
                             f"Got input.shape={tuple(x.shape)}.")
        for name, size in (("H", x.shape[2]), ("W", x.shape[3])):
            if self.output_size(size) is None:
                # Valid sizes repeat every 2**depth, but unpadded nets have a smallest one (188 at depth 4), which
                # may lie far above a small input: search upwards until one is found.
                lower = self.valid_sizes(size - 2 ** (self.depth + 3), size)
                upper, reach = [], 2 ** (self.depth + 3)
                while not upper and reach <= 2 ** 24:
                    upper, reach = self.valid_sizes(size, size + reach), 2 * reach
                nearest = ", ".join(str(s) for s in ([lower[-1]] if lower else []) + ([upper[0]] if upper else []))
                rule = ("divisible by 2**depth" if self.padding else
                        "such that every map before a 2x2 pooling has an even size, after its two unpadded 3x3 "
                        "convolutions")
                raise ShapeError(f"UNet: input size must be {rule}. Got {name}={size} with depth={self.depth}, "
                                 f"padding={self.padding}; nearest valid sizes: {nearest}.")

    def forward(self, x):
        self._check_input(x)
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x)
            if i < self.depth:
                skips.append(x)
                x = self.pool(x)
        for up, block, skip in zip(self.up, self.decoder, reversed(skips)):
            x = up(x)                                   # (N, C/2, 2h, 2w)
            top = (skip.shape[2] - x.shape[2]) // 2     # crop the encoder's map to the centre (the paper's
            left = (skip.shape[3] - x.shape[3]) // 2    # grey arrows); 0 with padding=1
            skip = skip[:, :, top:top + x.shape[2], left:left + x.shape[3]]
            x = block(cat([skip, x], 1))                # (N, C, 2h, 2w) -> (N, C/2, ...)
        return self.head(x)


@register_model("unet", "U-Net (Ronneberger et al., 2015) for segmentation: 1x572x572 tile -> 2x388x388 map",
                (1, 572, 572))
def unet(in_channels=1, num_classes=2, base_channels=64, depth=4, padding=0, batch_norm=False, bilinear=False):
    """U-Net (see UNet). The defaults are the paper's network: 23 convolutions, 572x572 -> 388x388."""
    return UNet(in_channels=in_channels, num_classes=num_classes, base_channels=base_channels, depth=depth,
                padding=padding, batch_norm=batch_norm, bilinear=bilinear)
