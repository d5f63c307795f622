"""Weights in and out: PyTorch's .pt/.pth zip format and safetensors, both without PyTorch (or the safetensors
package) installed.

`save(obj, path)` picks the format from the file name (.safetensors, else PyTorch's zip format) and writes
atomically. `load(path)` recognises the format from the file's first bytes. Loading never runs code from the
file: a checkpoint that carries a pickled object or a payload is refused with CheckpointError. A corrupt,
truncated or crafted file also raises CheckpointError, naming the file, and costs no more memory than the
tensors it honestly holds (see torch_load.py and safetensors_format.py for the bounds).

>>> import os, tempfile, cnnlab
>>> path = os.path.join(tempfile.mkdtemp(), "weights.pth")
>>> cnnlab.io.save({"fc.weight": cnnlab.ones(2, 3), "epoch": 3}, path)
>>> cnnlab.io.load(path)["fc.weight"].shape
cnnlab.Size([2, 3])
"""
import collections
import io as _io
import os

import numpy as np

from ..creation import device
from ..errors import CheckpointError
from ..nn import Module
from ..optim import Optimizer
from ..tensor import Size, Tensor
from . import torch_legacy
from .atomic import atomic_open
from .safetensors_format import load_safetensors, save_safetensors
from .torch_format import save as _save_torch
from .torch_load import load as _load_torch

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "atomic_open", "CheckpointError"]


def _is_safetensors_name(f):
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors")


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True, *, metadata=None):
    """Save tensors (a state_dict or a nested checkpoint dict) to a path or binary file. Matches torch.save for
    the objects a weights-only torch.load reads back.

    Args:
        obj: a dict of tensors, or nested dicts/lists/tuples of tensors, numbers, strings and None.
            A model or optimizer object is refused: save its `.state_dict()`.
        f: a path or a writable binary file. Paths ending in .safetensors get safetensors (flat dicts of
            tensors only); any other path gets PyTorch's zip format, which `torch.load(weights_only=True)`
            reads. Paths are written atomically: a crash mid-save leaves the previous file intact.
        pickle_module, pickle_protocol, _use_new_zipfile_serialization: accepted for compatibility; the
            format is always PyTorch's zip format with pickle protocol 2.
        metadata (dict of str, default None): safetensors header metadata.

    Raises:
        TypeError: obj holds something other than tensors, numbers, strings and containers of them.

    >>> import io, os, tempfile, cnnlab
    >>> model = cnnlab.nn.Linear(3, 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "linear.safetensors")
    >>> cnnlab.io.save(model.state_dict(), path)  # the name picks safetensors
    >>> sorted(cnnlab.io.load(path))
    ['bias', 'weight']
    >>> buffer = io.BytesIO()
    >>> cnnlab.io.save({"step": 10, "weights": [cnnlab.zeros(2)]}, buffer)  # a file object: PyTorch's zip
    >>> buffer.getvalue()[:4]
    b'PK\\x03\\x04'
    """
    _check_savable(obj, "obj")
    writer = ((lambda fh: save_safetensors(obj, fh, metadata)) if _is_safetensors_name(f)
              else (lambda fh: _save_torch(obj, fh, archive_name=_archive_name(f))))
    if isinstance(f, (str, os.PathLike)):
        with atomic_open(f) as fh:
            writer(fh)
    else:
        writer(f)


_LEAVES = (str, int, float, bool, bytes, type(None))  # what load reads back without naming a class of ours
_CONTAINERS = (dict, collections.OrderedDict, list, tuple, set)  # (torch's weights_only load refuses frozenset)


def _check_savable(obj, where, _seen=None):
    """Raise TypeError unless obj is made only of what load() reads back (tensors, numbers, strings, None and
    plain containers), so save never writes a file that load refuses."""
    if isinstance(obj, (Tensor, Size)) or type(obj) in _LEAVES:
        return
    if isinstance(obj, np.ndarray) and obj.dtype.kind not in "OSUVcMm":
        return
    if isinstance(obj, np.generic) and not isinstance(obj, (np.complexfloating, np.object_)):
        return
    if type(obj) in _CONTAINERS:
        seen = set() if _seen is None else _seen
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            for k, v in obj.items():
                _check_savable(k, f"a key of {where}", seen)
                _check_savable(v, f"{where}[{k!r}]", seen)
        else:
            for i, v in enumerate(obj):
                _check_savable(v, f"{where}[{i}]", seen)
        return
    name = type(obj).__name__
    if _has_state_dict(obj):
        raise TypeError(f"save: cnnlab saves tensors, numbers, strings and containers of them, not a whole {name} "
                        f"object (loading it would mean running code from the file). Save `{_hint(obj)}.state_dict()` "
                        f"instead and restore it with `.load_state_dict(cnnlab.load(path))`. Got {where} of type {name}.")
    raise TypeError(f"save: cnnlab saves tensors, numbers, strings, bytes, None and dicts/lists/tuples/sets of them (what a "
                    f"weights-only load reads back); convert other objects to these first. Got {where} of type {name}.")


def _has_state_dict(obj):
    return callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None))


def _hint(obj):
    return "model" if isinstance(obj, Module) else "optimizer" if isinstance(obj, Optimizer) else "obj"


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        return "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "archive"
    return "archive"


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what `save` (or torch.save, or safetensors) wrote, as cnnlab tensors. Matches torch.load with
    weights_only=True: only tensors, numbers, strings and containers are read; a file that carries code (a
    pickled model object, a payload) is refused with CheckpointError and nothing in it runs.

    Args:
        f: a path or a readable binary file.
        map_location: 'cpu', a cnnlab.device, a dict or a function: accepted for compatibility (everything loads
            onto the CPU); a device other than the CPU raises ValueError.
        pickle_module, weights_only, mmap, **pickle_load_args: accepted for compatibility; loading is always
            weights-only here, whatever weights_only says.

    Raises:
        FileNotFoundError: no file at the path.
        CheckpointError: the file is neither format, is corrupt, or refers to code.

    >>> import io, cnnlab
    >>> buffer = io.BytesIO()
    >>> cnnlab.io.save({"fc.weight": cnnlab.eye(2), "epoch": 3}, buffer)
    >>> _ = buffer.seek(0)
    >>> checkpoint = cnnlab.io.load(buffer, map_location="cpu")
    >>> checkpoint["epoch"], checkpoint["fc.weight"].tolist()
    (3, [[1.0, 0.0], [0.0, 1.0]])
    >>> cnnlab.io.load(io.BytesIO(b"not a checkpoint"))
    Traceback (most recent call last):
    ...
    cnnlab.errors.CheckpointError: load: the file is neither a PyTorch zip checkpoint nor a \
safetensors file (it starts with b'not a ch'). Got the file object.
    """
    if isinstance(map_location, (str, device)):
        device(map_location)  # raises for a device other than the CPU
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if not os.path.exists(path):
            raise FileNotFoundError(f"load: no such file. Got path={path!r}.")
        with open(path, "rb") as fh:  # read record by record: a checkpoint is never held twice in memory
            return _load_file(fh, repr(path))
    name = getattr(f, "name", None)
    name = repr(name) if isinstance(name, str) else "the file object"
    seekable = getattr(f, "seekable", lambda: False)()
    return _load_file(f if seekable and f.tell() == 0 else _io.BytesIO(f.read()), name)


def _load_file(fh, name):
    """Dispatch on the first bytes of a seekable binary file positioned at its start."""
    head = fh.read(16)
    fh.seek(0)
    if head[:4] == b"PK\x03\x04":
        return _load_torch(fh, name)
    if len(head) > 8 and head[8:9] == b"{":
        return load_safetensors(fh, name)
    if torch_legacy.is_legacy(head):  # torch.save before PyTorch 1.6 (torchvision's oldest weight files)
        return torch_legacy.load(fh)
    what = "is empty" if not head else f"starts with {head[:8]!r}"
    raise CheckpointError(f"load: the file is neither a PyTorch zip checkpoint nor a safetensors file (it {what}). "
                          f"Got {name}.")
