"""Reading PyTorch's zip checkpoints (torch.save since PyTorch 1.6) without PyTorch and without trusting them.

A torch.save file is a zip archive `<name>/data.pkl` (a protocol-2 pickle) plus one record per storage,
`<name>/data/<key>`, holding its raw little-endian bytes. In the pickle each tensor is
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` (v3 adds a dtype) and
each storage a persistent id `('storage', torch.FloatStorage, key, 'cpu', numel)`.

What a crafted or damaged file can do is bounded here:
- code: a restricted unpickler looks up only the names a file of tensors, numbers, strings and containers
  needs; anything else stops the load before any of it runs;
- memory: each record is read only up to the size the pickle declares for it, into one array; its size in
  the zip directory must agree, a record may inflate at most as deflate can (1032:1), and data.pkl at most to
  MAX_PICKLE_BYTES; tensors are views of their storage (an expanded tensor stays an expanded, read-only view);
- corruption: every zip, zlib, pickle or layout failure becomes one CheckpointError naming the file and the
  record, with what was expected.
"""
import collections
import functools
import io
import pickle
import zipfile

import numpy as np

from .._dtypes import BF16_NP
from ..errors import CheckpointError
from ..tensor import Tensor
from ._layout import strided_view

# storage class name in the pickle -> NumPy dtype of its bytes
STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_, "BFloat16Storage": np.uint16, "UntypedStorage": np.uint8,
}
_UNSUPPORTED_STORAGES = {"ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
                         "QInt8Storage": "qint8", "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
                         "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4"}
# the dtypes a _rebuild_tensor_v3 names (torch writes v3 for the dtypes without a typed storage class)
_TORCH_DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "bfloat16": np.uint16,
                 "int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8,
                 "bool": np.bool_, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64}

MAX_PICKLE_BYTES = 64 << 20  # a deflated data.pkl may inflate to this much (state dicts' pickles are KBs)
_DEFLATE_MAX_RATIO = 1032     # the most deflate can compress (runs of one byte)
_CHUNK = 16 << 20


class _StorageType:
    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(STORAGE_DTYPES[name])


class _TorchDType:
    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(_TORCH_DTYPES[name])


class _Storage:
    """One storage record read into a 1-d array (bfloat16 bits already widened to cnnlab's bfloat16)."""

    def __init__(self, key, type_name, numel, array, big_endian=False):
        self.key, self.type_name, self.numel, self.array = key, type_name, numel, array
        self.big_endian = big_endian  # only an untyped storage keeps its file byte order (uint8 has none)
        self.views = {}  # a v3 dtype -> this storage's bytes seen as that dtype


def bfloat16_to_float32(bits):
    """float32 values of bfloat16 bit patterns (uint16): exact, since bfloat16 is float32's top half."""
    wide = bits.astype(np.uint32)  # a new array, also for 0-d (where << would give a scalar)
    np.left_shift(wide, 16, out=wide)
    return wide.view(np.float32)


def bfloat16_from_bits(bits):
    """A cnnlab bfloat16 array (float32 values on the bfloat16 grid, tagged) from bfloat16 bit patterns: the
    dtype torch.load gives, with the values exact."""
    return bfloat16_to_float32(bits).view(BF16_NP)


def bfloat16_bits(arr):
    """The bfloat16 bit patterns (uint16) of a cnnlab bfloat16 array (its float32 values' top halves)."""
    return (np.asarray(arr, order="C").view(np.uint32) >> np.uint32(16)).astype(np.uint16)  # 0-d stays 0-d


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                    metadata=None, *, where="load"):
    if not isinstance(storage, _Storage):
        raise CheckpointError(f"{where}: a tensor must be rebuilt from a storage record. Got "
                              f"{type(storage).__name__}.")
    if storage.type_name == "UntypedStorage":
        raise CheckpointError(f"{where}: a tensor on an untyped storage must name its dtype (_rebuild_tensor_v3).")
    return Tensor._wrap(strided_view(storage.array, storage_offset, size, stride, where))


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, dtype=None,
                       metadata=None, *, where="load"):
    if not isinstance(storage, _Storage) or not isinstance(dtype, _TorchDType):
        raise CheckpointError(f"{where}: _rebuild_tensor_v3 needs a storage record and a torch dtype. Got "
                              f"{type(storage).__name__} and {type(dtype).__name__}.")
    if storage.type_name != "UntypedStorage":
        same = storage.array.dtype == dtype.dtype or (dtype.name, storage.type_name) == ("bfloat16", "BFloat16Storage")
        if not same:
            raise CheckpointError(f"{where}: a tensor's dtype must match its storage's. Got dtype={dtype.name}, "
                                  f"storage {storage.type_name}.")
        return _rebuild_tensor(storage, storage_offset, size, stride, where=where)
    if dtype.name not in storage.views:
        if storage.views:
            raise CheckpointError(f"{where}: a storage must hold one dtype, as torch.save requires. Got storage "
                                  f"{storage.key!r} read as {next(iter(storage.views))} and as {dtype.name}.")
        raw = storage.array
        if raw.size % dtype.dtype.itemsize:
            raise CheckpointError(f"{where}: an untyped storage's bytes must be a whole number of {dtype.name} "
                                  f"elements. Got {raw.size} bytes for itemsize {dtype.dtype.itemsize}.")
        view = raw.view(dtype.dtype.newbyteorder(">")).astype(dtype.dtype) if storage.big_endian else raw.view(dtype.dtype)
        storage.views[dtype.name] = bfloat16_from_bits(view) if dtype.name == "bfloat16" else view
    return Tensor._wrap(strided_view(storage.views[dtype.name], storage_offset, size, stride, where))


def _rebuild_tensor_v1(storage, storage_offset, size, stride, *, where="load"):
    return _rebuild_tensor(storage, storage_offset, size, stride, where=where)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, *state):
    return data


def _latin1_bytes(text, encoding=None):
    """The one use of _codecs.encode a protocol-2 pickle makes: bytes written as latin-1 text."""
    if encoding != "latin1" or not isinstance(text, str):
        raise CheckpointError(f"load: the checkpoint calls _codecs.encode in a way that bytes never need. "
                              f"Got encoding={encoding!r}.")
    return text.encode("latin1")


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor_v1,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): tuple,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    # torch.save pickles with protocol 2, which names Python 2's module for sets and spells bytes as
    # _codecs.encode(text, "latin1"); the overridden find_class sees those names before any mapping
    ("__builtin__", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("_codecs", "encode"): _latin1_bytes,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Looks up only the names in _ALLOWED and torch's storage types and dtypes; refuses everything else.
    `where` ("load: <file>") starts the messages; read_storage(storage_type, key, numel) reads a record."""

    def __init__(self, file, read_storage, where="load"):
        super().__init__(file)
        self._read_storage, self.where = read_storage, where

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            found = _ALLOWED[(module, name)]
            return functools.partial(found, where=self.where) if module == "torch._utils" and "tensor" in name else found
        if module in ("torch", "torch.storage") and name in STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch" and name in _TORCH_DTYPES:
            return _TorchDType(name)
        if module == "torch" and (name in _UNSUPPORTED_STORAGES or name.startswith("float8")):
            kind = _UNSUPPORTED_STORAGES.get(name, name)
            raise CheckpointError(f"{self.where}: cnnlab reads real floating-point, integer and bool tensors; "
                                  f"this checkpoint holds {kind} tensors (torch.{name}). Convert them with PyTorch first.")
        raise CheckpointError(
            f"{self.where}: the checkpoint refers to {module}.{name}, which a file of tensors, numbers and containers "
            "never needs (it may be a pickled model object, or code); refusing to load it, and nothing in it "
            "was run. Save and load `model.state_dict()` instead of the model object.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], (str, int))
                and isinstance(pid[4], int) and not isinstance(pid[4], bool) and pid[4] >= 0):
            raise CheckpointError(f"{self.where}: a storage reference must be ('storage', <storage type>, key, device, "
                                  f"numel >= 0). Got {pid!r:.200}.")
        return self._read_storage(pid[1], str(pid[2]), pid[4])


class _Archive:
    """The zip archive of a checkpoint, read record by record with the bounds above."""

    def __init__(self, f, name):
        self.name = name
        f.seek(0, 2)
        self.file_size = f.tell()
        f.seek(0)
        try:
            self.zip = zipfile.ZipFile(f)
        except Exception as e:  # BadZipFile, and OSError/ValueError/EOFError from damaged zip64 records
            raise self.error(f"its zip directory is missing or damaged ({_reason(e)}); the file may be truncated",
                             "a complete zip archive as torch.save writes it") from None
        self.infos = {i.filename: i for i in self.zip.infolist()}

    def error(self, problem, expected):
        return CheckpointError(f"load: {self.name} is not a valid PyTorch checkpoint: {problem}. Expected "
                               f"{expected}.")

    def check_sizes(self, info, nbytes=None):
        """Refuse a record whose sizes do not add up, before anything is allocated for it."""
        where = f"record {info.filename!r}"
        if nbytes is not None and info.file_size != nbytes:
            raise self.error(f"{where} holds {info.file_size} bytes, but the pickle declares {nbytes}",
                             "each storage record to hold exactly numel * itemsize bytes")
        if info.compress_size > self.file_size:
            raise self.error(f"{where} claims {info.compress_size} compressed bytes in a file of {self.file_size}",
                             "records that fit in the file (it may be truncated)")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise self.error(f"{where} is stored uncompressed but its sizes differ ({info.compress_size} and "
                                 f"{info.file_size} bytes)", "equal sizes for a stored record")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 64:
                raise self.error(f"{where} claims to inflate from {info.compress_size} to {info.file_size} bytes, "
                                 "more than deflate can compress", f"at most {_DEFLATE_MAX_RATIO}:1")
        else:
            raise self.error(f"{where} uses zip compression method {info.compress_type}",
                             "stored records (as torch.save writes) or deflated ones")

    def read_into(self, info, out):
        """Fill the uint8 array `out` with the record's bytes; the record must be exactly that long."""
        n = out.size
        try:
            with self.zip.open(info) as stream:
                pos = 0
                while pos < n:
                    got = stream.readinto(memoryview(out[pos:pos + _CHUNK]))
                    if not got:
                        break
                    pos += got
                extra = stream.read(1)  # reaching the end checks the CRC-32
        except (CheckpointError, MemoryError):
            raise
        except Exception as e:  # BadZipFile (CRC, headers), zlib.error, EOFError, NotImplementedError, ...
            raise self.error(f"record {info.filename!r} cannot be read ({_reason(e)})",
                             "records whose bytes match their CRC-32 and compressed streams that are whole") from None
        if pos != n or extra:
            raise self.error(f"record {info.filename!r} holds {'fewer' if pos != n else 'more'} bytes than its "
                             f"directory entry's {n}", "records of the size the zip directory gives")
        return out

    def read_small(self, info, limit):
        self.check_sizes(info)
        if info.file_size > limit and info.compress_type != zipfile.ZIP_STORED:
            raise self.error(f"record {info.filename!r} inflates to {info.file_size} bytes",
                             f"at most {limit} bytes for it (cnnlab.io.torch_load.MAX_PICKLE_BYTES)")
        return self.read_into(info, np.empty(info.file_size, np.uint8)).tobytes()


def _reason(e):
    text = str(e)
    return f"{type(e).__name__}: {text[:200]}" if text else type(e).__name__


def load(f, name="the file"):
    """Read a torch.save zip checkpoint from a seekable binary file into cnnlab tensors, without PyTorch.
    `name` says which file in the messages."""
    try:
        return _load(f, name)
    except (CheckpointError, MemoryError):  # a real shortage of memory is not a corrupt file
        raise
    except Exception as e:  # the safety net: no raw error from a damaged file reaches the user
        raise CheckpointError(f"load: {name} is not a valid PyTorch checkpoint ({_reason(e)}). Expected a zip "
                              "archive as torch.save writes it.") from None


def _load(f, name):
    archive = _Archive(f, name)
    with archive.zip:
        pkl = sorted(n for n in archive.infos if n.endswith("/data.pkl") and n.count("/") == 1)
        if not pkl:
            raise archive.error("the zip archive has no <name>/data.pkl record", "torch.save's layout")
        prefix = pkl[0][: -len("data.pkl")]
        byteorder = archive.infos.get(prefix + "byteorder")
        big_endian = byteorder is not None and archive.read_small(byteorder, 16).strip() == b"big"
        cache = {}

        def read_storage(storage_type, key, numel):
            storage = cache.get(key)
            if storage is not None:
                if (storage.type_name, storage.numel) != (storage_type.name, numel):
                    raise archive.error(f"storage {key!r} is declared both as {storage.type_name} of {storage.numel} "
                                        f"elements and as {storage_type.name} of {numel}",
                                        "one dtype and size per storage (torch.save refuses to mix them)")
                return storage
            record = prefix + "data/" + key
            info = archive.infos.get(record)
            if info is None:
                raise archive.error(f"it has no record {record!r} for a storage the pickle refers to",
                                    "one record per storage")
            dt = storage_type.dtype
            archive.check_sizes(info, numel * dt.itemsize)
            arr = np.empty(numel, dt.newbyteorder(">") if big_endian else dt)
            archive.read_into(info, arr.view(np.uint8))
            if big_endian and dt.itemsize > 1:
                arr = arr.astype(dt)
            if storage_type.name == "BFloat16Storage":
                arr = bfloat16_from_bits(arr)
            elif storage_type.name == "BoolStorage":
                arr = arr.view(np.uint8) != 0  # any byte other than 0 is True, as one bool
            cache[key] = storage = _Storage(key, storage_type.name, numel, arr, big_endian)
            return storage

        data = archive.read_small(archive.infos[pkl[0]], MAX_PICKLE_BYTES)
        try:
            return _RestrictedUnpickler(io.BytesIO(data), read_storage, f"load: {name}").load()
        except (CheckpointError, MemoryError):
            raise
        except Exception as e:
            raise archive.error(f"its data.pkl is corrupt ({_reason(e)})", "a pickle of tensors, numbers, strings "
                                "and containers") from None
