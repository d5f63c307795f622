"""torch.utils.data under cnnlab's name, so `from torch.utils.data import DataLoader` ports by changing the
import. Every name is the object cnnlab.data defines (nothing is duplicated).

>>> import cnnlab
>>> from cnnlab.utils.data import DataLoader, TensorDataset
>>> DataLoader is cnnlab.data.DataLoader
True
>>> [b[0].tolist() for b in DataLoader(TensorDataset(cnnlab.arange(5)), batch_size=2)]
[[0, 1], [2, 3], [4]]
"""
from ...data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                     Sampler, SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                     default_collate, default_convert, get_worker_info, random_split)
from . import dataloader, dataset, sampler

__all__ = ["Dataset", "IterableDataset", "ChainDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader", "default_collate",
           "default_convert", "get_worker_info", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "dataloader", "dataset", "sampler"]
