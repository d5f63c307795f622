"""Data given by name on the command line: 'mnist-sample', 'mnist:DIR', 'fashion-mnist:DIR', 'cifar10:DIR',
'folder:DIR'. Each becomes normalised float32 tensors (or a transformed ImageFolder) plus what the predict
command needs to prepare a new image the same way (channels, size, mean, std, class names)."""
import os

import numpy as np

from ..tensor import Tensor
from .dataset import Subset, TensorDataset, TransformedDataset, random_split
from .datasets import CIFAR10, MNIST, FashionMNIST, ImageFolder, MNISTSample
from . import transforms as T

SPECS = ("mnist-sample", "mnist:DIR", "fashion-mnist:DIR", "cifar10:DIR", "folder:DIR")
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def _normalised(images_uint8_nchw, mean, std):
    x = images_uint8_nchw.astype(np.float32) / np.float32(255.0)
    x -= np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
    x /= np.asarray(std, np.float32).reshape(1, -1, 1, 1)
    return Tensor._wrap(x)


def _mnist_like(ds_train, ds_test, classes):
    info = {"channels": 1, "size": [28, 28], "mean": list(MNIST_MEAN), "std": list(MNIST_STD), "classes": classes,
            "invert_light_background": True}
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


def load_spec(spec, image_size=None, seed=0, augment=False):
    """(train dataset, validation dataset, info dict) for a data spec (see SPECS); augment=True wraps the
    training set with `augmentation(info)`."""
    train, val, info = _load(spec, image_size, seed)
    if augment:
        train = TransformedDataset(train, augmentation(info))
    return train, val, info


def _load(spec, image_size, seed):
    kind, _, folder = spec.partition(":")
    if kind == "mnist-sample":
        return _mnist_like(MNISTSample(train=True), MNISTSample(train=False), [str(i) for i in range(10)])
    if kind in ("mnist", "fashion-mnist") and folder:
        cls = MNIST if kind == "mnist" else FashionMNIST
        return _mnist_like(cls(folder, train=True), cls(folder, train=False), list(cls.classes))
    if kind == "cifar10" and folder:
        tr, te = CIFAR10(folder, train=True), CIFAR10(folder, train=False)
        info = {"channels": 3, "size": [32, 32], "mean": list(CIFAR_MEAN), "std": list(CIFAR_STD),
                "classes": list(CIFAR10.classes), "invert_light_background": False}
        make = lambda ds: TensorDataset(_normalised(ds.data.transpose(0, 3, 1, 2), CIFAR_MEAN, CIFAR_STD),  # noqa: E731
                                        Tensor._wrap(np.asarray(ds.targets, np.int64)))
        return make(tr), make(te), info
    if kind == "folder" and folder:
        return _folder(folder, image_size or 64, seed)
    raise ValueError(f"unknown data spec {spec!r}; expected one of {', '.join(SPECS)}.")


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
        from ..random import Generator
        train, val = random_split(full, [0.8, 0.2], generator=Generator().manual_seed(seed))
    base = train.dataset if isinstance(train, Subset) else train
    info["classes"] = list(base.classes)
    return train, val, info


def prepare_image(path, info):
    """An image file as a (1, C, H, W) tensor, prepared like the training data: channels, size, [0, 1] scale,
    normalisation, and for digit models a light background inverted to MNIST's white-on-black."""
    from .datasets.folder import pil_loader
    img = pil_loader(path)
    img = T.Grayscale(1)(img) if info["channels"] == 1 else img
    arr = np.asarray(T.Resize(tuple(info["size"]))(np.asarray(img)))
    arr = arr if arr.ndim == 3 else arr[:, :, None]
    if info.get("invert_light_background"):
        border = np.concatenate([arr[0].ravel(), arr[-1].ravel(), arr[:, 0].ravel(), arr[:, -1].ravel()])
        if border.mean() > 127:
            arr = 255 - arr
    x = _normalised(arr.transpose(2, 0, 1)[None], info["mean"], info["std"])
    return x
