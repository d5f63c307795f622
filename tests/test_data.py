"""cnnlab.data: datasets, DataLoader batching and seeding, dataset readers on files the tests create."""
import gzip
import os
import pickle

import numpy as np
import pytest

import cnnlab
from cnnlab.data import (CIFAR10, MNIST, ConcatDataset, DataLoader, FashionMNIST, IDXError, ImageFolder,
                         MNISTSample, Subset, TensorDataset, default_collate, random_split)


# ---- datasets and loader ------------------------------------------------------------------------------------
def test_tensor_dataset_and_errors():
    ds = TensorDataset(cnnlab.arange(6).float(), cnnlab.arange(6) * 10)
    assert len(ds) == 6 and ds[2][1].item() == 20
    with pytest.raises(ValueError, match=r"same first dimension. Got sizes \[6, 5\]"):
        TensorDataset(cnnlab.zeros(6), cnnlab.zeros(5))


def test_subset_concat_random_split():
    ds = TensorDataset(cnnlab.arange(10))
    assert [int(Subset(ds, [3, 1])[i][0]) for i in range(2)] == [3, 1]
    cat = ConcatDataset([ds, TensorDataset(cnnlab.arange(5) + 100)])
    assert len(cat) == 15 and int(cat[12][0]) == 102 and int(cat[-1][0]) == 104
    a, b = random_split(ds, [7, 3], generator=cnnlab.Generator().manual_seed(1))
    c, d = random_split(ds, [7, 3], generator=cnnlab.Generator().manual_seed(1))
    assert a.indices == c.indices and sorted(a.indices + b.indices) == list(range(10))
    assert [len(s) for s in random_split(range(10), [0.5, 0.3, 0.2])] == [5, 3, 2]
    with pytest.raises(ValueError, match=r"must add up to the dataset's length.*Got lengths=\[5, 4\], len\(dataset\)=10"):
        random_split(ds, [5, 4])


def test_loader_batches_drop_last_and_len():
    ds = TensorDataset(cnnlab.arange(10).float(), cnnlab.arange(10))
    dl = DataLoader(ds, batch_size=4)
    assert len(dl) == 3 and [len(y) for _, y in dl] == [4, 4, 2]
    dl = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and [y.tolist() for _, y in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]


@pytest.mark.parametrize("prefetch", [False, True])
def test_loader_shuffle_is_seeded_and_changes_per_epoch(prefetch):
    ds = TensorDataset(cnnlab.arange(20))

    def epochs(seed):
        dl = DataLoader(ds, batch_size=5, shuffle=True, generator=cnnlab.Generator().manual_seed(seed),
                        prefetch=prefetch)
        return [[int(v) for (b,) in dl for v in b] for _ in range(2)]

    e1, e2 = epochs(3), epochs(3)
    assert e1 == e2 and e1[0] != e1[1] and sorted(e1[0]) == list(range(20))
    assert epochs(4) != e1


def test_default_collate_structures():
    batch = [{"x": np.zeros((2, 2), np.float32), "y": 1, "w": 0.5, "name": "a"},
             {"x": np.ones((2, 2), np.float32), "y": 0, "w": 1.5, "name": "b"}]
    out = default_collate(batch)
    assert out["x"].shape == (2, 2, 2) and out["y"].dtype == cnnlab.int64 and out["w"].dtype == cnnlab.float64
    assert out["name"] == ["a", "b"]
    with pytest.raises(TypeError, match="cannot batch samples of type object"):
        default_collate([object(), object()])


def test_loader_prefetch_propagates_errors():
    class Broken(TensorDataset):
        def __getitem__(self, i):
            if i == 3:
                raise KeyError("sample 3 is broken")
            return super().__getitem__(i)

    dl = DataLoader(Broken(cnnlab.arange(8)), batch_size=2, collate_fn=default_collate, prefetch=True)
    with pytest.raises(KeyError, match="sample 3 is broken"):
        list(dl)


# ---- IDX / MNIST ----------------------------------------------------------------------------------------------
def _idx(magic, dims, data, gz=False):
    raw = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(data)
    return gzip.compress(raw) if gz else raw


def _write_mnist(folder, n=5, gz=True, images=None, labels=None, prefix="train"):
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    lab = rng.integers(0, 10, n, dtype=np.uint8)
    (raw / f"{prefix}-images-idx3-ubyte{ext}").write_bytes(images if images is not None else
                                                          _idx(2051, (n, 28, 28), img.tobytes(), gz))
    (raw / f"{prefix}-labels-idx1-ubyte{ext}").write_bytes(labels if labels is not None else
                                                          _idx(2049, (n,), lab.tobytes(), gz))
    return img, lab


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_idx(tmp_path, gz):
    img, lab = _write_mnist(tmp_path, gz=gz)
    ds = MNIST(tmp_path, train=True)
    assert len(ds) == 5 and ds.data.shape == (5, 28, 28)
    x, y = ds[2]
    np.testing.assert_array_equal(x, img[2])
    assert y == lab[2]


def test_mnist_wrong_magic(tmp_path):
    _write_mnist(tmp_path, images=_idx(2049, (5, 28, 28), bytes(5 * 784), True))
    with pytest.raises(IDXError, match="wrong magic number.*expected 2051 \\(images\\), got 2049"):
        MNIST(tmp_path)


def test_mnist_truncated(tmp_path):
    _write_mnist(tmp_path, images=_idx(2051, (5, 28, 28), bytes(4 * 784), True))
    with pytest.raises(IDXError, match="truncated"):
        MNIST(tmp_path)


def test_mnist_label_count_mismatch(tmp_path):
    _write_mnist(tmp_path, labels=_idx(2049, (4,), bytes(4), True))
    with pytest.raises(IDXError, match=r"images and labels disagree.*\(5, 28, 28\).*\(4,\)"):
        MNIST(tmp_path)


def test_mnist_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte\[\.gz\] not found.*download=True.*MNIST/raw"):
        MNIST(tmp_path, train=False)
    with pytest.raises(FileNotFoundError, match="FashionMNIST/raw"):
        FashionMNIST(tmp_path)


def test_download_without_network_fails_clearly(tmp_path, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match=r"MNIST: could not download .*no network.*put them here"):
        MNIST(tmp_path, download=True)


# ---- CIFAR ----------------------------------------------------------------------------------------------------
def _write_cifar(root, n=4, payload=None):
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = list(rng.integers(0, 10, n))
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(base / name, "wb") as f:
            pickle.dump(payload if payload is not None else {"data": data, "labels": [int(v) for v in labels]}, f)
    return data, labels


def test_cifar_reads_batches(tmp_path):
    data, labels = _write_cifar(tmp_path)
    ds = CIFAR10(tmp_path, train=False)
    x, y = ds[1]
    assert x.shape == (32, 32, 3) and y == labels[1]
    np.testing.assert_array_equal(x[:, :, 0].reshape(-1), data[1, :1024])  # channel-major rows -> HWC
    assert len(CIFAR10(tmp_path, train=True)) == 20


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_cifar_refuses_code(tmp_path):
    marker = tmp_path / "pwned"
    _write_cifar(tmp_path, payload={"data": _Evil(marker), "labels": [0]})
    with pytest.raises(ValueError, match="refusing to load it"):
        CIFAR10(tmp_path, train=False)
    assert not marker.exists()


# ---- ImageFolder and the bundled sample ------------------------------------------------------------------------
def test_image_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    ds = ImageFolder(tmp_path, transform=cnnlab.data.transforms.ToTensor())
    assert ds.classes == ["cat", "dog"] and len(ds) == 4 and ds.targets == [0, 0, 1, 1]
    x, y = ds[3]
    assert x.shape == (3, 8, 8) and y == 1
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    ds = ImageFolder(tmp_path)
    with pytest.raises(ValueError, match=r"cannot read the image .*broken\.png"):
        [ds[i] for i in range(len(ds))]


def test_mnist_sample_is_stratified_and_real():
    train, test = MNISTSample(train=True), MNISTSample(train=False)
    assert len(train) == 4000 and len(test) == 1000
    assert np.bincount(train.targets.numpy()).tolist() == [400] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [100] * 10
    x = train.data.numpy()
    assert x.dtype == np.uint8 and x.max() == 255 and 0.08 < (x > 128).mean() < 0.2  # pen strokes on black
    # no digit appears in both splits
    tr = {row.tobytes() for row in x}
    assert not any(row.tobytes() in tr for row in test.data.numpy())
