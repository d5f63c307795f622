"""torch.utils.data.dataset under cnnlab's name (the objects of cnnlab.data.dataset)."""
from ...data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                             random_split)

__all__ = ["Dataset", "IterableDataset", "ChainDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]
