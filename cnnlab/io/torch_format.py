"""PyTorch's checkpoint format (.pt/.pth, the zip layout of torch.save) read and written without PyTorch.

A torch.save file is a zip archive `<name>/data.pkl` (a pickle, protocol 2) plus one record per storage,
`<name>/data/<key>`, holding the raw little-endian bytes. In the pickle each tensor is
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`, and each storage a
persistent id `('storage', torch.FloatStorage, key, 'cpu', numel)`.

Reading uses a restricted unpickler: only the names a checkpoint of tensors, numbers, strings and containers
needs can be looked up; anything else (a pickled module, `os.system`, ...) stops the load before any of it
runs. Writing emits the same layout, so `torch.load(path, weights_only=True)` reads what cnnlab saves.
"""
import collections
import io
import pickle
import zipfile

import numpy as np

from ..errors import CheckpointError
from ..tensor import Size, Tensor

# storage class name in the pickle <-> NumPy dtype of its bytes
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_, "BFloat16Storage": np.uint16,
}
_STORAGE_NAMES = {np.dtype(v): k for k, v in _STORAGE_DTYPES.items() if k != "BFloat16Storage"}


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


def _bfloat16_to_float32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                    metadata=None):
    """A copy of the strided view that the pickle describes, after checking it stays inside the storage."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or storage_offset < 0 or any(s < 0 for s in size + stride):
        raise CheckpointError(f"load: a tensor has an invalid layout. Got size={size}, stride={stride}, "
                              f"offset={storage_offset}.")
    arr, is_bf16 = storage
    if 0 in size:
        view = np.zeros(size, arr.dtype)
    else:
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= arr.size:
            raise CheckpointError(f"load: a tensor reaches past the end of its storage (element {last} of "
                                  f"{arr.size}). The file is corrupt or was tampered with.")
        view = np.lib.stride_tricks.as_strided(arr[storage_offset:], size,
                                               tuple(s * arr.itemsize for s in stride), writeable=False)
    out = np.array(view, copy=True)
    return Tensor._wrap(_bfloat16_to_float32(out) if is_bf16 else out)


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, *state):
    return data


def _latin1_bytes(text, encoding):
    """The one use of _codecs.encode a protocol-2 pickle makes: bytes written as latin-1 text."""
    if encoding != "latin1" or not isinstance(text, str):
        raise CheckpointError(f"load: the checkpoint calls _codecs.encode in a way that bytes never need. "
                              f"Got encoding={encoding!r}.")
    return text.encode("latin1")


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
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
    """Looks up only the names in _ALLOWED and torch's storage types; refuses everything else."""

    def __init__(self, file, read_storage):
        super().__init__(file)
        self._read_storage = read_storage

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
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise CheckpointError(f"load: unknown persistent id in the checkpoint. Got {pid!r}.")
        return self._read_storage(pid[1], str(pid[2]), int(pid[4]))


def load(f):
    """Read a torch.save zip checkpoint (path or binary file) into cnnlab tensors, without PyTorch."""
    try:
        archive = zipfile.ZipFile(f)
    except zipfile.BadZipFile:
        raise CheckpointError("load: not a PyTorch zip checkpoint (files from torch.save since PyTorch 1.6 are "
                              "zip archives). Legacy-format files: load and re-save them once with PyTorch.") from None
    with archive:
        pkl = [n for n in archive.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
        if not pkl:
            raise CheckpointError("load: the zip archive has no <name>/data.pkl record, so it is not a "
                                  "PyTorch checkpoint.")
        prefix = pkl[0][: -len("data.pkl")]
        names = set(archive.namelist())
        big_endian = prefix + "byteorder" in names and archive.read(prefix + "byteorder").strip() == b"big"
        cache = {}

        def read_storage(storage_type, key, numel):
            if key not in cache:
                record = prefix + "data/" + key
                if record not in names:
                    raise CheckpointError(f"load: the checkpoint has no record {record!r} for a storage.")
                raw = archive.read(record)
                dt = storage_type.dtype.newbyteorder(">") if big_endian else storage_type.dtype
                if len(raw) < numel * dt.itemsize:
                    raise CheckpointError(f"load: storage {record!r} is truncated: {len(raw)} bytes for {numel} "
                                          f"elements of {storage_type.name}.")
                arr = np.frombuffer(raw, dtype=dt, count=numel).astype(storage_type.dtype, copy=False)
                cache[key] = (arr, storage_type.name == "BFloat16Storage")
            return cache[key]

        try:
            return _RestrictedUnpickler(io.BytesIO(archive.read(pkl[0])), read_storage).load()
        except CheckpointError:
            raise
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError) as e:
            raise CheckpointError(f"load: the checkpoint's data.pkl is corrupt ({type(e).__name__}: {e}).") from None


# ---- writing ------------------------------------------------------------------------------------------------
class _Global:
    """A name that is written into the pickle as a GLOBAL opcode without being imported here."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a reduce function is callable; it is never called here
        raise TypeError(f"{self.module}.{self.name} is a name written into a checkpoint, not a function.")


_REBUILD_V2 = _Global("torch._utils", "_rebuild_tensor_v2")


class _Storage:
    def __init__(self, key, arr):
        self.key, self.arr = key, arr


class _TorchPickler(pickle._Pickler):
    """The pure-Python pickler, taught to write tensors as torch does (GLOBALs that need no torch here)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages = []

    def _save_global_name(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = _save_global_name

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            name = _STORAGE_NAMES.get(obj.arr.dtype)
            if name is None:
                raise TypeError(f"save: tensors of dtype {obj.arr.dtype} cannot be written in PyTorch's format.")
            return ("storage", _Global("torch", name), obj.key, "cpu", obj.arr.size)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            arr = np.asarray(obj._data, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
            storage = _Storage(str(len(self.storages)), arr)
            self.storages.append(storage)
            stride = tuple(s // arr.itemsize for s in arr.strides) if arr.size else (0,) * arr.ndim
            return (_REBUILD_V2, (storage, 0, tuple(arr.shape), stride, False, collections.OrderedDict()))
        return NotImplemented

    def save(self, obj, save_persistent_id=True):
        # plain Python equivalents, so the pickle names nothing from NumPy or cnnlab
        if isinstance(obj, np.generic):
            obj = obj.item()
        elif isinstance(obj, np.ndarray):
            obj = Tensor._wrap(obj)
        elif isinstance(obj, Size):
            obj = tuple(obj)
        super().save(obj, save_persistent_id)


def save(obj, f, archive_name="archive"):
    """Write obj (a state_dict, or nested dicts/lists of tensors, numbers and strings) in torch.save's zip
    format to a binary file object."""
    buf = io.BytesIO()
    pickler = _TorchPickler(buf)
    pickler.dump(obj)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive_name}/data.pkl", buf.getvalue())
        z.writestr(f"{archive_name}/byteorder", "little")
        for s in pickler.storages:
            z.writestr(f"{archive_name}/data/{s.key}", s.arr.astype(s.arr.dtype.newbyteorder("<"), copy=False).tobytes())
        z.writestr(f"{archive_name}/version", "3\n")
