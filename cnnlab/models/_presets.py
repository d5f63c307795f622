"""The preprocessing pretrained weights expect (torchvision's ImageClassification preset) and ImageNet's
1,000 class names."""
import functools
import os

import numpy as np

from ..data import transforms as T
from ..tensor import Tensor


@functools.lru_cache(maxsize=None)
def _categories():
    with open(os.path.join(os.path.dirname(__file__), "imagenet_classes.txt"), encoding="utf-8") as f:
        return tuple(line.rstrip("\n") for line in f if line.strip())


def imagenet_categories():
    """The 1,000 ImageNet-1k class names in the order of the classifiers' outputs (a new list each call).

    >>> names = imagenet_categories()
    >>> len(names), names[0], names[207]
    (1000, 'tench', 'golden retriever')
    """
    return list(_categories())


class ImageClassification:
    """Resize the shorter side to resize_size, crop the centre crop_size square, scale to [0, 1] and normalise:
    what ImageNet classifiers expect. Matches torchvision.transforms._presets.ImageClassification.

    Args:
        crop_size (int), resize_size (int, default 256),
        mean (default (0.485, 0.456, 0.406)), std (default (0.229, 0.224, 0.225)),
        interpolation ('bilinear' | 'bicubic' | 'nearest', default 'bilinear'), antialias (accepted, default True).

    Takes a Pillow image, an (H, W, C) uint8 array, or a float tensor (C, H, W) / (N, C, H, W) in [0, 1];
    returns a float32 tensor (3, crop_size, crop_size) (with N first for a batch).

    >>> import numpy as np
    >>> preset = ImageClassification(crop_size=224)
    >>> preset(np.zeros((300, 400, 3), np.uint8)).shape
    cnnlab.Size([3, 224, 224])
    """

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation="bilinear", antialias=True):
        interpolation = str(getattr(interpolation, "value", interpolation)).lower()
        if interpolation not in ("bilinear", "bicubic", "nearest"):
            raise ValueError(f"ImageClassification: interpolation must be 'bilinear', 'bicubic' or 'nearest'. "
                             f"Got interpolation={interpolation!r}.")
        self.crop_size, self.resize_size = [int(crop_size)], [int(resize_size)]
        self.mean, self.std = list(mean), list(std)
        self.interpolation, self.antialias = interpolation, antialias
        self._resize = T.Resize(self.resize_size[0], interpolation)
        self._rest = T.Compose([T.CenterCrop(self.crop_size[0]), T.ToTensor(), T.Normalize(self.mean, self.std)])

    def __call__(self, img):
        if isinstance(img, Tensor) and img.ndim == 4:  # a batch: each image on its own
            return Tensor._wrap(np.stack([self(Tensor._wrap(im))._data for im in img._data]))
        if isinstance(img, Tensor):
            img = Tensor._wrap(np.asarray(img._data, np.float32))
        if hasattr(img, "getbands"):
            # a Pillow image is resized by Pillow in its own mode, as torchvision does (8-bit bicubic clips
            # between its two passes, so resizing each channel as float would differ by a few levels)
            from PIL import Image  # (optional dependency: only reached with a Pillow image in hand)
            short, long = sorted((img.height, img.width))
            size = (self.resize_size[0], int(self.resize_size[0] * long / short))  # torchvision's rounding
            h, w = size if img.height <= img.width else size[::-1]
            img = img.resize((w, h), Image.Resampling[self.interpolation.upper()])
        else:
            img = self._resize(img)
        return self._rest(img)

    def __repr__(self):
        return (f"ImageClassification(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}\n"
                f"    mean={self.mean}\n    std={self.std}\n    interpolation=InterpolationMode."
                f"{self.interpolation.upper()}\n)")

    def describe(self):
        return (f"Accepts Pillow images, (H, W, C) uint8 arrays and (C, H, W) or (N, C, H, W) float tensors. The "
                f"images are resized to resize_size={self.resize_size} using interpolation={self.interpolation}, "
                f"followed by a central crop of crop_size={self.crop_size}. Finally the values are first rescaled "
                f"to [0.0, 1.0] and then normalized using mean={self.mean} and std={self.std}.")
