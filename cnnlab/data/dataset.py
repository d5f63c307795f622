"""Datasets as PyTorch defines them: anything with __getitem__ and __len__, plus TensorDataset, Subset,
ConcatDataset and a seeded random_split; and streams (IterableDataset, ChainDataset) with the helpers a loader
batches them with."""
import bisect
import itertools
import math

import numpy as np

from ..random import rng


class Dataset:
    """Base class: subclasses implement `__getitem__(index)` and `__len__()`. `a + b` concatenates."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are tuples of the tensors' rows: dataset[i] == (t[i] for t in tensors).

    >>> import cnnlab
    >>> ds = TensorDataset(cnnlab.zeros(4, 2), cnnlab.arange(4))
    >>> len(ds), ds[3][1].item()
    (4, 3)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expects at least one tensor. Got none.")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: all tensors must have the same first dimension. Got sizes {sizes}.")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expects at least one dataset. Got none.")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"ConcatDataset: index out of range. Got index={index}, len={n}.")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None):
    """Split a dataset into non-overlapping random subsets of the given lengths (or fractions that add up
    to 1, remainders going round-robin as PyTorch does). Seeded by the default or the given generator.

    >>> import cnnlab
    >>> a, b = random_split(range(10), [0.8, 0.2], generator=cnnlab.Generator().manual_seed(0))
    >>> len(a), len(b)
    (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) and 0 <= x <= 1 for x in lengths) and math.isclose(sum(lengths), 1):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n or any(x < 0 for x in lengths):
        raise ValueError(f"random_split: the lengths must add up to the dataset's length (or be fractions adding "
                         f"up to 1). Got lengths={lengths}, len(dataset)={n}.")
    order = rng(generator).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[bounds[i]:bounds[i + 1]]) for i in range(len(lengths))]



class TransformedDataset(Dataset):
    """Apply `transform` to the input (and `target_transform` to the target) of another dataset's
    (input, target) samples, e.g. augmentation on a TensorDataset.

    >>> import cnnlab
    >>> ds = TransformedDataset(TensorDataset(cnnlab.ones(3, 2), cnnlab.arange(3)), lambda x: x * 2)
    >>> ds[0][0].tolist()
    [2.0, 2.0]
    """

    def __init__(self, dataset, transform=None, target_transform=None):
        self.dataset, self.transform, self.target_transform = dataset, transform, target_transform

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        x, y = self.dataset[index][:2]
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


class IterableDataset(Dataset):
    """Base class of datasets that are streams: subclasses implement `__iter__()` (yielding samples) and may
    implement `__len__()`. A DataLoader batches consecutive samples of the stream, without a sampler. `a + b`
    chains two streams. Matches torch.utils.data.IterableDataset (in one process).

    >>> class Squares(IterableDataset):
    ...     def __iter__(self):
    ...         return (i * i for i in range(4))
    >>> list(Squares() + Squares())
    [0, 1, 4, 9, 0, 1, 4, 9]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of several IterableDatasets one stream after the other; len() is the sum of their lengths.
    Matches torch.utils.data.ChainDataset."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: every dataset must be an IterableDataset. Got {type(d).__name__}.")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: every dataset must be an IterableDataset. Got {type(d).__name__}.")
            total += len(d)
        return total


# ---- what a DataLoader does with an IterableDataset ---------------------------------------------------------
def check_iterable_loader_options(shuffle, sampler, batch_sampler):
    """A stream has its own order: PyTorch refuses shuffle, sampler and batch_sampler for it, and so do we."""
    for name, value in (("shuffle", shuffle if shuffle else None), ("sampler", sampler),
                        ("batch_sampler", batch_sampler)):
        if value is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option (a stream sets "
                             f"its own order). Got {name}={value!r}.")


def iterable_loader_batches(dataset, batch_size, drop_last, collate_fn):
    """The loader's batches of a stream: collate_fn of each run of batch_size consecutive samples (the last
    run shorter unless drop_last), or of each sample when batch_size is None.

    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> list(iterable_loader_batches(Count(), 2, False, list))
    [[0, 1], [2, 3], [4]]
    """
    stream = iter(dataset)
    if batch_size is None:
        for sample in stream:
            yield collate_fn(sample)
        return
    while True:
        batch = list(itertools.islice(stream, batch_size))
        if not batch or (drop_last and len(batch) < batch_size):
            return
        yield collate_fn(batch)


def iterable_loader_len(dataset, batch_size, drop_last):
    """len(loader) over a stream, from len(dataset) (a TypeError, as PyTorch, when the stream has no length)."""
    n = len(dataset)
    if batch_size is None:
        return n
    return n // batch_size if drop_last else -(-n // batch_size)
