"""CIFAR-10 from the standard python batches, read without executing pickled code."""
import os
import pickle
import shutil
import tarfile
import tempfile
import zlib

import numpy as np

from ...errors import DataError
from ...tensor import Tensor
from ..dataset import Dataset
from .download import fetch
from .mnist import check_labels

# A CIFAR batch is a pickled dict holding a uint8 ndarray and lists; these are all the names it needs.
_CIFAR_NAMES = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar")}


_PLAIN_DTYPES = {"b1", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f2", "f4", "f8"}


def _plain_dtype(obj, align=False, copy=False):
    # numpy.dtype as a batch uses it: plain numbers only (no object arrays, no structured records)
    if not (isinstance(obj, str) and obj.lstrip("<>|=") in _PLAIN_DTYPES):
        raise pickle.UnpicklingError(f"numpy.dtype({obj!r:.40}) is not a plain numeric dtype")
    return np.dtype(obj, align, copy)


def _frombuffer(buf, dtype, shape, order):
    # how protocol 5 spells an array; the bytes must fill the shape exactly (numpy checks that)
    if not (isinstance(buf, (bytes, bytearray)) and isinstance(dtype, np.dtype) and dtype.kind in "biuf"
            and isinstance(shape, tuple) and order in ("C", "F")):
        raise pickle.UnpicklingError("numpy _frombuffer with arguments a batch never uses")
    return np.frombuffer(buf, dtype).reshape(shape, order=order)


def _latin1_bytes(text, encoding=None):
    # a protocol-2 pickle written by Python 3 spells bytes as _codecs.encode(text, "latin1"); nothing else
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding={encoding!r}")
    return text.encode("latin1")


class _BatchUnpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file, encoding="latin1")  # the published batches are Python 2 pickles
        self.path = path

    def find_class(self, module, name):
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        if (module, name) == ("numpy", "dtype"):
            return _plain_dtype
        if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
            return _frombuffer
        if (module, name) in _CIFAR_NAMES:
            return super().find_class(module, name)
        raise DataError(f"CIFAR10: {self.path} refers to {module}.{name}, which a CIFAR batch never needs; "
                        "refusing to load it (nothing in it was run).")


def read_batch(path, n_classes=10):
    """(images uint8 (N, 32, 32, 3), labels int64 (N,)) from one CIFAR-10 python batch file.

    Raises DataError naming the file when it is corrupt or truncated, refers to code, is not a CIFAR batch
    (a dict with a uint8 'data' array (N, 3072) and N 'labels'), or holds a label outside [0, n_classes).
    """
    try:
        with open(path, "rb") as f:
            entry = _BatchUnpickler(f, path).load()
    except (DataError, OSError):  # ours, and a file that cannot be opened (as open() says it)
        raise
    except Exception as e:  # UnpicklingError, EOFError, and whatever numpy's _reconstruct says about bad state
        raise DataError(f"CIFAR10: cannot read {path} ({type(e).__name__}: {str(e)[:200]}). Expected a CIFAR-10 "
                        "python batch (the file may be truncated or corrupt; unpack the archive again).") from None
    if not isinstance(entry, dict) or "data" not in entry or not ("labels" in entry or "fine_labels" in entry):
        raise DataError(f"CIFAR10: {path} is not a CIFAR batch (expected a dict with 'data' and 'labels').")
    data, labels = entry["data"], entry.get("labels", entry.get("fine_labels"))
    try:
        labels = np.asarray(labels)
    except Exception:  # ragged or odd objects
        labels = np.asarray([None])
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and labels.dtype.kind in "iu"):
        raise DataError(f"CIFAR10: {path} must hold a uint8 'data' array and integer labels. Got data of type "
                        f"{type(data).__name__}{' ' + str(data.dtype) if isinstance(data, np.ndarray) else ''} and "
                        f"labels of dtype {labels.dtype}.")
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.ndim != 1 or len(data) != len(labels):
        raise DataError(f"CIFAR10: {path} holds data of shape {data.shape} and labels of shape {labels.shape}; "
                        "expected (N, 3072) and (N,).")
    labels = labels.astype(np.int64)
    check_labels(labels, n_classes, path, "CIFAR10")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


class CIFAR10(Dataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Args:
        root (str): folder holding `cifar-10-batches-py/`.
        train (bool, default True), transform, target_transform, download (bool, default False).

    Items are (image uint8 array (32, 32, 3), label int); `.data` is the uint8 array (N, 32, 32, 3) and
    `.targets` the list of labels, as torchvision has them.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    archive, md5 = "cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"
    folder = "cifar-10-batches-py"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root, self.train = os.fspath(root), train
        self.transform, self.target_transform = transform, target_transform
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        base = os.path.join(self.root, self.folder)
        missing = [n for n in names if not os.path.exists(os.path.join(base, n))]
        if missing and download:
            self._download()
            missing = [n for n in names if not os.path.exists(os.path.join(base, n))]
        if missing:
            raise FileNotFoundError(f"CIFAR10: {', '.join(missing)} not found in {base}/. Pass download=True, or "
                                    f"download {self.url} elsewhere and unpack it into {self.root}/.")
        parts = [read_batch(os.path.join(base, n), len(self.classes)) for n in names]
        self.data = np.concatenate([p[0] for p in parts])
        self.targets = [int(t) for p in parts for t in p[1]]

    def _download(self):
        path = os.path.join(self.root, self.archive)
        if not os.path.exists(path):
            fetch(self.url, path, md5=self.md5, what="CIFAR10", manual_hint=f"{self.root}/ (the file {self.archive})")
        # unpacked beside the target first, so that a damaged archive leaves no half-written batch behind
        scratch = tempfile.mkdtemp(prefix=".cifar-unpack-", dir=self.root)
        try:
            with tarfile.open(path, "r:gz") as tar:
                tar.extractall(scratch, filter="data")
            unpacked = os.path.join(scratch, self.folder)
            os.makedirs(os.path.join(self.root, self.folder), exist_ok=True)
            for name in os.listdir(unpacked):
                os.replace(os.path.join(unpacked, name), os.path.join(self.root, self.folder, name))
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:  # ReadError, a truncated gzip stream
            raise DataError(f"CIFAR10: cannot unpack {path} ({type(e).__name__}: {e}). Expected the complete "
                            f"{self.archive}; delete it and download it again.") from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def as_tensors(self):
        """(images float32 (N, 3, 32, 32) in [0, 1], labels int64): the whole set for fast batching."""
        return (Tensor._wrap(self.data.transpose(0, 3, 1, 2).astype(np.float32) / 255.0),
                Tensor._wrap(np.asarray(self.targets, np.int64)))
