"""Checked strided views of a loaded storage: the one place that turns (offset, size, stride) from a file into
an array, after checking that it stays inside the storage. Shared by the checkpoint readers."""
import numpy as np

from ..errors import CheckpointError


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _overlaps(size, stride):
    """True when two indices of the view reach the same element (a 0 stride, or strides that interleave)."""
    dims = sorted((s, n) for n, s in zip(size, stride) if n > 1)
    reach = 0  # the largest element offset the faster dims reach
    for s, n in dims:
        if s <= reach:
            return True
        reach += (n - 1) * s
    return False


def strided_view(storage, offset, size, stride, where):
    """The view of 1-d `storage` that a checkpoint describes, without copying it.

    A view whose elements do not overlap is writable and shares the storage with the other tensors that view
    it, as torch.load's do. One where several indices reach the same element (an expanded tensor: stride 0) is
    read-only, as cnnlab's expand() is, so a 602-byte file cannot ask for a gigabyte.

    Raises CheckpointError when the layout does not add up: sizes and strides of different lengths, negative
    or non-integer values, or an element past the end of the storage.
    """
    if not (isinstance(size, (tuple, list)) and isinstance(stride, (tuple, list)) and _is_int(offset)
            and all(_is_int(v) for v in (*size, *stride))):
        raise CheckpointError(f"{where}: a tensor's layout must be an integer offset and integer sizes and "
                              f"strides. Got size={size!r}, stride={stride!r}, offset={offset!r}.")
    size, stride, offset = tuple(int(v) for v in size), tuple(int(v) for v in stride), int(offset)
    if len(size) != len(stride) or offset < 0 or any(v < 0 for v in size + stride):
        raise CheckpointError(f"{where}: a tensor's layout must have as many strides as sizes and no negative "
                              f"value. Got size={size}, stride={stride}, offset={offset}.")
    if offset > storage.size:
        raise CheckpointError(f"{where}: a tensor's offset must lie inside its storage of {storage.size} "
                              f"elements. Got offset={offset}.")
    if 0 in size:
        try:  # nothing is stored, but numpy still refuses dims whose product overflows
            return np.empty(size, storage.dtype)
        except ValueError:
            raise CheckpointError(f"{where}: an empty tensor's sizes must fit in 64 bits. Got size={size}.") from None
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.size:
        raise CheckpointError(f"{where}: a tensor must stay inside its storage of {storage.size} elements, but "
                              f"its last element is number {last}. Got size={size}, stride={stride}, "
                              f"offset={offset}.")
    writeable = storage.flags.writeable and not _overlaps(size, stride)
    try:
        return np.lib.stride_tricks.as_strided(storage[offset:], size, tuple(s * storage.itemsize for s in stride),
                                               writeable=writeable)
    except ValueError:  # more elements than 64 bits count, all repeats of a few stored ones
        raise CheckpointError(f"{where}: a tensor's element count must fit in 64 bits. Got size={size}, "
                              f"stride={stride}.") from None
