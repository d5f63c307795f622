"""MNIST/IDX and CIFAR-10 batch files that are corrupt, truncated, crafted or inconsistent: each raises a one-line
DataError naming the file, what is wrong and what was expected, before training can trip over it."""
import gzip
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from cnnlab.data import CIFAR10, MNIST, FashionMNIST, IDXError
from cnnlab.data.datasets.cifar import read_batch
from cnnlab.data.datasets.mnist import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from cnnlab.errors import DataError


def _idx(magic, dims, data):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(data)


def _write_mnist(root, labels=None, images=None, n=6, gz=True, cls="MNIST"):
    raw = root / cls / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    img = _idx(IMAGES_MAGIC, (n, 28, 28), rng.integers(0, 256, n * 784, dtype=np.uint8).tobytes())
    lab = _idx(LABELS_MAGIC, (n,), bytes(labels if labels is not None else [i % 10 for i in range(n)]))
    ext = ".gz" if gz else ""
    for name, data in ((f"train-images-idx3-ubyte{ext}", images if images is not None else img),
                       (f"train-labels-idx1-ubyte{ext}", lab)):
        (raw / name).write_bytes(gzip.compress(data, mtime=0) if gz and data is not None else data)
    return raw


def _one_line(error, *parts):
    message = str(error.value)
    assert "\n" not in message and all(p in message for p in parts), message


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_labels_out_of_range_are_refused_at_load(tmp_path, cls):
    raw = _write_mnist(tmp_path, labels=[1, 2, 10, 3, 255, 0], cls=cls.__name__)
    with pytest.raises(DataError, match=rf"^{cls.__name__}: labels must lie in \[0, 9\]\. Got label 10 at index 2 of "
                                        r".*train-labels-idx1-ubyte\.gz \(2 labels out of range\)\.$") as e:
        cls(tmp_path)
    _one_line(e, str(raw))


def test_corrupt_gzip_stream(tmp_path):
    raw = _write_mnist(tmp_path)
    path = raw / "train-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    with pytest.raises(IDXError, match=r"^read_idx: cannot read .*train-images-idx3-ubyte\.gz \((BadGzipFile|error|"
                                       r"EOFError).*\)\. Expected a complete gzip-compressed IDX file; download it "
                                       r"again\.$"):
        MNIST(tmp_path)


@pytest.mark.parametrize("keep", [5, 20, -9, -1])
def test_truncated_gzip_file(tmp_path, keep):
    raw = _write_mnist(tmp_path)
    path = raw / "train-labels-idx1-ubyte.gz"
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    with pytest.raises(IDXError, match=r"train-labels-idx1-ubyte\.gz") as e:
        MNIST(tmp_path)
    _one_line(e, str(path))
    assert isinstance(e.value, DataError) and isinstance(e.value, ValueError)


def test_gzip_whose_header_asks_more_than_it_can_hold(tmp_path):
    """A 100-byte .gz declaring 2**32 * 28 * 28 bytes: refused from the header, nothing read or allocated."""
    path = tmp_path / "bomb-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx(IMAGES_MAGIC, (2 ** 32 - 1, 28, 28), bytes(100))))
    with pytest.raises(IDXError, match=r"header \(\[4294967295, 28, 28\]\) needs 3367254359280 bytes of data, more "
                                       r"than a file of \d+ bytes can hold"):
        read_idx(str(path), IMAGES_MAGIC)


def test_raw_idx_too_long_and_too_short(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(_idx(LABELS_MAGIC, (4,), bytes(5)))
    with pytest.raises(IDXError, match=r"has more than the 12 bytes its header \(\[4\]\) needs; the file is longer"):
        read_idx(str(path), LABELS_MAGIC)
    path.write_bytes(_idx(LABELS_MAGIC, (4,), bytes(3)))
    with pytest.raises(IDXError, match=r"has 11 bytes but its header \(\[4\]\) needs 12; the file is truncated"):
        read_idx(str(path), LABELS_MAGIC)
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(IDXError, match=r"too short to be an IDX file \(3 bytes\)"):
        read_idx(str(path), LABELS_MAGIC)


def test_image_and_label_counts_must_agree(tmp_path):
    _write_mnist(tmp_path, images=_idx(IMAGES_MAGIC, (5, 28, 28), bytes(5 * 784)))
    with pytest.raises(IDXError, match=r"images and labels disagree.*\(5, 28, 28\).*\(6,\)"):
        MNIST(tmp_path)


def test_images_without_pixels_are_refused(tmp_path):
    _write_mnist(tmp_path, images=_idx(IMAGES_MAGIC, (6, 0, 28), b""))
    with pytest.raises(IDXError, match=r"^MNIST: images must have a height and width of at least 1\. Got shape "
                                       r"\(6, 0, 28\) in .*train-images-idx3-ubyte\.gz\.$"):
        MNIST(tmp_path)


@pytest.mark.parametrize("gz", [True, False])
def test_fuzz_idx_files_raise_data_error_or_load(tmp_path, gz):
    """100 damaged copies of a labels and an images file: each loads or raises DataError, nothing else."""
    rng = np.random.default_rng(7 if gz else 8)
    raw = _write_mnist(tmp_path, gz=gz)
    ext = ".gz" if gz else ""
    originals = {n: (raw / n).read_bytes() for n in (f"train-images-idx3-ubyte{ext}", f"train-labels-idx1-ubyte{ext}")}
    refused = 0
    for trial in range(100):
        name = list(originals)[trial % 2]
        data = bytearray(originals[name])
        if trial % 3 == 2:
            data = data[:rng.integers(0, len(data))]
        else:
            for _ in range(1 + trial % 4):
                data[rng.integers(0, len(data))] ^= 1 << int(rng.integers(0, 8))
        (raw / name).write_bytes(bytes(data))
        try:
            ds = MNIST(tmp_path)
            assert len(ds) == 6 and ds.targets.max().item() <= 9
        except DataError as e:
            assert "\n" not in str(e) and name in str(e)
            refused += 1
        (raw / name).write_bytes(originals[name])
    assert refused > 50


# ---- CIFAR ----------------------------------------------------------------------------------------------------
def _batch(path, payload=None, n=4):
    rng = np.random.default_rng(0)
    payload = payload if payload is not None else {
        "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": [int(v) for v in rng.integers(0, 10, n)]}
    with open(path, "wb") as f:
        pickle.dump(payload, f, protocol=2)
    return path


def test_cifar_labels_out_of_range(tmp_path):
    path = _batch(tmp_path / "test_batch", {"data": np.zeros((3, 3072), np.uint8), "labels": [0, -1, 12]})
    with pytest.raises(DataError, match=r"^CIFAR10: labels must lie in \[0, 9\]\. Got label -1 at index 1 of "
                                        r".*test_batch \(2 labels out of range\)\.$"):
        read_batch(str(path))


@pytest.mark.parametrize("payload, message", [
    ({"data": np.zeros((3, 3072), np.uint8), "labels": [0, 1]}, r"data of shape \(3, 3072\) and labels of shape \(2,\); "
                                                              r"expected \(N, 3072\) and \(N,\)"),
    ({"data": np.zeros((3, 100), np.uint8), "labels": [0, 1, 2]}, r"data of shape \(3, 100\)"),
    ({"data": np.zeros((2, 3072), np.float32), "labels": [0, 1]}, r"must hold a uint8 'data' array and integer labels. "
                                                                r"Got data of type ndarray float32"),
    ({"data": [[0] * 3072], "labels": [0]}, r"Got data of type list"),
    ({"data": np.zeros((1, 3072), np.uint8), "labels": ["cat"]}, r"labels of dtype <U3"),
    ({"data": np.zeros((1, 3072), np.uint8), "labels": [[0, 1], [2]]}, r"integer labels"),
    ([1, 2], r"is not a CIFAR batch \(expected a dict with 'data' and 'labels'\)"),
])
def test_cifar_batches_that_are_not_what_they_should_be(tmp_path, payload, message):
    path = _batch(tmp_path / "data_batch_1", payload)
    with pytest.raises(DataError, match=message) as e:
        read_batch(str(path))
    _one_line(e, str(path))


def test_cifar_batches_with_object_arrays_are_refused(tmp_path):
    for protocol in (2, 4):
        path = tmp_path / f"batch{protocol}"
        with open(path, "wb") as f:
            pickle.dump({"data": np.array([1, "x"], dtype=object), "labels": [0]}, f, protocol=protocol)
        with pytest.raises(DataError, match=r"cannot read .*batch\d \(UnpicklingError: numpy.dtype\('O8'\) is not a "
                                            r"plain numeric dtype\)"):
            read_batch(str(path))
    for protocol in (2, 4, 5):  # numbers of every plain dtype still load
        path = tmp_path / f"ok{protocol}"
        with open(path, "wb") as f:
            pickle.dump({"data": np.zeros((1, 3072), np.uint8), "labels": np.array([3], np.int32),
                         "extra": np.ones(2, np.float16)}, f, protocol=protocol)
        assert read_batch(str(path))[1].tolist() == [3]


@pytest.mark.parametrize("keep", [0, 1, 100, 3000, -1])
def test_truncated_cifar_batch(tmp_path, keep):
    path = _batch(tmp_path / "test_batch")
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(DataError, match=r"^CIFAR10: cannot read .*test_batch \(.*\)\. Expected a CIFAR-10 python batch") as e:
        read_batch(str(path))
    _one_line(e, str(path))


def test_fuzz_cifar_batches_raise_data_error_or_load(tmp_path):
    rng = np.random.default_rng(11)
    good = _batch(tmp_path / "good").read_bytes()
    refused = 0
    for trial in range(150):
        data = bytearray(good)
        if trial % 3 == 2:
            data = data[:rng.integers(0, len(data))]
        else:
            for _ in range(1 + trial % 4):
                data[rng.integers(0, len(data))] ^= 1 << int(rng.integers(0, 8))
        path = tmp_path / "test_batch"
        path.write_bytes(bytes(data))
        try:
            images, labels = read_batch(str(path))
            assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 3) and labels.max() <= 9
        except DataError as e:
            assert "\n" not in str(e) and "test_batch" in str(e)
            refused += 1
    assert refused > 30


def test_corrupt_cifar_archive(tmp_path, monkeypatch):
    archive = tmp_path / CIFAR10.archive
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        payload = pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [0]})
        info = tarfile.TarInfo(f"{CIFAR10.folder}/test_batch")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    archive.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(DataError, match=r"^CIFAR10: cannot unpack .*cifar-10-python\.tar\.gz \(.*\)\. Expected the "
                                        r"complete cifar-10-python\.tar\.gz; delete it and download it again\.$"):
        CIFAR10(str(tmp_path), train=False, download=True)
    archive.write_bytes(buf.getvalue())
    assert len(CIFAR10(str(tmp_path), train=False, download=True)) == 1
    assert os.path.exists(tmp_path / CIFAR10.folder / "test_batch")
