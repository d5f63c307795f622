"""Data given by name on the command line: 'mnist-sample', 'mnist:DIR', 'fashion-mnist:DIR', 'cifar10:DIR',
'folder:DIR'. Each becomes normalised float32 tensors (or a transformed ImageFolder) plus what the predict
command needs to prepare a new image the same way (channels, size, mean, std, class names)."""
import os

import numpy as np

from ..random import Generator
from ..tensor import Tensor
from . import transforms as T
from .dataset import Subset, TensorDataset, TransformedDataset, random_split
from .datasets import CIFAR10, FashionMNIST, ImageFolder, MNIST, MNISTSample
from .datasets.folder import is_wide, open_image, require_pillow, rgb_image, wide_to_255

SPECS = ("mnist-sample", "mnist:DIR", "fashion-mnist:DIR", "cifar10:DIR", "folder:DIR")
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def _normalised(images_uint8_nchw, mean, std):
    x = images_uint8_nchw.astype(np.float32) / np.float32(255.0)
    x -= np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
    x /= np.asarray(std, np.float32).reshape(1, -1, 1, 1)
    return Tensor._wrap(x)


def _mnist_like(ds_train, ds_test, classes, fit):
    info = {"channels": 1, "size": [28, 28], "mean": list(MNIST_MEAN), "std": list(MNIST_STD), "classes": classes,
            "invert_light_background": True, "fit": fit}
    make = lambda ds: TensorDataset(_normalised(ds.data._data[:, None], MNIST_MEAN, MNIST_STD), ds.targets)  # noqa: E731
    return make(ds_train), make(ds_test), info


def augmentation(info):
    """The training augmentation for a dataset: random shifts of up to 1/14 of the image (2 pixels on
    MNIST) with edge replication, plus horizontal flips for natural images."""
    shift = max(1, info["size"][0] // 14)
    steps = [T.RandomCrop(info["size"], padding=shift, padding_mode="edge")]
    if info["channels"] == 3:
        steps.append(T.RandomHorizontalFlip())
    return T.Compose(steps)


def load_spec(spec, image_size=None, seed=0, augment=False, download=False):
    """(train dataset, validation dataset, info dict) for a data spec (see SPECS); augment=True wraps the
    training set with `augmentation(info)`; download=True fetches missing MNIST, Fashion-MNIST or CIFAR-10
    files into the spec's folder."""
    train, val, info = _load(spec, image_size, seed, download)
    if augment:
        train = TransformedDataset(train, augmentation(info))
    return train, val, info


KINDS = {"mnist-sample": False, "mnist": True, "fashion-mnist": True, "cifar10": True, "folder": True}


def parse_spec(spec):
    """(kind, folder) of a data spec, checked before anything is read: a known kind, a folder where the kind
    needs one, and that folder existing.

    >>> parse_spec("mnist-sample")
    ('mnist-sample', '')
    >>> parse_spec("cifar10")
    Traceback (most recent call last):
    ...
    ValueError: data: cifar10 needs the folder that holds the files, as cifar10:DIR. Got 'cifar10'.
    """
    kind, sep, folder = str(spec).partition(":")
    if kind not in KINDS:
        raise ValueError(f"data: unknown data spec {spec!r}; expected one of {', '.join(SPECS)}.")
    if KINDS[kind] and not folder:
        raise ValueError(f"data: {kind} needs the folder that holds the files, as {kind}:DIR. Got {spec!r}.")
    if not KINDS[kind] and sep:
        raise ValueError(f"data: {kind} is bundled with cnnlab and takes no folder. Got {spec!r}.")
    if folder and not os.path.isdir(folder):
        raise FileNotFoundError(f"data: no such folder {folder!r} (in {spec!r}).")
    return kind, folder


def _load(spec, image_size, seed, download=False):
    kind, folder = parse_spec(spec)
    if kind == "mnist-sample":
        return _mnist_like(MNISTSample(train=True), MNISTSample(train=False), [str(i) for i in range(10)], "digit")
    if kind in ("mnist", "fashion-mnist"):
        cls = MNIST if kind == "mnist" else FashionMNIST
        return _mnist_like(cls(folder, train=True, download=download), cls(folder, train=False, download=download),
                           list(cls.classes),
                           "digit" if kind == "mnist" else "object")
    if kind == "cifar10":
        tr, te = CIFAR10(folder, train=True, download=download), CIFAR10(folder, train=False, download=download)
        info = {"channels": 3, "size": [32, 32], "mean": list(CIFAR_MEAN), "std": list(CIFAR_STD),
                "classes": list(CIFAR10.classes), "invert_light_background": False}
        make = lambda ds: TensorDataset(_normalised(ds.data.transpose(0, 3, 1, 2), CIFAR_MEAN, CIFAR_STD),  # noqa: E731
                                        Tensor._wrap(np.asarray(ds.targets, np.int64)))
        return make(tr), make(te), info
    return _folder(folder, image_size or 64, seed)


def _folder(folder, size, seed):
    """folder/train and folder/val (or test) if present, else one folder split 80/20 at random."""
    info = {"channels": 3, "size": [size, size], "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
            "invert_light_background": False}
    tf = T.Compose([T.Resize((size, size)), T.ToTensor(), T.Normalize(info["mean"], info["std"])])
    parts = {p: os.path.join(folder, p) for p in ("train", "val", "test") if os.path.isdir(os.path.join(folder, p))}
    if "train" in parts and ("val" in parts or "test" in parts):
        train = ImageFolder(parts["train"], transform=tf)
        val = ImageFolder(parts.get("val", parts.get("test")), transform=tf)
    else:
        full = ImageFolder(folder, transform=tf)
        train, val = random_split(full, [0.8, 0.2], generator=Generator().manual_seed(seed))
    base = train.dataset if isinstance(train, Subset) else train
    info["classes"] = list(base.classes)
    val_classes = list((val.dataset if isinstance(val, Subset) else val).classes)
    if val_classes != info["classes"]:
        raise ValueError(f"data: the training and validation folders of {folder} must hold the same class "
                         f"sub-folders. Got {info['classes']} and {val_classes}.")
    if len(info["classes"]) < 2:
        raise ValueError(f"data: a classifier needs at least two classes (one sub-folder each) in {folder}. "
                         f"Got {info['classes']}.")
    if len(val) == 0:
        raise ValueError(f"data: no images left for validation in {folder} ({len(train)} in all; the 80/20 split "
                         f"needs at least 5, or give {folder}/train and {folder}/val).")
    return train, val, info


def prepare_image(path, info):
    """An image file as a (1, C, H, W) float32 tensor, prepared the way the training data was (see
    `training_pixels`), then normalised with the data's mean and std."""
    arr = training_pixels(open_image(path, "predict"), info)  # (H, W, C) uint8
    return _normalised(arr.transpose(2, 0, 1)[None], info["mean"], info["std"])


# ---- a person's image -> the training data's pixels ------------------------------------------------------------
def training_pixels(img, info):
    """A Pillow image as the (H, W, C) uint8 pixels the model was trained on (info from load_spec).

    - Colour models: RGB as ImageFolder loads it (16-bit scaled, transparency composited on white), resized
      to info['size'] (bilinear), exactly like folder: training images.
    - Gray models: 16-bit and float images scaled to 0..255, transparency (RGBA, LA, palette with a transparent
      colour) composited on the colour that contrasts with the ink (dark strokes on a transparent background
      get white paper, light strokes get black), then luma (0.299 R + 0.587 G + 0.114 B).
    - `invert_light_background`: a light border means dark ink on paper, inverted to MNIST's light on dark.
    - fit='digit' (MNIST's own preparation): background level removed, the strokes cropped, widened when the
      shrinking would thin them below MNIST's 2-pixel pen, scaled to fit a 20x20 box (5/7 of the side)
      keeping the aspect ratio, placed with their centre of mass at the centre.
      fit='object' (Fashion-MNIST): cropped, longer side scaled to the full size, centred.
      Otherwise the whole image is resized to info['size'] (bilinear), as folder: training data is.

    >>> from PIL import Image, ImageDraw
    >>> page = Image.new("L", (300, 200), 255)                    # white paper, a black stroke off-centre
    >>> ImageDraw.Draw(page).line([(40, 30), (60, 150)], fill=0, width=12)
    >>> _, _, info = load_spec("mnist-sample")
    >>> x = training_pixels(page, info)[:, :, 0]
    >>> x.shape, int(x.max()), int(x[0].max())                    # white stroke on black, 20 rows tall
    ((28, 28), 255, 0)
    >>> int((x > 64).any(axis=1).sum())
    20
    """
    Image = _pil_image()
    h, w = info["size"]
    if info["channels"] == 3:  # exactly as folder: training images are loaded and resized
        return np.asarray(T.Resize((h, w))(rgb_image(img)))
    rgb, alpha = _float_pixels(img, Image)  # (H, W, 3) or (H, W, 1) in 0..255, alpha (H, W) in 0..1 or None
    if alpha is not None:
        ink = _luma(rgb)
        background = 255.0 if (ink * alpha).sum() <= 127.5 * max(alpha.sum(), 1e-9) else 0.0
        rgb = rgb * alpha[:, :, None] + background * (1.0 - alpha[:, :, None])
    x = _luma(rgb)[:, :, None]
    if info.get("invert_light_background"):
        border = np.concatenate([x[0].ravel(), x[-1].ravel(), x[:, 0].ravel(), x[:, -1].ravel()])
        if border.mean() > 127.5:
            x = 255.0 - x
    fit = info.get("fit")
    if fit in ("digit", "object"):
        x = _fit_strokes(x[:, :, 0], (h, w), fit, Image)[:, :, None]
    else:
        x = _resize(x[:, :, 0], (h, w), Image, Image.BILINEAR)[:, :, None]
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _pil_image():
    return require_pillow("predict")


def _luma(rgb):
    if rgb.shape[2] == 1:
        return rgb[:, :, 0]
    return rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114


def _float_pixels(img, Image, max_side=1024):
    """(colour (H, W, 3 or 1) float32 0..255, alpha (H, W) float32 0..1 or None) for a gray model; big images
    shrunk first."""
    if is_wide(img):
        img = Image.fromarray(wide_to_255(img).astype(np.float32), mode="F")
    elif img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
        img = img.convert("RGBA")
    elif img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    if max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float32)
    a = a[:, :, None] if a.ndim == 2 else a
    if a.shape[2] == 4:
        return a[:, :, :3], (a[:, :, 3] / 255.0 if a[:, :, 3].min() < 255 else None)
    return a, None


def _resize(plane, size, Image, method):
    """One float plane (H, W) resized to size (h, w) through Pillow's 'F' mode (antialiased when shrinking)."""
    h, w = size
    return np.asarray(Image.fromarray(np.ascontiguousarray(plane, np.float32), mode="F").resize((w, h), method))


def _fit_strokes(x, size, fit, Image):
    """MNIST's preparation of a light-on-dark gray image (H, W) into `size`; see training_pixels."""
    h, w = size
    if fit == "digit":  # remove the paper's gray level and stretch the ink to full white
        level = np.median(np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]]))
        top = x.max()
        if top - level > 8:
            x = np.clip((x - level) / (top - level), 0.0, 1.0) * 255.0
    if x.max() <= 0:  # a blank image: nothing to crop
        return _resize(x, size, Image, Image.BILINEAR)
    ink = x > 0.2 * x.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    x = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    box_h, box_w = (round(h * 20 / 28), round(w * 20 / 28)) if fit == "digit" else (h, w)
    scale = min(box_h / x.shape[0], box_w / x.shape[1])
    sh, sw = max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale))
    if fit == "digit":
        x = _thicken(x, scale)
    x = np.clip(_resize(x, (sh, sw), Image, Image.LANCZOS), 0.0, 255.0)
    if fit == "digit":
        total = x.sum()
        cy = (x.sum(axis=1) * np.arange(sh)).sum() / total if total > 0 else (sh - 1) / 2
        cx = (x.sum(axis=0) * np.arange(sw)).sum() / total if total > 0 else (sw - 1) / 2
        top, left = round(h / 2 - cy), round(w / 2 - cx)  # MNIST: the centre of mass at pixel (14, 14)
    else:
        top, left = (h - sh) // 2, (w - sw) // 2
    top, left = min(max(top, 0), h - sh), min(max(left, 0), w - sw)
    out = np.zeros((h, w), np.float32)
    out[top:top + sh, left:left + sw] = x
    return out


def _stroke_width(x):
    """Mean stroke width in pixels of a light-on-dark drawing: twice the ink area over its outline length
    (a stroke of length L and width w has area L*w and an outline of about 2L)."""
    ink = x > 0.5 * x.max()
    inner = ink.copy()
    inner[1:] &= ink[:-1]
    inner[:-1] &= ink[1:]
    inner[:, 1:] &= ink[:, :-1]
    inner[:, :-1] &= ink[:, 1:]
    inner[[0, -1]] = False
    inner[:, [0, -1]] = False
    outline = int(ink.sum() - inner.sum())
    return 2.0 * ink.sum() / max(outline, 1)


def _thicken(x, scale, target=2.0):
    """Widen strokes that shrinking by `scale` would thin below `target` pixels (MNIST's pen is 2-3 pixels
    wide): a pen drawing on a big canvas would otherwise arrive as a faint hairline. Gray dilation (a square
    maximum filter), done as running maxima along rows then columns."""
    if scale >= 1:
        return x
    width = _stroke_width(x)
    grow = int(np.ceil(target / scale - width))
    if width * scale >= 0.75 * target or grow < 1:
        return x
    before, after = grow // 2, grow - grow // 2
    for axis in (0, 1):
        padded = np.pad(x, [(before, after) if a == axis else (0, 0) for a in (0, 1)])
        out = padded[tuple(slice(0, x.shape[a]) if a == axis else slice(None) for a in (0, 1))].copy()
        for k in range(1, grow + 1):
            np.maximum(out, padded[tuple(slice(k, k + x.shape[a]) if a == axis else slice(None) for a in (0, 1))],
                       out=out)
        x = out
    return x
