"""Datasets as PyTorch defines them: anything with __getitem__ and __len__, plus TensorDataset, Subset,
ConcatDataset and a seeded random_split."""
import bisect
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
