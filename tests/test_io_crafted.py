"""cnnlab.load on crafted, corrupt and truncated checkpoints: each one raises CheckpointError naming the file,
what is wrong and what was expected, runs nothing, and allocates no more than the file can honestly hold."""
import collections
import io
import json
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import cnnlab
from cnnlab.io import CheckpointError, torch_load

torch = pytest.importorskip("torch")


# ---- building files by hand ---------------------------------------------------------------------------------
class _StoragePid:
    """Pickled as the persistent id ('storage', <torch storage class>, key, 'cpu', numel)."""

    def __init__(self, cls, key, numel):
        self.pid = ("storage", cls, key, "cpu", numel)


class _Rebuild:
    def __init__(self, storage, offset, size, stride, version=2, dtype=None):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())
        self.fn = torch._utils._rebuild_tensor_v2
        if version == 3:
            self.args += (dtype,)
            self.fn = torch._utils._rebuild_tensor_v3

    def __reduce__(self):
        return self.fn, self.args


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _StoragePid) else None


def _checkpoint(obj, records, compression=zipfile.ZIP_STORED):
    """The bytes of a torch.save-layout zip holding `obj` (with _Rebuild / _StoragePid inside) and records."""
    pkl = io.BytesIO()
    _Pickler(pkl, protocol=2).dump(obj)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        z.writestr("archive/data.pkl", pkl.getvalue())
        z.writestr("archive/byteorder", "little")
        for key, data in records.items():
            z.writestr(f"archive/data/{key}", data)
    return buf.getvalue()


def _load_bytes(tmp_path, data, name="crafted.pth"):
    path = tmp_path / name
    path.write_bytes(data)
    return cnnlab.load(str(path))


def _valid_state():
    g = np.random.default_rng(0)
    return {"conv.weight": cnnlab.from_numpy(g.standard_normal((4, 3, 3, 3)).astype(np.float32)),
            "fc.bias": cnnlab.from_numpy(g.standard_normal(5)), "steps": cnnlab.tensor(7),
            "mask": cnnlab.tensor([True, False]), "epoch": 3, "name": "net"}


def _same(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        if isinstance(a[k], cnnlab.Tensor):
            assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
            np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
        else:
            assert a[k] == b[k]


def _one_line(e, name):
    message = str(e.value)
    assert "\n" not in message and name in message and "xpected" in message, message
    return message


# ---- zip damage -----------------------------------------------------------------------------------------------
def test_bad_crc_names_the_file_and_the_record(tmp_path):
    buf = io.BytesIO()
    cnnlab.save({"w": cnnlab.arange(64).float()}, buf)
    data = bytearray(buf.getvalue())
    start = data.index(np.arange(64, dtype=np.float32).tobytes())
    data[start + 100] ^= 0x40  # one bit of the storage's bytes
    with pytest.raises(CheckpointError, match=r"^load: '.*crafted\.pth' is not a valid PyTorch checkpoint: record "
                                              r"'.*/data/0' cannot be read \(BadZipFile: Bad CRC-32.*\)\. Expected records "
                                              r"whose bytes match their CRC-32") as e:
        _load_bytes(tmp_path, bytes(data))
    _one_line(e, "crafted.pth")


def test_corrupt_deflate_stream(tmp_path):
    data = bytearray(_checkpoint({"w": _Rebuild(_StoragePid(torch.FloatStorage, "0", 4096), 0, (4096,), (1,))},
                                 {"0": np.arange(4096, dtype=np.float32).tobytes()}, zipfile.ZIP_DEFLATED))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("archive/data/0")
    body = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[body + 3: body + 40] = b"\xff" * 37
    with pytest.raises(CheckpointError, match=r"record 'archive/data/0' cannot be read \((zlib\.)?error: Error -3"):
        _load_bytes(tmp_path, bytes(data))


@pytest.mark.parametrize("keep", [0, 3, 30, 200, -22, -1])
def test_truncated_zip(tmp_path, keep):
    buf = io.BytesIO()
    cnnlab.save(_valid_state(), buf)
    data = buf.getvalue()
    cut = data[:keep] if keep >= 0 else data[:len(data) + keep]
    with pytest.raises(CheckpointError, match=r"crafted\.pth"):
        _load_bytes(tmp_path, cut)


def test_record_size_must_match_the_declared_storage(tmp_path):
    storage = _StoragePid(torch.FloatStorage, "0", 4)
    data = _checkpoint({"w": _Rebuild(storage, 0, (4,), (1,))}, {"0": np.zeros(8, np.float32).tobytes()})
    with pytest.raises(CheckpointError, match=r"record 'archive/data/0' holds 32 bytes, but the pickle declares 16\. "
                                              r"Expected each storage record to hold exactly numel \* itemsize bytes"):
        _load_bytes(tmp_path, data)
    short = _checkpoint({"w": _Rebuild(_StoragePid(torch.FloatStorage, "0", 8), 0, (8,), (1,))},
                        {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(CheckpointError, match=r"holds 16 bytes, but the pickle declares 32"):
        _load_bytes(tmp_path, short)


def test_directory_sizes_that_lie_are_refused_before_reading(tmp_path):
    data = bytearray(_checkpoint({"w": _Rebuild(_StoragePid(torch.FloatStorage, "0", 4), 0, (4,), (1,))},
                                 {"0": np.zeros(4, np.float32).tobytes()}))
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    entry = -1
    while data[entry + 46: entry + 60] != b"archive/data/0":  # the central directory entry of archive/data/0
        entry = data.index(b"PK\x01\x02", entry + 1)
    # it now claims a 2 GiB uncompressed size
    data[entry + 24: entry + 28] = struct.pack("<I", 2 ** 31)
    assert z.getinfo("archive/data/0").file_size == 16
    with pytest.raises(CheckpointError, match=r"record 'archive/data/0' holds 2147483648 bytes, but the pickle declares 16"):
        _load_bytes(tmp_path, bytes(data))


def test_compression_bounds_are_checked_on_the_directory():
    archive = torch_load._Archive.__new__(torch_load._Archive)
    archive.name, archive.file_size = "'x.pth'", 10_000
    info = zipfile.ZipInfo("archive/data/0")
    info.compress_type, info.compress_size, info.file_size = zipfile.ZIP_DEFLATED, 1000, 2_000_000
    with pytest.raises(CheckpointError, match=r"claims to inflate from 1000 to 2000000 bytes, more than deflate can "
                                              r"compress\. Expected at most 1032:1"):
        archive.check_sizes(info, 2_000_000)
    info.compress_type, info.file_size = zipfile.ZIP_BZIP2, 1000
    with pytest.raises(CheckpointError, match=r"uses zip compression method 12\. Expected stored records"):
        archive.check_sizes(info, 1000)
    info.compress_type, info.compress_size = zipfile.ZIP_STORED, 20_000
    with pytest.raises(CheckpointError, match=r"claims 20000 compressed bytes in a file of 10000"):
        archive.check_sizes(info, 1000)
    info.compress_size = 999
    with pytest.raises(CheckpointError, match=r"stored uncompressed but its sizes differ \(999 and 1000 bytes\)"):
        archive.check_sizes(info, 1000)


def test_data_pkl_that_inflates_too_far_is_refused(tmp_path, monkeypatch):
    data = _checkpoint({"values": list(range(2000))}, {}, zipfile.ZIP_DEFLATED)
    assert _load_bytes(tmp_path, data)["values"] == list(range(2000))
    monkeypatch.setattr(torch_load, "MAX_PICKLE_BYTES", 1000)
    with pytest.raises(CheckpointError, match=r"record 'archive/data\.pkl' inflates to \d+ bytes\. Expected at most 1000"):
        _load_bytes(tmp_path, data)


# ---- layouts that do not add up ------------------------------------------------------------------------------
@pytest.mark.parametrize("offset, size, stride, message", [
    (0, (5,), (1,), r"must stay inside its storage of 4 elements, but its last element is number 4"),
    (3, (2,), (1,), r"last element is number 4"),
    (0, (2, 2), (2,), r"as many strides as sizes"),
    (0, (2,), (-1,), r"no negative value"),
    (-1, (1,), (1,), r"no negative value"),
    (5, (0,), (1,), r"offset must lie inside its storage of 4 elements. Got offset=5"),
    (0, (2.5,), (1,), r"integer offset and integer sizes and strides"),
    (0, "ab", (1,), r"integer offset and integer sizes and strides"),
    (0, (2 ** 40, 2 ** 40), (0, 0), r"element count must fit in 64 bits"),
])
def test_bad_layouts_are_refused(tmp_path, offset, size, stride, message):
    data = _checkpoint({"w": _Rebuild(_StoragePid(torch.FloatStorage, "0", 4), offset, size, stride)},
                       {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(CheckpointError, match=r"^load: '.*crafted\.pth': .*" + message):
        _load_bytes(tmp_path, data)


def test_a_storage_shared_by_two_dtypes_is_refused(tmp_path):
    data = _checkpoint({"a": _Rebuild(_StoragePid(torch.FloatStorage, "0", 4), 0, (4,), (1,)),
                        "b": _Rebuild(_StoragePid(torch.IntStorage, "0", 4), 0, (4,), (1,))},
                       {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(CheckpointError, match=r"storage '0' is declared both as FloatStorage of 4 elements and as "
                                              r"IntStorage of 4\. Expected one dtype and size per storage"):
        _load_bytes(tmp_path, data)


def test_bool_bytes_other_than_0_and_1_are_true(tmp_path):
    data = _checkpoint({"m": _Rebuild(_StoragePid(torch.BoolStorage, "0", 3), 0, (3,), (1,))}, {"0": b"\x00\x01\x07"})
    m = _load_bytes(tmp_path, data)["m"]
    assert m.tolist() == [False, True, True] and m.numpy().view(np.uint8).tolist() == [0, 1, 1]


def test_an_untyped_storage_read_as_two_dtypes_is_refused(tmp_path):
    storage = _StoragePid(torch.storage.UntypedStorage, "0", 8)
    good = {"a": _Rebuild(storage, 0, (4,), (1,), version=3, dtype=torch.uint16)}
    records = {"0": np.arange(4, dtype=np.uint16).tobytes()}
    assert _load_bytes(tmp_path, _checkpoint(good, records))["a"].tolist() == [0, 1, 2, 3]
    bad = dict(good, b=_Rebuild(storage, 0, (2,), (1,), version=3, dtype=torch.int32))
    with pytest.raises(CheckpointError, match=r"a storage must hold one dtype, as torch.save requires. Got storage "
                                              r"'0' read as uint16 and as int32"):
        _load_bytes(tmp_path, _checkpoint(bad, records))


@pytest.mark.parametrize("pid", [("storage", "FloatStorage", "0", "cpu", 4), ("storage",),
                                 ("storage", None, "0", "cpu", -1)])
def test_bad_persistent_ids(tmp_path, pid):
    class Bad:
        pass

    obj = Bad()
    obj.pid = pid

    class P(pickle.Pickler):
        def persistent_id(self, o):
            return o.pid if isinstance(o, Bad) else None

    pkl = io.BytesIO()
    P(pkl, protocol=2).dump({"w": obj})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl.getvalue())
    with pytest.raises(CheckpointError, match=r"crafted\.pth"):
        _load_bytes(tmp_path, buf.getvalue())


def test_views_share_their_storage_and_expanded_views_are_read_only(tmp_path):
    """As torch.load gives them: views of one storage share memory; a stride-0 tensor is not materialised."""
    base = torch.arange(12.0)
    torch.save({"whole": base, "window": base[2:8].view(2, 3), "t": base.view(3, 4).t(),
                "expanded": torch.ones(1).expand(5, 3)}, tmp_path / "views.pth")
    ours, theirs = cnnlab.load(str(tmp_path / "views.pth")), torch.load(tmp_path / "views.pth")
    for k in theirs:
        np.testing.assert_array_equal(ours[k].numpy(), theirs[k].numpy())
        assert ours[k].stride() == theirs[k].stride()
    assert np.shares_memory(ours["whole"].numpy(), ours["window"].numpy())
    ours["whole"][3] = 100.0
    assert ours["window"][0, 1].item() == 100.0 and ours["t"][3, 0].item() == 100.0
    with pytest.raises(RuntimeError, match="read-only view"):
        ours["expanded"].add_(1)
    assert (ours["expanded"] + 1).sum().item() == 30.0


# ---- bfloat16, float16, and torch's newer dtypes ------------------------------------------------------------
def test_bfloat16_and_float16_from_torch_save(tmp_path):
    g = torch.Generator().manual_seed(0)
    bf, half = torch.randn(3, 4, generator=g).bfloat16(), torch.randn(5, generator=g).half()
    torch.save({"bf": bf, "half": half, "bf_view": bf[1:, ::2], "u16": torch.full((3,), 65000, dtype=torch.uint16)},
               tmp_path / "bf.pth")
    out = cnnlab.load(str(tmp_path / "bf.pth"))
    assert out["bf"].dtype == out["bf_view"].dtype == cnnlab.bfloat16  # kept, as torch.load keeps it
    np.testing.assert_array_equal(out["bf"].float().numpy(), bf.float().numpy())  # exact
    np.testing.assert_array_equal(out["bf_view"].float().numpy(), bf[1:, ::2].float().numpy())
    assert out["half"].dtype == cnnlab.float16
    np.testing.assert_array_equal(out["half"].numpy(), half.numpy())
    assert out["u16"].numpy().dtype == np.uint16 and out["u16"].tolist() == [65000] * 3


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_bfloat16_written_here_is_bfloat16_in_torch(tmp_path, suffix):
    values = cnnlab.tensor([[1.0, -2.5, 3.0e38], [1e-40, float("inf"), 0.1]]).to(cnnlab.bfloat16)
    state = {"w": values, "t": values.T, "s": values[0, 1]}
    path = str(tmp_path / ("bf" + suffix))
    cnnlab.save(state, path)
    if suffix == ".pth":
        theirs = torch.load(path, weights_only=True)
    else:
        theirs = pytest.importorskip("safetensors.torch").load_file(path)
    ours = cnnlab.load(path)
    for k, v in state.items():
        assert theirs[k].dtype == torch.bfloat16 and ours[k].dtype == cnnlab.bfloat16 and ours[k].shape == v.shape
        np.testing.assert_array_equal(theirs[k].float().numpy(), v.float().numpy())
        np.testing.assert_array_equal(ours[k].float().numpy(), v.float().numpy())


def test_complex_tensors_get_a_clear_refusal(tmp_path):
    torch.save({"c": torch.zeros(2, dtype=torch.complex64)}, tmp_path / "c.pth")
    with pytest.raises(CheckpointError, match=r"c\.pth': cnnlab reads real floating-point, integer and bool tensors; "
                                              r"this checkpoint holds complex64 tensors"):
        cnnlab.load(str(tmp_path / "c.pth"))


# ---- safetensors ---------------------------------------------------------------------------------------------
def _safetensors_bytes(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_bfloat16_and_float16_safetensors_written_by_pytorch(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    g = torch.Generator().manual_seed(1)
    tensors = {"bf": torch.randn(4, 5, generator=g).bfloat16(), "half": torch.randn(3, generator=g).half(),
               "f": torch.randn(2, generator=g), "i": torch.arange(3), "b": torch.tensor([True, False]),
               "scalar": torch.tensor(2.5).bfloat16()}
    st.save_file(tensors, str(tmp_path / "m.safetensors"))
    out = cnnlab.load(str(tmp_path / "m.safetensors"))
    assert out["bf"].dtype == out["scalar"].dtype == cnnlab.bfloat16
    np.testing.assert_array_equal(out["bf"].float().numpy(), tensors["bf"].float().numpy())
    assert out["scalar"].shape == () and out["scalar"].item() == 2.5
    assert out["half"].dtype == cnnlab.float16 and out["b"].tolist() == [True, False]
    for k in ("half", "f", "i"):
        np.testing.assert_array_equal(out[k].numpy(), tensors[k].numpy())


def test_safetensors_written_here_read_by_the_package_and_torch(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    state = {"w": cnnlab.randn(3, 4).T, "h": cnnlab.ones(2, dtype=cnnlab.float16), "n": cnnlab.tensor(3),
             "e": cnnlab.zeros(0, 2)}
    cnnlab.save(state, str(tmp_path / "a.safetensors"), metadata={"format": "pt"})
    theirs = st.load_file(str(tmp_path / "a.safetensors"))
    for k, v in state.items():
        np.testing.assert_array_equal(theirs[k], v.numpy())
        assert theirs[k].dtype == v.numpy().dtype
    ours = cnnlab.load(str(tmp_path / "a.safetensors"))
    for k, v in state.items():
        np.testing.assert_array_equal(ours[k].numpy(), v.numpy())


@pytest.mark.parametrize("data, message", [
    (b"", r"fewer than the 8 of the header size"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{", r"header size must fit in the file.*Got header size 16 in a file of 9"),
    (b"\xff" * 8 + b"{}", r"header size must fit"),
    (struct.pack("<Q", 4) + b"{\"a\"", r"header is not valid JSON"),
    (struct.pack("<Q", 2) + b"\xff\xfe", r"header is not valid JSON \(UnicodeDecodeError"),
    (_safetensors_bytes([1, 2]), r"header must be a JSON object. Got a list"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4),
     r"the tensors' data must end where the file does. Got 8 bytes of tensors and 4 bytes of data"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
     r"tensor 'w' of dtype F32 and shape \[2\] needs 8 bytes. Got data_offsets=\[0, 4\]"),
    (_safetensors_bytes({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
     r"tensor 'w' has dtype 'F8_E4M3'; cnnlab reads F64, F32, F16, BF16"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4),
     r"list of sizes >= 0"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, b"\0" * 4),
     r"list of sizes >= 0"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), r"exactly dtype, shape and data_offsets"),
    (_safetensors_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                         "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
     r"without gaps or overlaps. Got tensor '(a|b)' at byte 0, expected 4"),
    (_safetensors_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8),
     r"without gaps or overlaps. Got tensor 'a' at byte 4, expected 0"),
    (struct.pack("<Q", 30) + b'{"a": 1, "a": 2}              ', r"duplicate names \['a'\]"),
    (_safetensors_bytes({"__metadata__": {"x": 1}}), r"__metadata__ must map strings to strings"),
    (_safetensors_bytes({"w": {"dtype": "F32", "shape": [2 ** 62, 0, 2 ** 62], "data_offsets": [0, 0]}}),
     r"sizes must fit in 64 bits"),
    (struct.pack("<Q", 20000) + b"[" * 20000, r"header is not valid JSON \(RecursionError"),
])
def test_crafted_safetensors_headers(tmp_path, data, message):
    name = "m.safetensors"
    with pytest.raises(CheckpointError, match=r"^load: '.*m\.safetensors'|^load: the file is neither") as e:
        _load_bytes(tmp_path, data, name)
    if not str(e.value).startswith("load: the file is neither"):
        assert "\n" not in str(e.value)
        assert __import__("re").search(message, str(e.value)), str(e.value)


def test_safetensors_bool_bytes_and_empty_header(tmp_path):
    out = _load_bytes(tmp_path, _safetensors_bytes({"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}},
                                                   b"\x00\x01\x07"), "b.safetensors")
    assert out["m"].tolist() == [False, True, True]
    assert _load_bytes(tmp_path, _safetensors_bytes({}), "e.safetensors") == {}


# ---- fuzz: random flips and truncations ---------------------------------------------------------------------
def _formats():
    state = {k: v for k, v in _valid_state().items() if isinstance(v, cnnlab.Tensor)}
    stored, deflated, st = io.BytesIO(), io.BytesIO(), io.BytesIO()
    cnnlab.save(_valid_state(), stored)
    with zipfile.ZipFile(io.BytesIO(stored.getvalue())) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            z.writestr(n, src.read(n))
    cnnlab.io.save_safetensors(state, st)
    return {"zip": stored.getvalue(), "zip-deflated": deflated.getvalue(), "safetensors": st.getvalue()}


@pytest.mark.parametrize("fmt", ["zip", "zip-deflated", "safetensors"])
def test_fuzz_flips_and_truncations_raise_checkpoint_error_or_load_the_same(tmp_path, fmt):
    """200 damaged copies each: a zip either loads the same values (the damage hit bytes no reader needs; the
    CRC-32 catches everything else) or raises CheckpointError. safetensors has no checksum, so a flip inside the
    tensor bytes loads other values; anything else must still be CheckpointError or a clean load."""
    good = _formats()[fmt]
    expected = cnnlab.io.load(io.BytesIO(good))
    rng = np.random.default_rng({"zip": 1, "zip-deflated": 2, "safetensors": 3}[fmt])
    outcomes = collections.Counter()
    for trial in range(200):
        data = bytearray(good)
        kind = trial % 4
        if kind == 3:
            data = data[:rng.integers(0, len(data))]
        else:
            for _ in range(1 + kind * 3):
                data[rng.integers(0, len(data))] ^= 1 << int(rng.integers(0, 8))
        try:
            got = cnnlab.io.load(io.BytesIO(bytes(data)))
        except CheckpointError as e:
            assert "\n" not in str(e)
            outcomes["refused"] += 1
            continue
        outcomes["loaded"] += 1
        if fmt != "safetensors":
            _same(got, expected)
        else:
            assert all(isinstance(v, cnnlab.Tensor) for v in got.values())
    assert outcomes["refused"] > 100, outcomes


# ---- memory: what a small file may cost ---------------------------------------------------------------------
_PEAK = textwrap.dedent(r"""
    import io, resource, sys, zipfile, collections, pickle
    import numpy as np
    import cnnlab
    path, = sys.argv[1:]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = cnnlab.load(path)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    w = out["w"]
    print((after - before) // 1024, w.shape[0], float(w[:3].sum().item()), w.numpy().flags.writeable)
""")


def _peak_mb(path):
    run = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    grew, n, head, writeable = run.stdout.split()
    return int(grew), int(n), float(head), writeable == "True"


def test_a_stride_0_tensor_is_not_materialised(tmp_path):
    """A 600-byte file declaring 2**28 elements that all repeat one stored float: a read-only view, not 1 GiB."""
    data = _checkpoint({"w": _Rebuild(_StoragePid(torch.FloatStorage, "0", 1), 0, (2 ** 28,), (0,))},
                       {"0": np.float32(2.0).tobytes()})
    assert len(data) < 700
    (tmp_path / "s0.pth").write_bytes(data)
    grew, n, head, writeable = _peak_mb(tmp_path / "s0.pth")
    assert n == 2 ** 28 and head == 6.0 and not writeable
    assert grew < 100, f"loading grew the peak memory by {grew} MB"


def test_a_deflated_storage_inflates_once(tmp_path):
    """A ~250 KB zip whose storage inflates to 256 MiB: the peak grows by about the tensor, not twice it."""
    numel = 64 << 20  # float32: 256 MiB
    buf = io.BytesIO()
    pkl = io.BytesIO()
    _Pickler(pkl, protocol=2).dump({"w": _Rebuild(_StoragePid(torch.FloatStorage, "0", numel), 0, (numel,), (1,))})
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pkl.getvalue())
        with z.open("archive/data/0", "w", force_zip64=True) as record:
            block = bytes(16 << 20)
            for _ in range(16):
                record.write(block)
    assert len(buf.getvalue()) < 1 << 20
    (tmp_path / "bomb.pth").write_bytes(buf.getvalue())
    grew, n, head, writeable = _peak_mb(tmp_path / "bomb.pth")
    assert n == numel and head == 0.0 and writeable
    assert grew < 256 * 1.5, f"loading a 256 MiB tensor grew the peak memory by {grew} MB (twice it before)"
