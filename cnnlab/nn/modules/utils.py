"""torch.nn.modules.utils under cnnlab's name: the argument-to-tuple helpers that older tutorials import
(`from torch.nn.modules.utils import _pair`). Same behaviour as PyTorch's: an iterable becomes a tuple of its
items (its length unchecked), anything else is repeated n times.

>>> from cnnlab.nn.modules.utils import _pair, _triple
>>> _pair(3), _pair((1, 2)), _triple(1)
((3, 3), (1, 2), (1, 1, 1))
"""
import collections.abc

__all__ = ["_ntuple", "_single", "_pair", "_triple", "_quadruple", "_reverse_repeat_tuple", "_list_with_default"]


def _ntuple(n, name="parse"):
    """A function turning x into an n-tuple: tuple(x) for an iterable x, else (x,) * n."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return (x,) * n
    parse.__name__ = parse.__qualname__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """Each item of t, last first, repeated n times: the F.pad order of per-dim padding.

    >>> _reverse_repeat_tuple((1, 2), 2)
    (2, 2, 1, 1)
    """
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """An adaptive pool's output size with None entries taken from the last dims of defaults (the input size).

    >>> _list_with_default([None, 3], (5, 6, 7))
    [6, 3]
    """
    if isinstance(out_size, (int, float)):  # a single size is returned as given
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"_list_with_default: the input must have more dims than out_size has entries. Got "
                         f"out_size={out_size!r}, input size={tuple(defaults)!r}.")
    tail = list(defaults)[-len(out_size):]
    return [d if v is None else v for v, d in zip(out_size, tail)]
