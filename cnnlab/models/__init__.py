"""Classic CNN architectures, one per file, and a registry: list_models(), get_model(name, **kwargs)."""
from .lenet import LectureCNN, LeNet5, lecture_cnn, lenet5
from .registry import builder_parameters, canonical_name, describe, get_model, input_shape, list_models, register_model

__all__ = ["LeNet5", "LectureCNN", "lenet5", "lecture_cnn", "get_model", "list_models", "describe", "input_shape",
           "canonical_name", "builder_parameters", "register_model"]
