"""PyTorch's legacy (pre-zip, before 1.6) torch.save format, read without PyTorch and without running code.

torchvision's oldest weight files (AlexNet, VGG, ResNet-18, ...) are in this format, as is anything saved with
`torch.save(obj, f, _use_new_zipfile_serialization=False)`. The file is a sequence of pickles and raw bytes:

    pickle(MAGIC_NUMBER = 0x1950a86a20f9469cfc6c), pickle(PROTOCOL_VERSION = 1001),
    pickle(sys_info: {'protocol_version', 'little_endian', 'type_sizes'}),
    pickle(obj)  -- tensors as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...), each
                    storage a persistent id ('storage', torch.FloatStorage, key, location, numel, view_metadata)
    pickle([key, ...])  -- the storages' keys, in the order their bytes follow
    for each key: int64 element count, then count * element_size raw bytes

The storages' bytes come after the pickle that refers to them, so tensors are first built as placeholders and
filled in once the bytes are read. The unpickler looks up only the names a file of tensors needs (anything
else stops the load before it runs), and every count, view and stride is checked against the bytes actually
in the file. (This file keeps its own small allow-list rather than sharing torch_load's internals.)
"""
import collections
import pickle

import numpy as np

from ..errors import CheckpointError
from ..tensor import Tensor

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_MAGIC_OPCODE = b"\x8a\x0a" + MAGIC_NUMBER.to_bytes(10, "little")  # how a pickle writes MAGIC_NUMBER (LONG1)


def is_legacy(data):
    """Whether `data` (bytes) starts like a legacy torch.save file: a pickle (any protocol) of the magic number."""
    return data[:1] == b"\x80" and _MAGIC_OPCODE in data[:32]


_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "BFloat16Storage": np.uint16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    """A storage named in the pickle, whose bytes come later in the file."""

    def __init__(self, storage_type, numel):
        self.type, self.numel, self.array = storage_type, numel, None


class _View:
    """A slice of a storage (view_metadata (view_key, offset, size) in old files)."""

    def __init__(self, root, offset, size):
        self.root, self.offset, self.size = root, offset, size


class _Pending:
    """A tensor whose storage has not been read yet."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.args = storage, (offset, size, stride)


def _pending_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _Pending(storage, storage_offset, size, stride)


def _pending_v1(storage, storage_offset, size, stride):
    return _Pending(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, *state):
    return data


def _latin1_bytes(text, encoding):
    """The one use of _codecs.encode a protocol-2 pickle makes: bytes written as latin-1 text."""
    if encoding != "latin1" or not isinstance(text, str):
        raise CheckpointError(f"load: the checkpoint calls _codecs.encode in a way that bytes never need. "
                              f"Got encoding={encoding!r}.")
    return text.encode("latin1")


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _pending_v2,
    ("torch._utils", "_rebuild_tensor"): _pending_v1,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch", "Size"): tuple,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
    ("_codecs", "encode"): _latin1_bytes,
}


class _LegacyUnpickler(pickle.Unpickler):
    """Looks up only _ALLOWED names and torch's storage types; tensors become placeholders; storages are the
    legacy 6-field persistent ids. With storages=None (the small header pickles) no persistent id is allowed."""

    def __init__(self, file, storages=None):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise CheckpointError(
            f"load: the checkpoint refers to {module}.{name}, which a file of tensors, numbers and containers "
            "never needs (it may be a pickled model object, or code); refusing to load it, and nothing in it "
            "was run. Save and load `model.state_dict()` instead of the model object.")

    def persistent_load(self, pid):
        if not (self._storages is not None and isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise CheckpointError(f"load: unknown persistent id in the legacy checkpoint. Got {pid!r}.")
        storage_type, key, numel, view = pid[1], str(pid[2]), pid[4], pid[5]
        if not isinstance(numel, int) or numel < 0:
            raise CheckpointError(f"load: a storage has an invalid size. Got numel={numel!r}.")
        root = self._storages.setdefault(key, _Storage(storage_type, numel))
        if view is None:
            return root
        if not (isinstance(view, tuple) and len(view) == 3 and all(isinstance(v, int) for v in view[1:])):
            raise CheckpointError(f"load: a storage view is invalid. Got view_metadata={view!r}.")
        return _View(root, view[1], view[2])


def _tensor(arr, is_bf16, storage_offset, size, stride):
    """A copy of the strided view the pickle describes, after checking that it stays inside the storage."""
    if not (isinstance(storage_offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and all(isinstance(v, int) for v in size + stride)):
        raise CheckpointError(f"load: a tensor has an invalid layout. Got size={size!r}, stride={stride!r}, "
                              f"offset={storage_offset!r}.")
    if len(size) != len(stride) or storage_offset < 0 or any(v < 0 for v in size + stride):
        raise CheckpointError(f"load: a tensor has an invalid layout. Got size={size}, stride={stride}, "
                              f"offset={storage_offset}.")
    if 0 in size:
        out = np.zeros(size, arr.dtype)
    else:
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= arr.size:
            raise CheckpointError(f"load: a tensor reaches past the end of its storage (element {last} of "
                                  f"{arr.size}). The file is corrupt or was tampered with.")
        out = np.array(np.lib.stride_tricks.as_strided(arr[storage_offset:], size,
                                                       tuple(s * arr.itemsize for s in stride), writeable=False))
    if is_bf16:  # bfloat16 is float32's top 16 bits
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return Tensor._wrap(out)


def _plain_pickle(f, what):
    """A small pickle of plain values (magic number, version, sys info, key list): no names may be looked up."""
    try:
        return _LegacyUnpickler(f).load()
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise CheckpointError(f"load: the legacy checkpoint's {what} is corrupt ({type(e).__name__}: {e}).") from None


def _read_storage_bytes(f, storage, key, big_endian, total):
    header = f.read(8)
    if len(header) < 8:
        raise CheckpointError(f"load: the legacy checkpoint ends before storage {key!r} (truncated file).")
    count = int.from_bytes(header, "big" if big_endian else "little", signed=True)
    if count != storage.numel:
        raise CheckpointError(f"load: storage {key!r} holds {count} elements but the pickle says {storage.numel}. "
                              "The file is corrupt.")
    dtype = storage.type.dtype.newbyteorder(">") if big_endian else storage.type.dtype
    nbytes = count * dtype.itemsize
    if nbytes > total - f.tell():  # bounded by the file: never allocate more than the bytes that are there
        raise CheckpointError(f"load: storage {key!r} is truncated: {total - f.tell()} bytes left for {count} "
                              f"elements of {storage.type.name}.")
    raw = f.read(nbytes)
    storage.array = np.frombuffer(raw, dtype=dtype).astype(storage.type.dtype, copy=False)


def _resolve(obj, memo):
    """obj with every placeholder replaced by its tensor (containers rebuilt as the same type)."""
    if id(obj) in memo:
        return memo[id(obj)]
    if isinstance(obj, _Pending):
        s = obj.storage
        if isinstance(s, _View):
            if s.offset < 0 or s.size < 0 or s.offset + s.size > s.root.array.size:
                raise CheckpointError(f"load: a storage view reaches past its storage (offset {s.offset}, size "
                                      f"{s.size}, storage of {s.root.array.size}).")
            arr, name = s.root.array[s.offset:s.offset + s.size], s.root.type.name
        else:
            arr, name = s.array, s.type.name
        out = _tensor(arr, name == "BFloat16Storage", *obj.args)
    elif isinstance(obj, dict):
        out = type(obj)()
        memo[id(obj)] = out
        for k, v in obj.items():
            out[_resolve(k, memo)] = _resolve(v, memo)
        return out
    elif isinstance(obj, list):
        out = []
        memo[id(obj)] = out
        out.extend(_resolve(v, memo) for v in obj)
        return out
    elif isinstance(obj, (tuple, set, frozenset)):
        out = type(obj)(_resolve(v, memo) for v in obj)
    elif isinstance(obj, (_Storage, _View)):
        raise CheckpointError("load: the legacy checkpoint holds a bare storage; cnnlab reads tensors.")
    else:
        return obj
    memo[id(obj)] = out
    return out


def load(f):
    """Read a legacy torch.save file (a seekable binary file at its start) into cnnlab tensors, without PyTorch
    and without running code."""
    total = f.seek(0, 2)
    f.seek(0)
    if _plain_pickle(f, "magic number") != MAGIC_NUMBER:
        raise CheckpointError("load: not a legacy PyTorch checkpoint (wrong magic number).")
    version = _plain_pickle(f, "protocol version")
    if version != PROTOCOL_VERSION:
        raise CheckpointError(f"load: unsupported legacy checkpoint version. Got protocol_version={version!r}, "
                              f"expected {PROTOCOL_VERSION}.")
    sys_info = _plain_pickle(f, "system info")
    big_endian = isinstance(sys_info, dict) and sys_info.get("little_endian") is False
    storages = {}
    try:
        obj = _LegacyUnpickler(f, storages).load()
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise CheckpointError(f"load: the legacy checkpoint's object pickle is corrupt ({type(e).__name__}: "
                              f"{e}).") from None
    keys = _plain_pickle(f, "storage key list")
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(storages):
        raise CheckpointError(f"load: the legacy checkpoint's storage list does not match its tensors. Got "
                              f"{len(keys) if isinstance(keys, list) else keys!r} keys for {len(storages)} storages.")
    for key in keys:
        _read_storage_bytes(f, storages[str(key)], str(key), big_endian, total)
    return _resolve(obj, {})
