"""The torch-shaped API surface that tutorial code touches first: the subpackages as attributes of the package,
cnnlab.save/cnnlab.load, cnnlab.utils.data, Module.to/Tensor.to argument forms, and the legacy tensor types.
Each is checked against PyTorch running the same call."""
import io

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
from fresh_process import run_python

torch = pytest.importorskip("torch")


# ---- import cnnlab: the subpackages are attributes, as torch.optim is after `import torch` ------------------------
def test_import_cnnlab_makes_the_subpackages_attributes():
    names = run_python("import cnnlab\n"
                       "for m in ('nn', 'optim', 'data', 'io', 'utils', 'models', 'train'):\n"
                       "    print(getattr(cnnlab, m).__name__)\n"
                       "print(cnnlab.utils.data.DataLoader.__name__, cnnlab.optim.SGD.__name__, cnnlab.save.__module__)")
    assert names == ["cnnlab.nn", "cnnlab.optim", "cnnlab.data", "cnnlab.io", "cnnlab.utils", "cnnlab.models",
                     "cnnlab.train", "DataLoader", "SGD", "cnnlab.io"]


def test_import_cnnlab_defers_readers_models_and_training():
    loaded = run_python("import sys, cnnlab\n"
                        "print(*[m for m in ('cnnlab.data.datasets', 'cnnlab.data.transforms', 'cnnlab.models', "
                        "'cnnlab.train', 'urllib.request') if m in sys.modules])\n"
                        "from cnnlab.data import MNIST, transforms\nprint(MNIST.__name__, transforms.__name__)")
    assert loaded == ["MNIST", "cnnlab.data.transforms"]


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        cnnlab.nonexistent
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        cnnlab.data.nonexistent


# ---- cnnlab.utils.data mirrors torch.utils.data --------------------------------------------------------------
UTILS_DATA_NAMES = ["DataLoader", "Dataset", "TensorDataset", "random_split", "Subset", "ConcatDataset",
                    "default_collate", "default_convert", "Sampler", "RandomSampler", "SequentialSampler",
                    "BatchSampler", "SubsetRandomSampler", "WeightedRandomSampler", "get_worker_info"]


@pytest.mark.parametrize("name", UTILS_DATA_NAMES)
def test_utils_data_names_are_cnnlab_data_objects(name):
    import cnnlab.utils.data as cud
    assert hasattr(torch.utils.data, name)
    assert getattr(cud, name) is getattr(cnnlab.data, name)


def test_utils_data_submodules_as_in_torch():
    from cnnlab.utils.data.dataloader import DataLoader, default_collate
    from cnnlab.utils.data.dataset import Dataset
    from cnnlab.utils.data.sampler import SubsetRandomSampler
    from torch.utils.data.sampler import SubsetRandomSampler as TorchSubsetRandomSampler  # noqa: F401 (exists)
    assert (DataLoader, default_collate, Dataset, SubsetRandomSampler) == (
        cnnlab.data.DataLoader, cnnlab.data.default_collate, cnnlab.data.Dataset, cnnlab.data.SubsetRandomSampler)
    assert cnnlab.utils.data.get_worker_info() is None is torch.utils.data.get_worker_info()


# ---- cnnlab.save / cnnlab.load with torch.save / torch.load's arguments ----------------------------------------
def test_save_load_are_top_level_and_take_torch_arguments(tmp_path):
    assert cnnlab.save is cnnlab.io.save and cnnlab.load is cnnlab.io.load
    model = nn.Linear(3, 2)
    path = tmp_path / "m.pth"
    cnnlab.save(model.state_dict(), path)                       # a pathlib path
    cnnlab.save(model.state_dict(), str(tmp_path / "s.pt"), pickle_protocol=2)
    buf = io.BytesIO()
    cnnlab.save(model.state_dict(), buf)                        # a file object
    buf.seek(0)
    loads = [cnnlab.load(path), cnnlab.load(str(tmp_path / "s.pt"), map_location="cpu"),
             cnnlab.load(buf, map_location=cnnlab.device("cpu"), weights_only=True),
             cnnlab.load(path, map_location={"cuda:0": "cpu"}, weights_only=False),
             cnnlab.load(path, map_location=lambda storage, loc: storage, mmap=None)]
    for sd in loads:
        assert sorted(sd) == ["bias", "weight"]
        np.testing.assert_array_equal(sd["weight"].numpy(), model.weight.detach().numpy())
    assert set(torch.load(path, weights_only=True)) == {"weight", "bias"}  # PyTorch reads what cnnlab wrote
    with pytest.raises(ValueError, match="CPU only"):
        cnnlab.load(path, map_location="cuda:0")


def test_load_reads_torch_save_with_map_location(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Linear(4, 3)
    torch.save({"model": tmodel.state_dict(), "epoch": 2}, tmp_path / "ckpt.pt")
    with open(tmp_path / "ckpt.pt", "rb") as f:
        ckpt = cnnlab.load(f, map_location=cnnlab.device("cpu"))
    model = nn.Linear(4, 3)
    model.load_state_dict(ckpt["model"])
    np.testing.assert_array_equal(model.bias.detach().numpy(), tmodel.bias.detach().numpy())
    assert ckpt["epoch"] == 2


@pytest.mark.parametrize("what, hint", [
    (lambda m, o: m, "model.state_dict()"),
    (lambda m, o: o, "optimizer.state_dict()"),
    (lambda m, o: {"model": m, "epoch": 3}, r"model.state_dict\(\).*Got obj\['model'\] of type Linear"),
])
def test_save_refuses_whole_models_and_optimizers(tmp_path, what, hint):
    model = nn.Linear(2, 2)
    opt = cnnlab.optim.SGD(model.parameters(), lr=0.1)
    for target in (tmp_path / "m.pth", tmp_path / "m.safetensors"):
        with pytest.raises(TypeError, match=rf"save: .*not a whole .* object.*{hint}"):
            cnnlab.save(what(model, opt), target)
        assert not target.exists()  # refused before anything was written
    buf = io.BytesIO()
    with pytest.raises(TypeError):
        cnnlab.save(what(model, opt), buf)
    assert buf.getvalue() == b""


@pytest.mark.parametrize("obj, where", [
    (object(), "obj of type object"),
    ({"f": len}, r"obj\['f'\] of type builtin_function_or_method"),
    ([1, 2j], r"obj\[1\] of type complex"),
    ({"a": np.array(["x"])}, r"obj\['a'\] of type ndarray"),
    ({"s": {1, 2j}}, r"obj\['s'\]\[\d\] of type complex"),
    ({"f": frozenset({1})}, r"obj\['f'\] of type frozenset"),
])
def test_save_refuses_what_load_cannot_read(obj, where):
    with pytest.raises(TypeError, match=rf"save: cnnlab saves tensors, numbers, strings.*Got {where}\."):
        cnnlab.save(obj, io.BytesIO())


def test_save_accepts_every_container_load_reads(tmp_path):
    cyclic = [1]
    cyclic.append(cyclic)
    obj = {"t": cnnlab.ones(2), "n": None, "tup": (1.5, "x", -2),
           "np": np.float32(2.5), "arr": np.arange(3), "size": cnnlab.Size([2, 3]), 4: [True], "cyc": cyclic}
    cnnlab.save(obj, tmp_path / "c.pth")
    back = cnnlab.load(tmp_path / "c.pth")
    assert back["tup"] == (1.5, "x", -2) and back["np"] == 2.5 and back[4] == [True]
    assert back["arr"].tolist() == [0, 1, 2] and back["size"] == (2, 3) and back["cyc"][1] is back["cyc"]


def test_sets_and_bytes_round_trip_and_load_from_torch(tmp_path):
    # protocol 2 (torch.save's) spells these as __builtin__.set and _codecs.encode(text, "latin1")
    cnnlab.save({"s": {1, 2}, "b": b"\x00\xffraw", "t": cnnlab.ones(2)}, tmp_path / "c.pth")
    torch.save({"s": {1, 2}, "f": frozenset({"a"}), "b": b"\x00\xffraw", "t": torch.ones(2)}, tmp_path / "t.pth")
    assert cnnlab.load(tmp_path / "t.pth")["f"] == frozenset({"a"})
    for back in (cnnlab.load(tmp_path / "c.pth"), cnnlab.load(tmp_path / "t.pth"),
                 torch.load(tmp_path / "c.pth", weights_only=True)):
        assert (back["s"], back["b"]) == ({1, 2}, b"\x00\xffraw")


# ---- Module.to / Tensor.to argument forms ----------------------------------------------------------------------
TO_FORMS = [  # (args, kwargs) written with names resolved in either library
    (("device:cpu",), {}), (("cpu",), {}), (("dtype:float64",), {}), (("cpu", "dtype:float64"), {}),
    (("tensor:float64",), {}), (("dtype:float64", True), {}), (("cpu", "dtype:float64", True), {}),
    ((), {"device": "cpu", "dtype": "dtype:float64", "non_blocking": True}), ((), {"device": "device:cpu"}),
    ((None,), {}), ((), {"dtype": "dtype:float32"}), (("cpu:0",), {}),
]


def _resolve(lib, v):
    if isinstance(v, str) and v.startswith("dtype:"):
        return getattr(lib, v[6:])
    if isinstance(v, str) and v.startswith("device:"):
        return lib.device(v[7:])
    if isinstance(v, str) and v.startswith("tensor:"):
        return lib.ones(1, dtype=getattr(lib, v[7:]))
    return v


@pytest.mark.parametrize("args, kwargs", TO_FORMS)
def test_module_and_tensor_to_forms_match_torch(args, kwargs):
    results = {}
    for lib in (cnnlab, torch):
        a = [_resolve(lib, v) for v in args]
        k = {key: _resolve(lib, v) for key, v in kwargs.items()}
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        out = model.to(*a, **k)
        x = lib.ones(2).to(*a, **k)
        assert out is model
        results[lib.__name__] = (str(model[0].weight.dtype).split(".")[-1], str(model[1].running_mean.dtype)
                                 .split(".")[-1], str(model[1].num_batches_tracked.dtype).split(".")[-1],
                                 str(x.dtype).split(".")[-1])
    assert results["cnnlab"] == results["torch"]


@pytest.mark.parametrize("target", ["cuda", "cuda:0", "mps", 1])
def test_to_an_accelerator_says_cnnlab_runs_on_the_cpu(target):
    with pytest.raises(ValueError, match=r"to: cnnlab runs on the CPU only.*Got device="):
        nn.Linear(2, 2).to(target)
    with pytest.raises(ValueError, match="CPU only"):
        nn.Linear(2, 2).to(device=target)
    if target != 1:
        with pytest.raises(ValueError, match="CPU only"):
            cnnlab.ones(2).to(target)
        with pytest.raises(ValueError, match="CPU only"):
            cnnlab.device(target)


def test_module_to_rejects_what_torch_rejects():
    for lib in (cnnlab, torch):
        with pytest.raises(TypeError, match="only accepts floating point"):
            lib.nn.Linear(2, 2).to(lib.int64)
        with pytest.raises(TypeError):
            lib.nn.Linear(2, 2).to(lib.float64, lib.float32)
        with pytest.raises(TypeError):
            lib.nn.Linear(2, 2).to(foo=1)


# ---- legacy tensor types ----------------------------------------------------------------------------------------
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
          "ByteTensor", "BoolTensor"]
LEGACY_ARGS = [([1.7, -2.2, 3.0],), ([[1, 0], [2, 3]],), ((1, 0, 2),), (2, 3), (4,), ([],), (),
               (np.array([1.5, 0.0]),), ("size:2,3",), (np.int64(3),)]


def _legacy_args(lib, args):
    return [lib.Size([int(s) for s in a[5:].split(",")]) if isinstance(a, str) else a for a in args]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", LEGACY_ARGS, ids=repr)
def test_legacy_tensor_types_construct_like_torch(name, args):
    if name == "ByteTensor" and args is LEGACY_ARGS[0]:
        pytest.skip("a negative value into uint8: PyTorch raises, NumPy wraps around")
    ours = getattr(cnnlab, name)(*_legacy_args(cnnlab, args))
    theirs = getattr(torch, name)(*_legacy_args(torch, args))
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    if not (len(args) and all(isinstance(a, (int, np.integer, str)) for a in args)):  # sizes: torch's are garbage
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_isinstance_matches_torch(name):
    for dtype in ("float32", "float64", "int64", "int32", "uint8", "bool", "float16"):
        x_ours, x_theirs = cnnlab.zeros(2, dtype=getattr(cnnlab, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
        assert isinstance(x_ours, getattr(cnnlab, name)) == isinstance(x_theirs, getattr(torch, name))
    assert not isinstance(np.zeros(2), getattr(cnnlab, name))
    assert issubclass(getattr(cnnlab, name), cnnlab.Tensor) == issubclass(getattr(torch, name), torch.Tensor)
    assert isinstance(nn.Linear(2, 2).weight, cnnlab.FloatTensor)


def test_legacy_type_from_a_tensor_aliases_or_refuses():
    x = cnnlab.ones(3)
    y = cnnlab.FloatTensor(x)
    y[0] = 5.0
    assert x[0].item() == 5.0 and y is not x  # an alias, as torch.FloatTensor(t)
    for lib in (cnnlab, torch):
        with pytest.raises(TypeError):
            lib.FloatTensor(lib.ones(3, dtype=lib.float64))
        with pytest.raises(TypeError):
            lib.FloatTensor(3.5)
        with pytest.raises(TypeError):
            lib.FloatTensor(2, 3.0)
    assert repr(cnnlab.FloatTensor) == "<class 'cnnlab.FloatTensor'>" and cnnlab.FloatTensor.dtype is cnnlab.float32
    with pytest.raises(ValueError, match="CPU only"):
        cnnlab.FloatTensor([1.0], device="cuda")


def test_tensor_type_with_a_type_name():
    ours = cnnlab.tensor([1.5, -2.5]).type("torch.LongTensor")
    theirs = torch.tensor([1.5, -2.5]).type("torch.LongTensor")
    assert ours.dtype == cnnlab.int64 and ours.tolist() == theirs.tolist() == [1, -2]


def test_tensor_type_with_a_legacy_type():
    assert cnnlab.ones(2).type(cnnlab.DoubleTensor).dtype == cnnlab.float64


def test_accelerator_probes_of_tutorial_code_answer_cpu():
    # the PyTorch quickstart picks its device this way
    for lib in (cnnlab, torch):
        device = lib.accelerator.current_accelerator().type if lib.accelerator.is_available() else "cpu"
        assert device == "cpu" and lib.accelerator.device_count() == 0 and not lib.cuda.is_available()
    assert nn.Linear(2, 2).to(device).weight.dtype == cnnlab.float32


TUTORIAL = '''
from torch.utils.data import DataLoader, TensorDataset, random_split
from torch import nn

torch.manual_seed(0)
X = torch.randn(96, 1, 8, 8)
y = (X.mean(dim=(1, 2, 3)) > 0).long()
train_set, test_set = random_split(TensorDataset(X, y), [64, 32])
train_loader = DataLoader(train_set, batch_size=16, shuffle=True, num_workers=2, pin_memory=True)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=16)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 2)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))

model = Net().to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses = []
for epoch in range(8):
    model.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
torch.save(model.state_dict(), path)
model2 = Net()
model2.load_state_dict(torch.load(path, weights_only=True, map_location=device))
model2.eval()
correct = 0
with torch.no_grad():
    for xb, yb in test_loader:
        correct += (model2(xb).argmax(1) == yb).type(torch.float).sum().item()
accuracy = correct / len(test_loader.dataset)
'''


def test_tutorial_training_code_runs_on_both_libraries(tmp_path):
    results = {}
    for lib in (cnnlab, torch):
        scope = {"torch": lib, "path": str(tmp_path / f"{lib.__name__}.pth")}
        exec(compile(TUTORIAL.replace("from torch", f"from {lib.__name__}"), "tutorial", "exec"), scope)
        results[lib.__name__] = scope
    for scope in results.values():
        assert sum(scope["losses"][-4:]) < sum(scope["losses"][:4]) and scope["accuracy"] >= 0.7, scope["accuracy"]
    assert list(results["cnnlab"]["model"].state_dict()) == list(results["torch"]["model"].state_dict())


def test_star_import_brings_functions_but_no_submodules():
    scope = {}
    exec("import io\nfrom cnnlab import *", scope)
    assert scope["io"].__name__ == "io" and "nn" not in scope and "data" not in scope
    assert scope["save"] is cnnlab.save and scope["FloatTensor"] is cnnlab.FloatTensor and scope["tensor"] is cnnlab.tensor
    assert {"save", "load", "sum", "FloatTensor", "no_grad", "device"} <= set(cnnlab.__all__) <= set(dir(cnnlab))
