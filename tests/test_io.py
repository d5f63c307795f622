"""Weights in and out: PyTorch's zip format and safetensors, both directions, and refusal of unsafe files."""
import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import cnnlab
import cnnlab.io
from cnnlab.io import CheckpointError

torch = pytest.importorskip("torch")


def _state_dict():
    cnnlab.manual_seed(0)
    return collections.OrderedDict([
        ("conv.weight", cnnlab.randn(4, 3, 3, 3)),
        ("conv.bias", cnnlab.randn(4)),
        ("fc.weight", cnnlab.randn(5, 2).T),  # non-contiguous: must be written as its values, not its memory
        ("bn.running_mean", cnnlab.zeros(4, dtype=cnnlab.float64)),
        ("bn.num_batches_tracked", cnnlab.tensor(7)),
        ("mask", cnnlab.tensor([True, False, True])),
        ("half", cnnlab.ones(3, dtype=cnnlab.float16)),
        ("bytes", cnnlab.arange(5, dtype=cnnlab.uint8)),
        ("empty", cnnlab.zeros(0, 3)),
    ])


def _assert_same(a, b):
    a = a.numpy() if isinstance(a, cnnlab.Tensor) else a.detach().numpy()
    b = b.numpy() if isinstance(b, cnnlab.Tensor) else b.detach().numpy()
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def test_roundtrip_nested_checkpoint(tmp_path):
    sd = _state_dict()
    ckpt = {"model": sd, "epoch": 3, "history": {"loss": [2.3, 1.1]}, "name": "lenet", "best": np.float64(0.97)}
    cnnlab.io.save(ckpt, tmp_path / "ckpt.pth")
    back = cnnlab.io.load(tmp_path / "ckpt.pth")
    assert back["epoch"] == 3 and back["history"] == {"loss": [2.3, 1.1]} and back["name"] == "lenet"
    assert back["best"] == 0.97 and type(back["best"]) is float
    assert list(back["model"]) == list(sd)
    for k in sd:
        _assert_same(back["model"][k], sd[k])


def test_torch_reads_what_cnnlab_writes(tmp_path):
    sd = _state_dict()
    cnnlab.io.save({"model": sd, "epoch": 3}, tmp_path / "m.pth")
    back = torch.load(tmp_path / "m.pth", weights_only=True)
    assert back["epoch"] == 3
    for k in sd:
        _assert_same(sd[k], back["model"][k])


def test_cnnlab_reads_what_torch_writes(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(4, 2))
    base = torch.arange(12, dtype=torch.float32)
    extra = {"view": base[3:9].view(2, 3), "base": base, "bf16": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
             "t": torch.randn(3, 4).t()}
    torch.save({"model": model.state_dict(), "extra": extra, "epoch": 5}, tmp_path / "t.pth")
    back = cnnlab.io.load(tmp_path / "t.pth")
    assert back["epoch"] == 5
    for k, v in model.state_dict().items():
        _assert_same(back["model"][k], v)
    for k in ("view", "base", "t"):
        _assert_same(back["extra"][k], extra[k])
    assert back["extra"]["bf16"].tolist() == [1.5, -2.25]  # bfloat16 arrives as float32


def test_parameters_saved_directly_by_torch(tmp_path):
    p = torch.nn.Parameter(torch.randn(2, 2))
    torch.save({"p": p}, tmp_path / "p.pt")
    _assert_same(cnnlab.io.load(tmp_path / "p.pt")["p"], p)


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    cnnlab.io.save({"w": cnnlab.ones(2)}, buf)
    buf.seek(0)
    assert cnnlab.io.load(buf)["w"].tolist() == [1.0, 1.0]


def test_safetensors_both_ways(tmp_path):
    from safetensors.torch import load_file, save_file
    sd = {k: v for k, v in _state_dict().items() if k != "empty"}
    cnnlab.io.save(sd, tmp_path / "m.safetensors", metadata={"format": "pt"})
    back = load_file(str(tmp_path / "m.safetensors"))
    for k in sd:
        _assert_same(sd[k], back[k])
    tsd = {"a": torch.randn(3, 2), "b": torch.arange(4)}
    save_file(tsd, str(tmp_path / "t.safetensors"))
    mine = cnnlab.io.load(tmp_path / "t.safetensors")
    for k in tsd:
        _assert_same(mine[k], tsd[k])
    mine["a"][0, 0] = 5.0  # loaded tensors are writable copies


def test_safetensors_refuses_nested_checkpoints(tmp_path):
    with pytest.raises(TypeError, match=r"save: safetensors holds only tensors; 'epoch' is a int"):
        cnnlab.io.save({"w": cnnlab.ones(2), "epoch": 3}, tmp_path / "x.safetensors")
    assert not os.path.exists(tmp_path / "x.safetensors")


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _zip_with_pickle(path, payload_bytes):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", payload_bytes)
        z.writestr("archive/version", "3\n")


def test_malicious_checkpoint_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    _zip_with_pickle(tmp_path / "evil.pth", pickle.dumps({"model": _Payload(marker)}, protocol=2))
    with pytest.raises(CheckpointError, match=r"refers to posix.system|refers to os.system") as e:
        cnnlab.io.load(tmp_path / "evil.pth")
    assert "nothing in it was run" in str(e.value)
    assert not marker.exists()
    # for comparison: the same bytes would run the payload under a plain unpickler
    with zipfile.ZipFile(tmp_path / "evil.pth") as z:
        pickle.loads(z.read("archive/data.pkl"))
    assert marker.exists()


def test_pickled_module_is_refused(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pth")
    with pytest.raises(CheckpointError, match=r"refers to torch.nn.modules.linear.Linear.*state_dict\(\)"):
        cnnlab.io.load(tmp_path / "module.pth")


def test_tampered_tensor_layout_is_refused(tmp_path):
    torch.save({"w": torch.zeros(4)}, tmp_path / "w.pth")
    with zipfile.ZipFile(tmp_path / "w.pth") as z:
        records = {n: z.read(n) for n in z.namelist()}
    pkl_name = next(n for n in records if n.endswith("data.pkl"))
    # size 4 -> 64: a view reaching past the 4-element storage would read foreign memory
    records[pkl_name] = records[pkl_name].replace(b"K\x04\x85", b"K@\x85")
    with zipfile.ZipFile(tmp_path / "bad.pth", "w") as z:
        for n, data in records.items():
            z.writestr(n, data)
    with pytest.raises(CheckpointError, match=r"bad\.pth': a tensor must stay inside its storage of 4 elements, but its last element is number 63"):
        cnnlab.io.load(tmp_path / "bad.pth")


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "x.pth").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="neither a PyTorch zip checkpoint nor a safetensors file"):
        cnnlab.io.load(tmp_path / "x.pth")
    with pytest.raises(FileNotFoundError, match="load: no such file"):
        cnnlab.io.load(tmp_path / "missing.pth")


def test_failed_save_keeps_previous_file(tmp_path):
    path = tmp_path / "ckpt.pth"
    cnnlab.io.save({"epoch": 1}, path)
    with pytest.raises(Exception):
        cnnlab.io.save({"epoch": 2, "bad": lambda: 0}, path)  # a function cannot be pickled
    assert cnnlab.io.load(path) == {"epoch": 1}
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pth"]  # no temporary file left behind
