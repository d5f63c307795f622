"""safetensors files read and written here, with NumPy alone (no `safetensors` package needed).

Layout: an 8-byte little-endian header length N, N bytes of JSON (padded with spaces), then the tensors' bytes.
The header maps each name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (offsets into the
bytes after the header) and may hold "__metadata__": {str: str}. Reading checks the header completely before
it allocates anything: the tensors must tile the data exactly (no gap, no overlap, nothing past the end), so a
file can never ask for more memory than its own size. BF16 (what PyTorch writes for bfloat16 weights) loads as
cnnlab.bfloat16 with the values exact, and bfloat16 tensors are written as BF16; F16 is float16.
"""
import json
import os

import numpy as np

from ..errors import CheckpointError
from ..tensor import Tensor
from .._dtypes import is_bfloat16
from .torch_load import bfloat16_bits, bfloat16_from_bits

# safetensors dtype name <-> NumPy dtype (BF16 is read as its uint16 bits, then widened to float32)
_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U64": np.uint64, "U32": np.uint32, "U16": np.uint16,
           "U8": np.uint8, "BOOL": np.bool_}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items() if k != "BF16"}
MAX_HEADER_BYTES = 100_000_000  # the safetensors package's own bound
_CHUNK = 16 << 20


def to_arrays(state_dict, op):
    """A flat {name: (safetensors dtype name, contiguous little-endian ndarray)} for writing."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"{op}: expects a flat dict of tensors (a state_dict). Got {type(state_dict).__name__}.")
    arrays = {}
    for k, v in state_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"{op}: keys must be strings. Got key {k!r}.")
        if isinstance(v, Tensor):
            v = v._data
        if not isinstance(v, np.ndarray):
            raise TypeError(f"{op}: safetensors holds only tensors; {k!r} is a {type(v).__name__}. Save nested "
                            "checkpoints (epoch, optimizer, ...) as .pt instead.")
        if is_bfloat16(v.dtype):
            arrays[k] = ("BF16", bfloat16_bits(v).astype("<u2", copy=False))
            continue
        if v.dtype.newbyteorder("=") not in _NAMES:
            raise TypeError(f"{op}: safetensors holds bool, integer and (b)float16/32/64 tensors. Got {k!r} of dtype "
                            f"{v.dtype}.")
        # little-endian and contiguous (np.asarray keeps 0-d arrays 0-d)
        arrays[k] = (_NAMES[v.dtype.newbyteorder("=")], np.asarray(v, dtype=v.dtype.newbyteorder("<"), order="C"))
    return arrays


def save_safetensors(state_dict, f, metadata=None):
    """Write a flat {name: tensor} dict as safetensors to a binary file object (the `safetensors` package,
    PyTorch's safetensors.torch and cnnlab read it back).

    >>> import io, cnnlab
    >>> buffer = io.BytesIO()
    >>> save_safetensors({"w": cnnlab.ones(2, 2)}, buffer, metadata={"format": "pt"})
    >>> load_safetensors(buffer.getvalue())["w"].tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    arrays = to_arrays(state_dict, "save")
    if metadata is not None and not (isinstance(metadata, dict) and
                                     all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError(f"save: safetensors metadata must be a dict of str to str. Got metadata={metadata!r}.")
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name in sorted(arrays):
        dtype_name, a = arrays[name]
        header[name] = {"dtype": dtype_name, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as the package writes it
    f.write(len(text).to_bytes(8, "little"))
    f.write(text)
    for name in sorted(arrays):
        f.write(arrays[name][1].reshape(-1).view(np.uint8).data)


class _Source:
    """Random access to the file's bytes: a bytes-like object, or a seekable binary file."""

    def __init__(self, src):
        if isinstance(src, (bytes, bytearray, memoryview)):
            self.buf, self.f = memoryview(src).cast("B"), None
            self.size = len(self.buf)
        else:
            self.buf, self.f = None, src
            src.seek(0, os.SEEK_END)
            self.size = src.tell()

    def read_into(self, start, out):
        """Fill the uint8 array out from byte `start` on; False when the file ends first."""
        if self.f is None:
            out[...] = np.frombuffer(self.buf, np.uint8, out.size, start)
            return True
        self.f.seek(start)
        pos, view = 0, memoryview(out)
        while pos < out.size:
            got = self.f.readinto(view[pos:pos + _CHUNK])
            if not got:
                return False
            pos += got
        return True


def _header(source, where):
    if source.size < 8:
        raise CheckpointError(f"{where}: the file has {source.size} bytes, fewer than the 8 of the header size. "
                              "Expected a safetensors file.")
    size_bytes = np.empty(8, np.uint8)
    source.read_into(0, size_bytes)
    n = int.from_bytes(size_bytes.tobytes(), "little")
    if n > min(MAX_HEADER_BYTES, source.size - 8):
        raise CheckpointError(f"{where}: the header size must fit in the file and in {MAX_HEADER_BYTES} bytes. "
                              f"Got header size {n} in a file of {source.size} bytes (truncated or not safetensors).")
    raw = np.empty(n, np.uint8)
    source.read_into(8, raw)

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate names {sorted(k for k in set(keys) if keys.count(k) > 1)[:5]}")
        return dict(pairs)

    try:
        header = json.loads(raw.tobytes().decode("utf-8"), object_pairs_hook=no_duplicates)
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CheckpointError(f"{where}: the header is not valid JSON text ({type(e).__name__}: {str(e)[:200]}). "
                              "Expected a safetensors file (it may be truncated or corrupt).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: the header must be a JSON object. Got a {type(header).__name__}.")
    return header, 8 + n


def _entries(header, data_size, where):
    """[(name, numpy dtype, shape, begin, end)] in file order, after checking that they tile the data exactly."""
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            if not (isinstance(info, dict) and all(isinstance(v, str) for v in info.values())):
                raise CheckpointError(f"{where}: __metadata__ must map strings to strings. Got {info!r:.200}.")
            continue
        if not (isinstance(info, dict) and set(info) <= {"dtype", "shape", "data_offsets"} and len(info) == 3):
            raise CheckpointError(f"{where}: tensor {name!r} must have exactly dtype, shape and data_offsets. "
                                  f"Got {info!r:.200}.")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise CheckpointError(f"{where}: tensor {name!r} has dtype {dtype!r:.40}; cnnlab reads "
                                  f"{', '.join(_DTYPES)} (F8 and complex dtypes are not supported).")
        ints = (lambda v: isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                                                       for i in v))
        if not ints(shape) or not ints(offsets) or len(offsets) != 2:
            raise CheckpointError(f"{where}: tensor {name!r} must have a list of sizes >= 0 and two data offsets "
                                  f">= 0. Got shape={shape!r:.100}, data_offsets={offsets!r:.100}.")
        nbytes = int(np.prod(shape, dtype=object)) * np.dtype(_DTYPES[dtype]).itemsize
        begin, end = offsets
        if end - begin != nbytes:
            raise CheckpointError(f"{where}: tensor {name!r} of dtype {dtype} and shape {shape} needs {nbytes} bytes. "
                                  f"Got data_offsets=[{begin}, {end}] ({end - begin} bytes).")
        entries.append((name, np.dtype(_DTYPES[dtype]), dtype, tuple(shape), begin, end))
    entries.sort(key=lambda e: (e[4], e[5]))
    position = 0
    for name, _, _, _, begin, end in entries:
        if begin != position:
            raise CheckpointError(f"{where}: the tensors' data must follow each other without gaps or overlaps. "
                                  f"Got tensor {name!r} at byte {begin}, expected {position}.")
        position = end
    if position != data_size:
        raise CheckpointError(f"{where}: the tensors' data must end where the file does. Got {position} bytes of "
                              f"tensors and {data_size} bytes of data (the file is truncated or has extra bytes).")
    return entries


def load_safetensors(f, name=None):
    """Read a safetensors file (a path, a seekable binary file or its bytes) into {name: Tensor}.

    Args:
        f: a path, a seekable binary file, or bytes.
        name (str, default None): how messages name the file (default: the path, or "the file").

    Raises:
        CheckpointError: the header is not valid, or the tensors do not tile the data exactly.

    >>> load_safetensors(b"\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00{}")
    {}
    >>> load_safetensors(b"\\x40\\x00\\x00\\x00\\x00\\x00\\x00\\x00{}", name="w.safetensors")
    Traceback (most recent call last):
    ...
    cnnlab.errors.CheckpointError: load: w.safetensors: the header size must fit in the file and in 100000000 \
bytes. Got header size 64 in a file of 10 bytes (truncated or not safetensors).
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return load_safetensors(fh, repr(os.fspath(f)) if name is None else name)
    where = f"load: {name or 'the file'}"
    source = _Source(f)
    header, start = _header(source, where)
    out = {}
    for key, dtype, dtype_name, shape, begin, end in _entries(header, source.size - start, where):
        try:
            arr = np.empty(shape, dtype.newbyteorder("<"))
        except ValueError:  # an empty tensor whose other sizes overflow numpy's count
            raise CheckpointError(f"{where}: tensor {key!r}'s sizes must fit in 64 bits. Got shape={list(shape)}.") from None
        if not source.read_into(start + begin, arr.reshape(-1).view(np.uint8)):
            raise CheckpointError(f"{where}: the file ended inside tensor {key!r}. Expected {source.size} bytes.")
        if dtype == np.bool_:
            arr = arr.view(np.uint8) != 0  # a byte other than 0 or 1 is still one bool
        elif dtype_name == "BF16":
            arr = bfloat16_from_bits(arr)
        out[key] = Tensor._wrap(arr if dtype_name == "BF16" else arr.astype(dtype.newbyteorder("="), copy=False))
    return out
