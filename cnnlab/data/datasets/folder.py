"""ImageFolder: one sub-folder per class, images decoded with Pillow."""
import os

import numpy as np

from ..dataset import Dataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


PILLOW_MISSING = ("{who}: reading images needs Pillow, which is not installed: "
                  "pip install 'cnnlab[images]' (or pip install Pillow)")


def require_pillow(who):
    """The PIL.Image module, or an ImportError whose one-line message says how to install Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(PILLOW_MISSING.format(who=who), name="PIL") from None
    return Image


def open_image(path, who="open_image"):
    """Open and decode an image file with Pillow, turned upright by its EXIF orientation (phone photos), with
    an error that names the file when it is missing, a folder, or not an image Pillow can read."""
    Image = require_pillow(who)
    from PIL import ImageOps, UnidentifiedImageError
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{who}: expected an image file, got the folder {path}.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{who}: no such image file: {path}.")
    try:
        img = Image.open(path)
        if img.mode in ("RGB", "L") and getattr(img, "format", None) == "JPEG":
            img.draft(img.mode, (1024, 1024))  # decode big JPEG photos at a reduced scale (fast, little memory)
        img.load()
        return ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        kind = "not an image Pillow can read" if isinstance(e, UnidentifiedImageError) else type(e).__name__
        detail = "" if isinstance(e, UnidentifiedImageError) else f": {e}"
        raise ValueError(f"{who}: cannot read the image {path} ({kind}{detail}).") from None


def is_wide(img):
    """Whether a Pillow image holds one channel of 16-bit, 32-bit integer or float pixels."""
    return img.mode in ("I", "F") or img.mode.startswith("I;16")


def wide_to_255(img):
    """The pixels of a 16-bit, 32-bit or float image as a float array on the 0..255 scale: 16-bit values divided
    by 257, floats in [0, 1] multiplied by 255, other ranges divided by max/255; 8-bit ranges kept.

    >>> import numpy as np
    >>> from PIL import Image
    >>> wide_to_255(Image.fromarray(np.array([[0, 257, 65535]], np.uint16))).tolist()
    [[0.0, 1.0, 255.0]]
    """
    a = np.asarray(img, dtype=np.float64)
    top = a.max(initial=0.0)
    if img.mode == "F" and 0 < top <= 1.0:
        return a * 255.0
    return a / (257.0 if img.mode.startswith("I;16") or 255 < top <= 65535 else max(top / 255.0, 1.0))


def rgb_image(img):
    """A Pillow image as 8-bit RGB: 16-bit and float images scaled to 0..255, transparent pixels composited on
    white. (torchvision's loader drops the alpha channel instead, which shows whatever colour the transparent
    pixels happen to hold; for images without transparency the two agree.)

    >>> from PIL import Image
    >>> rgb_image(Image.new("RGBA", (1, 1), (255, 0, 0, 0))).getpixel((0, 0))  # transparent red: white
    (255, 255, 255)
    """
    Image = require_pillow("rgb_image")
    if is_wide(img):
        img = Image.fromarray(np.clip(np.rint(wide_to_255(img)), 0, 255).astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return img.convert("RGB")


def pil_loader(path):
    """Open an image file as an RGB Pillow image (see rgb_image), upright by its EXIF orientation, with an
    error that names the file when it can't."""
    return rgb_image(open_image(path, "ImageFolder"))


class ImageFolder(Dataset):
    """Images arranged as root/<class>/<image>; classes are the sorted folder names, labels their index.

    Args:
        root (str), transform, target_transform (callable, default None),
        loader (callable, default: Pillow, RGB), is_valid_file (callable, default: by extension),
        allow_empty (bool, default False): accept class folders without any image.

    Attributes: classes, class_to_idx, samples [(path, label)], targets.

    Raises:
        FileNotFoundError: root is missing or has no class folders, or (unless allow_empty) a class folder
            holds no image; the message is torchvision's ("Found no valid file for the classes ...").

    Matches torchvision.datasets.ImageFolder (its classes, order of samples, labels and errors).
    """

    def __init__(self, root, transform=None, target_transform=None, loader=None, is_valid_file=None,
                 extensions=IMG_EXTENSIONS, allow_empty=False):
        self.root = os.fspath(root)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"ImageFolder: no such folder. Got root={self.root!r}.")
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: {self.root} has no class sub-folders (expected root/<class>/<img>).")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        valid = is_valid_file or (lambda p: p.lower().endswith(tuple(extensions)))
        self.samples = []
        for c in self.classes:
            for folder, _, files in sorted(os.walk(os.path.join(self.root, c), followlinks=True)):
                self.samples += [(os.path.join(folder, f), self.class_to_idx[c]) for f in sorted(files)
                                 if valid(os.path.join(folder, f))]
        empty = sorted(set(self.classes) - {self.classes[t] for _, t in self.samples})
        if empty and not allow_empty:  # an N-class model for N-1 classes of images would train silently
            known = "" if is_valid_file else f"Supported extensions are: {', '.join(extensions)}"
            raise FileNotFoundError(f"Found no valid file for the classes {', '.join(empty)}. {known}"
                                    f"{' ' if known else ''}(in {self.root}).")
        self.targets = [t for _, t in self.samples]
        self.imgs = self.samples
        self.loader = loader or pil_loader
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        img = self.loader(path)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
