"""safetensors files through the `safetensors` package's NumPy API (optional dependency: cnnlab[weights])."""
import numpy as np

from ..tensor import Tensor


def _module():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError("safetensors files need the 'safetensors' package: pip install safetensors "
                          "(or pip install 'cnnlab[weights]').") from None
    return st


def to_arrays(state_dict, op):
    """A flat {name: contiguous ndarray} for writing (safetensors writes non-contiguous arrays wrongly)."""
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
        arrays[k] = np.asarray(v, order="C")  # ascontiguousarray would turn 0-d into 1-d
    return arrays


def save_safetensors(state_dict, f, metadata=None):
    """Write a flat {name: tensor} dict as safetensors bytes to a binary file object."""
    f.write(_module().save(to_arrays(state_dict, "save"), metadata=metadata))


def load_safetensors(data):
    """Read safetensors bytes into {name: Tensor} (copies, writable)."""
    return {k: Tensor._wrap(np.array(v, copy=True)) for k, v in _module().load(data).items()}
