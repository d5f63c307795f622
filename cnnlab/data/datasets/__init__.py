"""Dataset readers: MNIST, FashionMNIST (IDX files), CIFAR10 (python batches), ImageFolder, and the bundled
MNISTSample."""
from .cifar import CIFAR10
from .folder import ImageFolder
from .mnist import MNIST, FashionMNIST, IDXError, read_idx
from .sample import MNISTSample

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "MNISTSample", "IDXError", "read_idx"]
