"""Weights in and out: PyTorch's .pt/.pth zip format and safetensors, both without PyTorch installed.

`save(obj, path)` picks the format from the file name (.safetensors, else PyTorch's zip format) and writes
atomically. `load(path)` recognises the format from the file's first bytes. Loading never runs code from the
file: a checkpoint that carries a pickled object or a payload is refused with CheckpointError.

>>> import os, tempfile, cnnlab
>>> path = os.path.join(tempfile.mkdtemp(), "weights.pth")
>>> cnnlab.io.save({"fc.weight": cnnlab.ones(2, 3), "epoch": 3}, path)
>>> cnnlab.io.load(path)["fc.weight"].shape
cnnlab.Size([2, 3])
"""
import io as _io
import os

from .atomic import atomic_open
from .safetensors_format import load_safetensors, save_safetensors
from .torch_format import CheckpointError
from .torch_format import load as _load_torch
from .torch_format import save as _save_torch

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "atomic_open", "CheckpointError"]


def _is_safetensors_name(f):
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors")


def save(obj, f, metadata=None):
    """Save tensors (a state_dict or a nested checkpoint dict) to a path or binary file.

    Args:
        obj: a dict of tensors, or nested dicts/lists/tuples of tensors, numbers and strings.
        f: a path or a writable binary file. Paths ending in .safetensors get safetensors (flat dicts of
            tensors only); any other path gets PyTorch's zip format, which `torch.load(weights_only=True)`
            reads. Paths are written atomically: a crash mid-save leaves the previous file intact.
        metadata (dict of str, default None): safetensors header metadata.
    """
    writer = ((lambda fh: save_safetensors(obj, fh, metadata)) if _is_safetensors_name(f)
              else (lambda fh: _save_torch(obj, fh, archive_name=_archive_name(f))))
    if isinstance(f, (str, os.PathLike)):
        with atomic_open(f) as fh:
            writer(fh)
    else:
        writer(f)


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        return "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "archive"
    return "archive"


def load(f, map_location=None, weights_only=True, **kwargs):
    """Load what `save` (or torch.save, or safetensors) wrote, as cnnlab tensors. map_location and
    weights_only are accepted for PyTorch compatibility; loading is always weights-only here."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if not os.path.exists(path):
            raise FileNotFoundError(f"load: no such file. Got path={path!r}.")
        with open(path, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    if data[:4] == b"PK\x03\x04":
        return _load_torch(_io.BytesIO(data))
    if len(data) > 8 and data[8:9] == b"{":
        return load_safetensors(data)
    raise CheckpointError("load: the file is neither a PyTorch zip checkpoint nor a safetensors file "
                          f"(it starts with {data[:8]!r}).")
