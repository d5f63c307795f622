"""torch.utils.data.dataset under cnnlab's name (the objects of cnnlab.data.dataset)."""
from ...data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]
