"""cnnlab.load on the legacy (pre-zip) torch.save format, written by torch.save(..., _use_new_zipfile_serialization=
False): values, dtypes, views and containers as torch.load gives them; files that carry code refused without
running it; truncated or inconsistent files refused with a CheckpointError."""
import collections
import io
import os
import pickle

import numpy as np
import pytest

import cnnlab
from cnnlab.errors import CheckpointError
from cnnlab.io import torch_legacy

torch = pytest.importorskip("torch")


def _legacy_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def _same(ours, theirs):
    """ours (from cnnlab.load) equals theirs (from torch.load), recursively, tensors by value and dtype."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cnnlab.Tensor)
        expected = theirs.float() if theirs.dtype == torch.bfloat16 else theirs  # bfloat16 arrives as float32
        assert str(ours.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), expected.detach().numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            _same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


def test_values_dtypes_views_and_containers_as_torch_load(tmp_path):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    obj = {
        "weight": torch.randn(3, 4), "transposed": base.t(), "rows": base[1:3], "strided": base[:, ::2],
        "shared": [base, base[2]],  # two tensors on one storage
        "int64": torch.tensor([1, -2, 3]), "int32": torch.tensor([7], dtype=torch.int32),
        "int8": torch.tensor([-1, 1], dtype=torch.int8), "uint8": torch.tensor([255, 0], dtype=torch.uint8),
        "half": torch.tensor([0.5, -2.0], dtype=torch.float16), "bf16": torch.tensor([1.5, -3.0], dtype=torch.bfloat16),
        "bool": torch.tensor([True, False]), "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3),
        "state": torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3)).state_dict(),
        "meta": {"epoch": 3, "name": "run", "lr": 0.1, "none": None, "pair": (1, "a"), "flag": True},
        "parameter": torch.nn.Parameter(torch.ones(2)),
    }
    data = _legacy_bytes(obj)
    assert torch_legacy.is_legacy(data[:16])
    path = tmp_path / "legacy.pth"
    path.write_bytes(data)
    theirs = torch.load(path, weights_only=True)
    for source in (path, str(path), io.BytesIO(data)):
        _same(cnnlab.load(source), theirs)
    loaded = cnnlab.load(path)
    assert type(loaded["state"]) is collections.OrderedDict
    model = cnnlab.nn.Sequential(cnnlab.nn.Conv2d(2, 3, 3), cnnlab.nn.BatchNorm2d(3))
    model.load_state_dict(loaded["state"])  # a legacy state_dict goes straight into a model


def test_a_model_object_or_a_payload_is_refused_and_not_run(tmp_path):
    with pytest.raises(CheckpointError, match=r"refers to torch.nn.modules.linear.Linear.*nothing in it was run"):
        cnnlab.load(io.BytesIO(_legacy_bytes(torch.nn.Linear(2, 2))))
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    # the legacy framing with a code-running object pickle in place of the tensors
    header = b"".join(pickle.dumps(v, protocol=2) for v in (torch_legacy.MAGIC_NUMBER, torch_legacy.PROTOCOL_VERSION,
                                                             {"protocol_version": 1001, "little_endian": True}))
    with pytest.raises(CheckpointError, match=r"refers to (posix|os|nt)\.system"):
        cnnlab.load(io.BytesIO(header + pickle.dumps(Payload(), protocol=2) + pickle.dumps([], protocol=2)))
    assert not marker.exists()


def test_truncated_and_inconsistent_files_are_refused():
    data = _legacy_bytes({"w": torch.arange(10.0)})
    for cut in (20, len(data) // 2, len(data) - 8, len(data) - 1):
        with pytest.raises(CheckpointError, match="legacy checkpoint|truncated"):
            cnnlab.load(io.BytesIO(data[:cut]))
    # the 8-byte element count before the storage's bytes says 2**40: refused before anything is allocated
    count = (10).to_bytes(8, "little")
    at = data.rindex(count)
    forged = data[:at] + (1 << 40).to_bytes(8, "little") + data[at + 8:]
    with pytest.raises(CheckpointError, match=r"holds 1099511627776 elements but the pickle says 10"):
        cnnlab.load(io.BytesIO(forged))
    wrong_version = data.replace(pickle.dumps(1001, protocol=2), pickle.dumps(1002, protocol=2), 1)
    with pytest.raises(CheckpointError, match="unsupported legacy checkpoint version. Got protocol_version=1002"):
        cnnlab.load(io.BytesIO(wrong_version))


def test_a_tensor_reaching_past_its_storage_is_refused():
    data = _legacy_bytes({"w": torch.arange(6.0).reshape(2, 3)})
    # the pickle declares size (2, 3); make it (3, 3): nine elements from a storage of six
    forged = data.replace(b"K\x02K\x03\x86", b"K\x03K\x03\x86", 1)
    assert forged != data
    with pytest.raises(CheckpointError, match="reaches past the end of its storage"):
        cnnlab.load(io.BytesIO(forged))
