"""MNIST and Fashion-MNIST from the standard IDX files (raw or .gz), validated before use.

IDX: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then one big-endian
uint32 per dimension, then the data. Images files have magic 0x00000803 (2051), labels 0x00000801 (2049).
"""
import gzip
import os

import numpy as np

from ...errors import DataError
from ...tensor import Tensor
from ..dataset import Dataset
from .download import fetch

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


class IDXError(DataError):
    """An IDX file that is not what it should be (wrong magic number, truncated, counts that disagree)."""


def _open_bounded(path):
    """(reader, largest size the contents can honestly have): raw bytes are their own size; gzip's deflate
    inflates at most 1032:1, a bound on what a crafted .gz can make us hold."""
    size = os.path.getsize(path)
    if path.endswith(".gz"):
        return gzip.open(path, "rb"), 1032 * size + 1024
    return open(path, "rb"), size


def read_idx(path, expected_magic):
    """The array stored in an IDX file (optionally gzipped), after checking its header against its size.

    Raises IDXError (a DataError) naming the file when it is unreadable (a corrupt or truncated gzip stream),
    has the wrong magic number, or holds more or fewer bytes than its header says.
    """
    path = os.fspath(path)
    kind = "images" if expected_magic == IMAGES_MAGIC else "labels"
    try:
        reader, bound = _open_bounded(path)
        with reader as f:
            head = f.read(4)
            if len(head) == 4 and int.from_bytes(head, "big") != expected_magic:
                raise IDXError(f"read_idx: wrong magic number in {path}: expected {expected_magic} ({kind}), got "
                               f"{int.from_bytes(head, 'big')}. Is it the right file?")
            ndim = head[3] if len(head) == 4 else 0
            head += f.read(4 * ndim)
            if len(head) < 4 + 4 * ndim:
                raise IDXError(f"read_idx: {path} is too short to be an IDX file ({len(head)} bytes). Expected a "
                               f"4-byte magic number and one 4-byte size per dimension.")
            dims = [int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            need = int(np.prod(dims, dtype=object))
            if need > bound:
                raise IDXError(f"read_idx: {path}'s header ({dims}) needs {need} bytes of data, more than a file of "
                               f"{os.path.getsize(path)} bytes can hold. Expected an MNIST-style IDX file.")
            data = f.read(need + 1)  # one byte more tells a file that is too long
    except IDXError:
        raise
    except Exception as e:  # BadGzipFile, EOFError, zlib.error from a corrupt or truncated .gz; OSError
        raise IDXError(f"read_idx: cannot read {path} ({type(e).__name__}: {e}). Expected a complete "
                       f"{'gzip-compressed ' if path.endswith('.gz') else ''}IDX file; download it again.") from None
    if len(data) < need:
        raise IDXError(f"read_idx: {path} has {len(head) + len(data)} bytes but its header ({dims}) needs "
                       f"{len(head) + need}; the file is truncated.")
    if len(data) > need:
        raise IDXError(f"read_idx: {path} has more than the {len(head) + need} bytes its header ({dims}) needs; "
                       "the file is longer than it should be.")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def check_labels(labels, n_classes, path, op):
    """DataError naming the file, the first label outside [0, n_classes) and its position."""
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{op}: labels must lie in [0, {n_classes - 1}]. Got label {int(labels[i])} at index {i} of "
                        f"{path} ({bad.size} labels out of range).")


class MNIST(Dataset):
    """The MNIST digits: 60,000 training and 10,000 test 28x28 gray images with labels 0-9.

    Args:
        root (str): folder holding `MNIST/raw/` (or the four files directly).
        train (bool, default True): the training or the test set.
        transform, target_transform (callable, default None): applied to each image / label.
        download (bool, default False): fetch the files (checked by MD5) when they are missing.

    Items are (image, label): image a uint8 array (28, 28) (ToTensor turns it into (1, 28, 28) floats),
    label an int. `.data` (uint8 tensor (N, 28, 28)) and `.targets` (int64 tensor) hold everything at once.
    """

    mirror = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = [f"{i} - {n}" for i, n in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven",
                                                   "eight", "nine"])]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root, self.train = os.fspath(root), train
        self.transform, self.target_transform = transform, target_transform
        self.raw_folder = os.path.join(self.root, type(self).__name__, "raw")
        prefix = "train" if train else "t10k"
        images = self._find(f"{prefix}-images-idx3-ubyte", download)
        labels = self._find(f"{prefix}-labels-idx1-ubyte", download)
        x, y = read_idx(images, IMAGES_MAGIC), read_idx(labels, LABELS_MAGIC)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise IDXError(f"{type(self).__name__}: images and labels disagree: {images} holds shape {x.shape}, "
                           f"{labels} holds shape {y.shape} (expected (N, H, W) and (N,) with the same N).")
        if 0 in x.shape[1:]:
            raise IDXError(f"{type(self).__name__}: images must have a height and width of at least 1. Got shape "
                           f"{x.shape} in {images}.")
        check_labels(y, len(self.classes), labels, type(self).__name__)
        self.data = Tensor._wrap(np.array(x))
        self.targets = Tensor._wrap(y.astype(np.int64))

    def _hint(self):
        return (f"{self.raw_folder}/ (the files {', '.join(n for n, _ in self.resources)}, from "
                f"{self.mirror}; gzipped or not)")

    def _find(self, stem, download):
        for folder in (self.raw_folder, self.root):
            for name in (stem, stem + ".gz"):
                path = os.path.join(folder, name)
                if os.path.exists(path):
                    return path
        if not download:
            raise FileNotFoundError(f"{type(self).__name__}: {stem}[.gz] not found. Pass download=True, or put the "
                                    f"files in {self._hint()}")
        name, md5 = next((n, m) for n, m in self.resources if n.startswith(stem))
        path = os.path.join(self.raw_folder, name)
        fetch(self.mirror + name, path, md5=md5, what=type(self).__name__, manual_hint=self._hint())
        return path

    def __len__(self):
        return len(self.targets._data)

    def __getitem__(self, index):
        img, target = self.data._data[index], int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando's 28x28 gray clothing images in 10 classes, the same files and layout as MNIST."""

    mirror = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
