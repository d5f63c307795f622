"""Classic CNN architectures, one per file, and a registry: list_models(), get_model(name, **kwargs)."""
from .lenet import LectureCNN, LeNet5, lecture_cnn, lenet5
from .registry import describe, get_model, list_models, register_model

__all__ = ["LeNet5", "LectureCNN", "lenet5", "lecture_cnn", "get_model", "list_models", "describe", "register_model"]
