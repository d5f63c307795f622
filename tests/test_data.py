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


# ---- samplers and the DataLoader's options, against torch.utils.data ----------------------------------------------
from cnnlab.data import (BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler,  # noqa: E402
                         WeightedRandomSampler)

tud = pytest.importorskip("torch.utils.data")


@pytest.mark.parametrize("n, bs, drop", [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False), (0, 2, False)])
def test_sequential_and_batch_samplers_equal_torch(n, bs, drop):
    ours, theirs = BatchSampler(SequentialSampler(range(n)), bs, drop), tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(SequentialSampler(range(n))) == list(tud.SequentialSampler(range(n)))
    assert list(BatchSampler([5, 1, 4, 2], bs, drop)) == list(tud.BatchSampler([5, 1, 4, 2], bs, drop))


def _seeded(seed):
    return cnnlab.Generator().manual_seed(seed)


@pytest.mark.parametrize("k", [None, 7, 25])
def test_random_sampler_is_a_seeded_permutation(k):
    n = 10
    draws = [list(RandomSampler(range(n), num_samples=k, generator=_seeded(s))) for s in (0, 0, 1)]
    assert draws[0] == draws[1] != draws[2] and len(draws[0]) == (k or n) == len(RandomSampler(range(n), num_samples=k))
    full = [draws[0][i:i + n] for i in range(0, len(draws[0]) - n + 1, n)]  # whole passes are permutations
    assert all(sorted(p) == list(range(n)) for p in full) and len(set(draws[0][len(full) * n:])) == len(draws[0]) % n
    with_repl = list(RandomSampler(range(n), replacement=True, num_samples=200, generator=_seeded(0)))
    assert len(with_repl) == 200 and set(with_repl) == set(range(n))  # repeats, all in range


def test_subset_random_sampler():
    idx = [12, 3, 7, 40]
    a, b = (list(SubsetRandomSampler(idx, generator=_seeded(2))) for _ in range(2))
    assert a == b and sorted(a) == sorted(idx) and len(SubsetRandomSampler(idx)) == 4
    assert {tuple(SubsetRandomSampler(idx, generator=_seeded(s))) for s in range(10)} != {tuple(a)}


def test_weighted_random_sampler_frequencies():
    w = [1.0, 0.0, 3.0, 6.0]
    draws = np.array(list(WeightedRandomSampler(w, 20000, generator=_seeded(0))))
    freq = np.bincount(draws, minlength=4) / 20000
    np.testing.assert_allclose(freq, np.array(w) / 10, atol=0.015)  # 3 sigma at 20000 draws is under 0.011
    no_repl = list(WeightedRandomSampler(cnnlab.tensor(w), 3, replacement=False, generator=_seeded(1)))
    assert sorted(no_repl) == [0, 2, 3]  # each non-zero weight once, the zero weight never
    assert list(WeightedRandomSampler(w, 50, generator=_seeded(3))) == list(WeightedRandomSampler(w, 50, generator=_seeded(3)))


@pytest.mark.parametrize("make, exc, msg", [
    (lambda m: m.RandomSampler(range(3), replacement=1), TypeError, "replacement must be a bool. Got replacement=1"),
    (lambda m: m.RandomSampler(range(3), num_samples=0), ValueError, "num_samples must be a positive int"),
    (lambda m: m.RandomSampler([]), ValueError, "num_samples must be a positive int. Got num_samples=0"),
    (lambda m: m.WeightedRandomSampler([1, 2], 0), ValueError, "num_samples must be a positive int"),
    (lambda m: m.WeightedRandomSampler([1, 2], 2, replacement="no"), ValueError, "replacement must be a bool"),
    (lambda m: m.WeightedRandomSampler([[1, 2]], 2), ValueError, r"1-d sequence. Got weights of shape \(1, 2\)"),
    (lambda m: m.BatchSampler(range(3), 0, False), ValueError, "batch_size must be a positive int. Got batch_size=0"),
    (lambda m: m.BatchSampler(range(3), 2, None), ValueError, "drop_last must be a bool. Got drop_last=None"),
])
def test_sampler_errors_match_torch_types(make, exc, msg):
    import cnnlab.utils.data as cud
    with pytest.raises(exc):
        make(tud)
    with pytest.raises(exc, match=msg):
        make(cud)


def test_weighted_sampler_refuses_impossible_draws():
    with pytest.raises(ValueError, match="cannot exceed the number of non-zero weights. Got num_samples=3, non-zero weights=2"):
        WeightedRandomSampler([1, 0, 1], 3, replacement=False)
    with pytest.raises(ValueError, match="not all zero"):
        WeightedRandomSampler([0.0, 0.0], 1)


@pytest.mark.parametrize("kwargs", [
    dict(shuffle=True, sampler="seq"), dict(batch_sampler="bs", batch_size=2), dict(batch_sampler="bs", shuffle=True),
    dict(batch_sampler="bs", sampler="seq"), dict(batch_sampler="bs", drop_last=True), dict(batch_size=None, drop_last=True),
    dict(persistent_workers=True), dict(prefetch_factor=2), dict(num_workers=-1), dict(timeout=-1),
])
def test_loader_rejects_what_torch_rejects(kwargs):
    for m in (tud, cnnlab.data):
        kw = {k: (m.SequentialSampler(range(6)) if v == "seq" else m.BatchSampler(range(6), 2, False) if v == "bs" else v)
              for k, v in kwargs.items()}
        with pytest.raises(ValueError, match="DataLoader: " if m is cnnlab.data else None):
            m.DataLoader(list(range(6)), **kw)


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None), dict(sampler=[5, 0, 3], batch_size=2),
    dict(batch_sampler=[[0, 1], [5], [2, 3, 4]]), dict(batch_size=3, num_workers=2, pin_memory=True, persistent_workers=True,
                                                      prefetch_factor=2, worker_init_fn=print, timeout=5),
])
def test_loader_batches_and_len_equal_torch(kwargs):
    data = [(np.float32(i) / 2, i) for i in range(6)]
    ours, theirs = cnnlab.data.DataLoader(data, **kwargs), tud.DataLoader(data, **kwargs)
    assert len(ours) == len(theirs)
    as_lists = [[np.asarray(x.numpy() if hasattr(x, "numpy") else x).tolist() for x in b] for b in ours]
    assert as_lists == [[np.asarray(x).tolist() for x in b] for b in theirs]
    assert type(ours.sampler).__name__ == type(theirs.sampler).__name__
    assert type(ours.batch_sampler).__name__ == type(theirs.batch_sampler).__name__


def test_loader_with_samplers_is_seeded_and_prefetch_keeps_the_order():
    ds = TensorDataset(cnnlab.arange(12))
    sampler = SubsetRandomSampler(list(range(0, 12, 2)), generator=_seeded(5))
    dl = DataLoader(ds, batch_size=4, sampler=sampler)
    seen = [int(v) for (b,) in dl for v in b]
    assert sorted(seen) == [0, 2, 4, 6, 8, 10] and len(dl) == 2 and len(dl.sampler) == 6
    orders = []
    for prefetch in (False, True, False):
        cnnlab.manual_seed(11)  # the default generator drives shuffle when no generator is given
        orders.append([int(v) for (b,) in DataLoader(ds, batch_size=5, shuffle=True, prefetch=prefetch) for v in b])
    assert orders[0] == orders[1] == orders[2] and sorted(orders[0]) == list(range(12))
    weighted = DataLoader(ds, batch_size=3, sampler=WeightedRandomSampler([0.0] * 6 + [1.0] * 6, 9, generator=_seeded(0)))
    assert all(int(v) >= 6 for (b,) in weighted for v in b)


def test_loader_fast_path_through_subsets_equals_per_sample_collate():
    ds = TensorDataset(cnnlab.arange(40).float().reshape(20, 2), cnnlab.arange(20))
    part, _ = random_split(ds, [12, 8], generator=_seeded(0))
    inner = Subset(part, [11, 0, 5, 7, 3])  # a Subset of a Subset
    for data in (part, inner):
        fast = [[t.tolist() for t in b] for b in DataLoader(data, batch_size=3)]
        slow = [[t.tolist() for t in b] for b in DataLoader(data, batch_size=3, collate_fn=lambda b: default_collate(b))]
        assert fast == slow and sum(len(b[1]) for b in fast) == len(data)


def test_default_collate_keeps_numpy_scalar_dtypes_and_namedtuples_like_torch():
    import collections
    Point = collections.namedtuple("Point", "x y")
    for batch in ([np.float32(1), np.float32(2)], [np.int32(3)], [np.bool_(True)], [Point(1, 2.0), Point(3, 4.0)]):
        ours, theirs = default_collate(batch), tud.default_collate(batch)
        pairs = zip(ours, theirs) if isinstance(ours, tuple) else [(ours, theirs)]
        assert type(ours).__name__ == type(theirs).__name__
        for a, b in pairs:
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1] and a.tolist() == b.tolist()


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
    with pytest.raises(RuntimeError, match=r"MNIST: could not download .*no network.*put it here: .*MNIST/raw/"):
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
