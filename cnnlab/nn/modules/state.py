"""state_dict and load_state_dict: a module tree's weights as a flat name -> tensor mapping, and back.

Key names are PyTorch's (`features.0.weight`, `bn1.running_mean`), so weights exported from PyTorch as
`{k: v.numpy()}` load here unchanged. Loading collects every problem (missing keys, unexpected keys, shape
mismatches) and reports them together in one error, as PyTorch does.
"""
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ... import _dtypes
from ...errors import ShapeError
from ...tensor import Size, Tensor
from ..parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys the model wanted but did not get, and the keys it did not use."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def state_dict(module, destination=None, prefix="", keep_vars=False):
    """Parameters, then persistent buffers, of module, then of each child under 'child.' (pre-order)."""
    if destination is None:
        destination = OrderedDict()
    for name, p in module._parameters.items():
        if p is not None:
            destination[prefix + name] = p if keep_vars else p.detach()
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            destination[prefix + name] = b if keep_vars else b.detach()
    for name, child in module._modules.items():
        if child is not None:
            state_dict(child, destination, prefix + name + ".", keep_vars)
    return destination


def load_state_dict(module, state, strict=True, assign=False):
    """Copy every entry of `state` into module's tree; see Module.load_state_dict."""
    if not isinstance(state, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state)}.")
    state = OrderedDict(state)  # a copy: modules may add keys (BatchNorm's num_batches_tracked)
    missing, unexpected, errors = [], [], []

    def load(mod, prefix):
        mod._load_from_state_dict(state, prefix, strict, missing, unexpected, errors, assign)
        for name, child in mod._modules.items():
            if child is not None:
                load(child, prefix + name + ".")

    load(module, "")
    if strict:
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
    if errors:
        raise ShapeError("Error(s) in loading state_dict for {}:\n\t{}".format(type(module).__name__,
                                                                              "\n\t".join(errors)))
    return _IncompatibleKeys(missing, unexpected)


def _as_array(value):
    """The checkpoint value as an ndarray (cnnlab tensors, NumPy arrays, PyTorch tensors, numbers), or None."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "__array__"):
        try:
            if hasattr(value, "detach"):  # a PyTorch tensor that requires grad refuses __array__
                value = value.detach()
            arr = np.asarray(value)
        except Exception:  # noqa: BLE001  (anything array-like that fails is reported, not raised here)
            return None
        return arr if arr.dtype.kind in "biuf" else None
    if isinstance(value, (int, float, bool, np.generic)):
        return np.asarray(value)
    return None


def load_own(module, state, prefix, strict, missing, unexpected, errors, assign):
    """Load module's own parameters and persistent buffers from state; record what does not fit."""
    local = [(n, p, True) for n, p in module._parameters.items() if p is not None]
    local += [(n, b, False) for n, b in module._buffers.items()
              if b is not None and n not in module._non_persistent_buffers_set]
    for name, target, is_param in local:
        key = prefix + name
        if key not in state:
            missing.append(key)
            continue
        value = state[key]
        arr = _as_array(value)
        if arr is None:
            errors.append(f'While copying the parameter named "{key}", expected cnnlab.Tensor or a NumPy array '
                          f"from checkpoint but received {type(value)}")
            continue
        if target.ndim == 0 and arr.ndim == 1 and arr.size == 1:  # PyTorch's 1-element compatibility rule
            arr = arr.reshape(())
        if arr.shape != target.shape:
            errors.append(f"size mismatch for {key}: copying a param with shape {Size(arr.shape)} from checkpoint, "
                          f"the shape in current model is {target.shape}.")
            continue
        if assign:
            _assign(module, name, target, arr, is_param)
        else:
            np.copyto(target._data, arr, casting="unsafe")
            if _dtypes.bf16_in_use and target._data.dtype.metadata is not None:  # bfloat16: onto its grid
                _dtypes.settle_bfloat16(target._data)
    for key in state:
        if key.startswith(prefix):
            first = key[len(prefix):].split(".", 1)[0]
            if first not in module._modules and first not in {n for n, _, _ in local}:
                unexpected.append(key)


def _assign(module, name, target, arr, is_param):
    """assign=True: the checkpoint's array becomes the parameter's storage (dtype kept, as PyTorch)."""
    arr = np.array(arr, copy=True)
    if is_param:
        module._parameters[name] = Parameter(arr, requires_grad=target.requires_grad)
    else:
        module._buffers[name] = Tensor._wrap(arr)
