"""Image transforms with torchvision's names: Compose, ToTensor, Normalize, Resize, CenterCrop, RandomCrop,
RandomHorizontalFlip, RandomRotation, Grayscale, Pad, Lambda.

Images may be Pillow images, NumPy arrays (H, W) or (H, W, C) as datasets return them, or tensors (C, H, W)
as ToTensor returns them; each transform keeps the kind it was given. Random transforms draw from cnnlab's
default generator, so `cnnlab.manual_seed` makes augmentation repeatable. Resizing and rotation use Pillow.
"""
import numbers

import numpy as np

from ..random import rng
from ..tensor import Tensor


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("this transform needs Pillow: pip install Pillow (or pip install 'cnnlab[images]').") from None
    return Image


def _size_pair(size, name):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) in (1, 2):
        return (int(size[0]), int(size[-1]))
    raise ValueError(f"{name}: size must be an int or a (height, width) pair. Got size={size!r}.")


def _as_hwc(img):
    """(array (H, W, C), kind) for any supported image; `_restore` turns it back into that kind."""
    if isinstance(img, Tensor):
        arr = img._data
        if arr.ndim != 3:
            raise ValueError(f"transforms: tensor images must be (C, H, W). Got shape={tuple(arr.shape)}.")
        return arr.transpose(1, 2, 0), "tensor"
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            return img[:, :, None], "hw"
        if img.ndim == 3:
            return img, "hwc"
        raise ValueError(f"transforms: array images must be (H, W) or (H, W, C). Got shape={img.shape}.")
    if hasattr(img, "getbands"):  # a Pillow image
        arr = np.asarray(img)
        return (arr[:, :, None] if arr.ndim == 2 else arr), ("pil", img.mode)
    raise TypeError(f"transforms: expects a Pillow image, an ndarray or a tensor. Got {type(img).__name__}.")


def _restore(arr, kind):
    if kind == "tensor":
        return Tensor._wrap(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    if kind == "hw":
        return np.ascontiguousarray(arr[:, :, 0])
    if kind == "hwc":
        return np.ascontiguousarray(arr)
    return _pil().fromarray(np.ascontiguousarray(arr[:, :, 0] if arr.shape[2] == 1 else arr), mode=None)


def _per_channel_pil(arr, fn):
    """Apply a Pillow operation to each channel of an (H, W, C) array as a float image ('F' mode) and stack."""
    Image = _pil()
    chans = [np.asarray(fn(Image.fromarray(arr[:, :, c].astype(np.float32), mode="F")))
             for c in range(arr.shape[2])]
    out = np.stack(chans, axis=2)
    return np.clip(np.rint(out), 0, 255).astype(arr.dtype) if arr.dtype == np.uint8 else out.astype(arr.dtype)


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, img):
        return self.fn(img)


class ToTensor:
    """Pillow image or (H, W[, C]) array -> float32 tensor (C, H, W); uint8 values are scaled to [0, 1].

    >>> import numpy as np
    >>> ToTensor()(np.full((2, 3), 255, np.uint8)).shape
    cnnlab.Size([1, 2, 3])
    """

    def __call__(self, img):
        arr, kind = _as_hwc(img)
        if kind == "tensor":
            return img
        out = arr.transpose(2, 0, 1).astype(np.float32)  # (C, H, W)
        if arr.dtype == np.uint8:
            out *= 1.0 / 255.0
        return Tensor._wrap(np.ascontiguousarray(out))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean) / std per channel of a (C, H, W) or (N, C, H, W) tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = list(np.atleast_1d(mean)), list(np.atleast_1d(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain zeros. Got std={self.std}.")

    def __call__(self, t):
        if not isinstance(t, Tensor):
            raise TypeError(f"Normalize: expects a tensor (apply ToTensor first). Got {type(t).__name__}.")
        x = t._data
        shape = (-1,) + (1,) * 2
        mean = np.asarray(self.mean, x.dtype).reshape(shape)
        std = np.asarray(self.std, x.dtype).reshape(shape)
        if x.ndim < 3 or x.shape[-3] not in (len(self.mean), 1) and len(self.mean) != 1:
            raise ValueError(f"Normalize: mean/std have {len(self.mean)} channels but the image has shape "
                             f"{tuple(x.shape)}.")
        return Tensor._wrap((x - mean) / std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Resize:
    """Resize to (h, w), or with an int, make the smaller edge that long keeping the aspect ratio
    (bilinear by default, through Pillow)."""

    def __init__(self, size, interpolation="bilinear"):
        self.size = size
        self.interpolation = interpolation

    def _target(self, h, w):
        if isinstance(self.size, numbers.Integral):
            s = int(self.size)
            return (s, max(1, int(s * w / h))) if h <= w else (max(1, int(s * h / w)), s)
        return _size_pair(self.size, "Resize")

    def __call__(self, img):
        arr, kind = _as_hwc(img)
        th, tw = self._target(*arr.shape[:2])
        Image = _pil()
        method = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[self.interpolation]
        return _restore(_per_channel_pil(arr, lambda im: im.resize((tw, th), method)), kind)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation})"


def _crop(arr, top, left, h, w):
    return arr[top:top + h, left:left + w]


class CenterCrop:
    """Crop the centre (h, w) region (padding with zeros if the image is smaller)."""

    def __init__(self, size):
        self.size = _size_pair(size, "CenterCrop")

    def __call__(self, img):
        arr, kind = _as_hwc(img)
        h, w = self.size
        ph, pw = max(h - arr.shape[0], 0), max(w - arr.shape[1], 0)
        if ph or pw:
            arr = np.pad(arr, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
        top = int(round((arr.shape[0] - h) / 2.0))
        left = int(round((arr.shape[1] - w) / 2.0))
        return _restore(_crop(arr, top, left, h, w), kind)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


def _pad(arr, padding, fill=0, mode="constant"):
    if isinstance(padding, numbers.Integral):
        left = top = right = bottom = int(padding)
    elif len(padding) == 2:
        left, top = padding
        right, bottom = padding
    else:
        left, top, right, bottom = padding
    widths = ((top, bottom), (left, right), (0, 0))
    np_mode = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}.get(mode)
    if np_mode is None:
        raise ValueError(f"Pad: padding_mode must be 'constant', 'edge', 'reflect' or 'symmetric'. Got {mode!r}.")
    if np_mode in ("constant", "edge") and min(top, bottom, left, right) >= 0 and arr.shape[0] and arr.shape[1] and \
            (np_mode == "edge" or isinstance(fill, numbers.Real)):
        return _pad_by_slices(arr, top, bottom, left, right, np_mode, fill)
    return np.pad(arr, widths, mode=np_mode, **({"constant_values": fill} if np_mode == "constant" else {}))


def _pad_by_slices(arr, top, bottom, left, right, mode, fill):
    """np.pad's constant and edge modes on an (H, W, C) array, the same values in a few slice copies (np.pad
    costs ~35 us on a 28x28 digit, a quarter of a training sample's time in the demo)."""
    h, w = arr.shape[:2]
    out = np.empty((h + top + bottom, w + left + right) + arr.shape[2:], arr.dtype)
    out[top:top + h, left:left + w] = arr
    if mode == "constant":
        value = np.asarray(fill).astype(arr.dtype)          # np.pad's cast of constant_values
        out[:top], out[top + h:], out[top:top + h, :left], out[top:top + h, left + w:] = value, value, value, value
        return out
    out[:top, left:left + w] = arr[:1]                                  # edge: the first and last rows repeated,
    out[top + h:, left:left + w] = arr[h - 1:]
    out[:, :left] = out[:, left:left + 1]                               # then the first and last columns
    out[:, left + w:] = out[:, left + w - 1:left + w]
    return out


class Pad:
    """Pad the borders: an int for all four, (left/right, top/bottom), or (left, top, right, bottom)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        arr, kind = _as_hwc(img)
        return _restore(_pad(arr, self.padding, self.fill, self.padding_mode), kind)


class RandomCrop:
    """Crop a random (h, w) region, after optional padding (the classic CIFAR augmentation: padding=4)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _size_pair(size, "RandomCrop")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    def __call__(self, img):
        arr, kind = _as_hwc(img)
        if self.padding is not None:
            arr = _pad(arr, self.padding, self.fill, self.padding_mode)
        h, w = self.size
        if self.pad_if_needed and (arr.shape[0] < h or arr.shape[1] < w):
            arr = _pad(arr, (max(w - arr.shape[1], 0), max(h - arr.shape[0], 0)), self.fill, self.padding_mode)
        if arr.shape[0] < h or arr.shape[1] < w:
            raise ValueError(f"RandomCrop: the crop is larger than the image. Got size={self.size}, image size="
                             f"{arr.shape[:2]} (use padding= or pad_if_needed=True).")
        r = rng()
        top = int(r.integers(0, arr.shape[0] - h + 1))
        left = int(r.integers(0, arr.shape[1] - w + 1))
        return _restore(_crop(arr, top, left, h, w), kind)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if rng().random() >= self.p:
            return img
        arr, kind = _as_hwc(img)
        return _restore(arr[:, ::-1], kind)

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability p."""

    def __call__(self, img):
        if rng().random() >= self.p:
            return img
        arr, kind = _as_hwc(img)
        return _restore(arr[::-1], kind)

    def __repr__(self):
        return f"RandomVerticalFlip(p={self.p})"


class RandomRotation:
    """Rotate by an angle drawn uniformly from (-degrees, degrees) (or the given (min, max)), about the centre,
    filling uncovered pixels with `fill`; through Pillow."""

    def __init__(self, degrees, interpolation="nearest", expand=False, fill=0):
        if isinstance(degrees, numbers.Real):
            if degrees < 0:
                raise ValueError(f"RandomRotation: degrees must be non-negative. Got degrees={degrees}.")
            degrees = (-degrees, degrees)
        self.degrees = tuple(float(d) for d in degrees)
        self.interpolation, self.expand, self.fill = interpolation, expand, fill

    def __call__(self, img):
        angle = float(rng().uniform(*self.degrees))
        arr, kind = _as_hwc(img)
        Image = _pil()
        method = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR}[self.interpolation]
        return _restore(_per_channel_pil(arr, lambda im: im.rotate(angle, method, expand=self.expand,
                                                                   fillcolor=self.fill)), kind)

    def __repr__(self):
        return f"RandomRotation(degrees={self.degrees})"


class Grayscale:
    """Convert to gray with ITU-R 601-2 luma weights (0.299 R + 0.587 G + 0.114 B), as Pillow's 'L' mode;
    num_output_channels=3 repeats the gray channel."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels must be 1 or 3. Got {num_output_channels}.")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        arr, kind = _as_hwc(img)
        if arr.shape[2] >= 3:
            gray = arr[:, :, 0] * 0.299 + arr[:, :, 1] * 0.587 + arr[:, :, 2] * 0.114
            gray = np.clip(np.rint(gray), 0, 255).astype(np.uint8) if arr.dtype == np.uint8 else gray.astype(arr.dtype)
            arr = gray[:, :, None]
        arr = np.repeat(arr, self.num_output_channels, axis=2) if self.num_output_channels == 3 else arr[:, :, :1]
        if kind == "hwc" or kind == "hw":
            kind = "hw" if self.num_output_channels == 1 else "hwc"
        return _restore(arr, kind)

    def __repr__(self):
        return f"Grayscale(num_output_channels={self.num_output_channels})"
