"""Data loading with PyTorch's names: Dataset, TensorDataset, Subset, ConcatDataset, random_split, the
samplers, DataLoader, `cnnlab.data.transforms`, and dataset readers (MNIST, FashionMNIST, CIFAR10,
ImageFolder, and the bundled offline MNISTSample). `cnnlab.utils.data` holds the same objects under
torch.utils.data's name.

The dataset readers and transforms are imported on first use, so `import cnnlab` stays quick.
"""
import importlib

from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, TransformedDataset,
                      random_split)
from .loader import DataLoader, default_collate, default_convert, get_worker_info
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

_LAZY = {"transforms": ("transforms", None), "datasets": ("datasets", None),
         **{name: ("datasets", name) for name in
            ("MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "MNISTSample", "IDXError", "read_idx")}}

__all__ = ["Dataset", "IterableDataset", "ChainDataset", "TensorDataset", "TransformedDataset", "Subset",
           "ConcatDataset", "random_split",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DataLoader", "default_collate", "default_convert", "get_worker_info", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'cnnlab.data' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = importlib.import_module(f"{__name__}.{module}")
    return value if attr is None else getattr(value, attr)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
