"""Utilities around a model's parameters, as torch.nn.utils: gradient clipping, flat parameter vectors,
parametrizations (parametrize, parametrizations.weight_norm/spectral_norm) and the legacy weight_norm and
spectral_norm hooks.

>>> import cnnlab, cnnlab.nn as nn
>>> model = nn.Linear(4, 2)
>>> model(cnnlab.randn(8, 4)).pow(2).sum().backward()
>>> norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
>>> total = nn.utils.get_total_norm([p.grad for p in model.parameters()])
>>> bool(total <= 0.5)
True
"""
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from . import fusion, parametrizations, parametrize
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "parametrizations", "parametrize",
           "remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm"]
