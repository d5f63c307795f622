"""Samplers: the order in which a DataLoader visits a dataset's indices, as torch.utils.data defines them.

A sampler is an iterable of indices (Python ints) with a length; a BatchSampler groups another sampler's
indices into lists. The random samplers draw from the given cnnlab.Generator, or the default one, so the same
seed gives the same order (the numbers differ from PyTorch's, whose generator is another algorithm).

>>> import cnnlab
>>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
[[0, 1, 2], [3, 4, 5], [6]]
>>> sorted(RandomSampler(range(5), generator=cnnlab.Generator().manual_seed(0)))
[0, 1, 2, 3, 4]
"""
import numbers

import numpy as np

from ..random import rng
from ..tensor import Tensor


def _check_flag(value, name, op, error=ValueError):
    if not isinstance(value, (bool, np.bool_)):  # PyTorch raises ValueError, except RandomSampler's TypeError
        raise error(f"{op}: {name} must be a bool. Got {name}={value!r}.")
    return bool(value)


def _check_positive_int(value, name, op):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{op}: {name} must be a positive int. Got {name}={value!r}.")
    return int(value)


class Sampler:
    """Base class: subclasses implement `__iter__` (yielding indices) and usually `__len__`. Matches
    torch.utils.data.Sampler.

    >>> class EvenFirst(Sampler):
    ...     def __init__(self, data_source):
    ...         self.n = len(data_source)
    ...     def __iter__(self):
    ...         return iter(list(range(0, self.n, 2)) + list(range(1, self.n, 2)))
    ...     def __len__(self):
    ...         return self.n
    >>> list(EvenFirst(range(5)))
    [0, 2, 4, 1, 3]
    >>> list(BatchSampler(EvenFirst(range(5)), batch_size=2, drop_last=False))
    [[0, 2], [4, 1], [3]]
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    # The samplers below also define _index_array(): all indices of one pass as an int64 array, drawn with one
    # NumPy call, which BatchSampler slices instead of iterating index by index.


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1 in order. Matches torch.utils.data.SequentialSampler.

    Args:
        data_source: the dataset (only its length is used).

    >>> list(SequentialSampler(["a", "b", "c"])), len(SequentialSampler(range(4)))
    ([0, 1, 2], 4)
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a permutation (repeated, then cut, when num_samples exceeds the dataset), or
    num_samples independent draws with replacement=True. Matches torch.utils.data.RandomSampler.

    Args:
        data_source: the dataset (only its length is used).
        replacement (bool, default False): draw with replacement.
        num_samples (int, default len(data_source)): indices per pass.
        generator (cnnlab.Generator, default None): the source of randomness; None uses the default generator.
    Raises: TypeError (replacement not a bool), ValueError (num_samples not a positive int).

    >>> import cnnlab
    >>> sorted(RandomSampler(range(4), generator=cnnlab.Generator().manual_seed(0)))  # a permutation
    [0, 1, 2, 3]
    >>> idx = list(RandomSampler(range(3), num_samples=7, generator=cnnlab.Generator().manual_seed(0)))
    >>> len(idx), sorted(idx[:3]), sorted(idx[3:6])  # whole permutations, the last one cut
    (7, [0, 1, 2], [0, 1, 2])
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _check_flag(replacement, "replacement", "RandomSampler", TypeError)
        self._num_samples = num_samples
        self.generator = generator
        _check_positive_int(self.num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self):
        n, k, g = len(self.data_source), self.num_samples, rng(self.generator)
        if self.replacement:
            return g.integers(0, n, size=k, dtype=np.int64)
        perms = [g.permutation(n) for _ in range(-(-k // n))]  # ceil(k / n) permutations, cut to k
        return np.concatenate(perms)[:k].astype(np.int64, copy=False)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement. Matches torch.utils.data.SubsetRandomSampler.

    >>> import cnnlab
    >>> sorted(SubsetRandomSampler([7, 3, 5], generator=cnnlab.Generator().manual_seed(1)))
    [3, 5, 7]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _index_array(self):
        order = rng(self.generator).permutation(len(self.indices))
        return np.asarray([int(self.indices[i]) for i in order], dtype=np.int64)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probability proportional to `weights` (which need not sum to 1).
    Matches torch.utils.data.WeightedRandomSampler.

    Args:
        weights (sequence or 1-d tensor of non-negative numbers): one weight per index.
        num_samples (int): indices per pass.
        replacement (bool, default True): without replacement, an index appears at most once, so num_samples
            may not exceed the number of non-zero weights.
        generator (cnnlab.Generator, default None): the source of randomness.
    Raises: ValueError (num_samples not a positive int, weights not 1-d, negative, non-finite or all zero,
        more samples without replacement than non-zero weights).

    >>> import cnnlab
    >>> draws = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=8,
    ...                                    generator=cnnlab.Generator().manual_seed(0)))
    >>> len(draws), set(draws) <= {1, 3}  # an index of weight 0 is never drawn
    (8, True)
    >>> sorted(WeightedRandomSampler([1, 0, 2], 2, replacement=False, generator=cnnlab.Generator().manual_seed(0)))
    [0, 2]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        op = "WeightedRandomSampler"
        self.num_samples = _check_positive_int(num_samples, "num_samples", op)
        self.replacement = _check_flag(replacement, "replacement", op)
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"{op}: weights must be a 1-d sequence. Got weights of shape {w.shape}.")
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"{op}: weights must be finite, non-negative and not all zero. Got {w.size} weights "
                             f"with min={w.min() if w.size else None}, sum={w.sum()}.")
        if not self.replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"{op}: without replacement, num_samples cannot exceed the number of non-zero "
                             f"weights. Got num_samples={num_samples}, non-zero weights={np.count_nonzero(w)}.")
        self.weights = Tensor._wrap(w)
        self.generator = generator

    def _index_array(self):
        w = self.weights._data
        return rng(self.generator).choice(w.size, size=self.num_samples, replace=self.replacement,
                                          p=w / w.sum()).astype(np.int64)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of batch_size (the last one shorter unless drop_last).
    Matches torch.utils.data.BatchSampler.

    >>> list(BatchSampler(range(5), batch_size=2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _check_positive_int(batch_size, "batch_size", "BatchSampler")
        self.drop_last = _check_flag(drop_last, "drop_last", "BatchSampler")

    def _index_arrays(self):
        """The batches as int64 arrays, or None when the sampler cannot give all its indices at once."""
        if type(self.sampler) not in _ARRAY_SAMPLERS:  # a subclass may override __iter__
            return None
        order = self.sampler._index_array()
        stop = len(order) - (len(order) % self.batch_size if self.drop_last else 0)
        return [order[i:i + self.batch_size] for i in range(0, stop, self.batch_size)]

    def __iter__(self):
        arrays = self._index_arrays()
        if arrays is not None:
            yield from (batch.tolist() for batch in arrays)
            return
        batch = []  # any iterable of indices (of any type), grouped as it streams
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


_ARRAY_SAMPLERS = (SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]
