"""Writing PyTorch's checkpoint format (.pt/.pth, the zip layout of torch.save) without PyTorch.

A torch.save file is a zip archive `<name>/data.pkl` (a pickle, protocol 2) plus one record per storage,
`<name>/data/<key>`, holding the raw little-endian bytes. In the pickle each tensor is
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`, and each storage a
persistent id `('storage', torch.FloatStorage, key, 'cpu', numel)`. `torch.load(path, weights_only=True)`
reads what is written here; reading (with its restricted unpickler and bounds) is in torch_load.py.
"""
import collections
import io
import pickle
import zipfile

import numpy as np

from ..tensor import Size, Tensor
# the reader's names, kept importable from here (the legacy-format reader and older code use them)
from .torch_load import STORAGE_DTYPES, bfloat16_bits, bfloat16_to_float32, load  # noqa: F401
from .._dtypes import is_bfloat16

_STORAGE_NAMES = {np.dtype(v): k for k, v in STORAGE_DTYPES.items() if k not in ("BFloat16Storage", "UntypedStorage")}


# ---- writing ------------------------------------------------------------------------------------------------
class _Global:
    """A name that is written into the pickle as a GLOBAL opcode without being imported here."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a reduce function is callable; it is never called here
        raise TypeError(f"{self.module}.{self.name} is a name written into a checkpoint, not a function.")


_REBUILD_V2 = _Global("torch._utils", "_rebuild_tensor_v2")


class _Storage:
    def __init__(self, key, arr, name):
        self.key, self.arr, self.name = key, arr, name


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
            return ("storage", _Global("torch", obj.name), obj.key, "cpu", obj.arr.size)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            arr = np.asarray(obj._data, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
            if is_bfloat16(arr.dtype):  # written as torch writes bfloat16: the top halves of the float32 values
                arr, name = bfloat16_bits(arr).reshape(arr.shape), "BFloat16Storage"
            else:
                name = _STORAGE_NAMES.get(arr.dtype)
            if name is None:
                raise TypeError(f"save: tensors of dtype {arr.dtype} cannot be written in PyTorch's format.")
            storage = _Storage(str(len(self.storages)), arr, name)
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
