"""Data loading with PyTorch's names: Dataset, TensorDataset, Subset, ConcatDataset, random_split,
DataLoader, `cnnlab.data.transforms`, and dataset readers (MNIST, FashionMNIST, CIFAR10, ImageFolder, and
the bundled offline MNISTSample)."""
from . import transforms
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, TransformedDataset, random_split
from .datasets import CIFAR10, MNIST, FashionMNIST, IDXError, ImageFolder, MNISTSample, read_idx
from .loader import DataLoader, default_collate

__all__ = ["Dataset", "TensorDataset", "TransformedDataset", "Subset", "ConcatDataset", "random_split", "DataLoader", "default_collate",
           "transforms", "MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "MNISTSample", "IDXError", "read_idx"]
