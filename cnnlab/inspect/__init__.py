"""Explain a CNN in numbers and words: shape arithmetic, summaries, receptive fields, the dot product behind a value.

>>> import cnnlab.inspect as ci
>>> ci.output_size(32, 5), ci.padding_for(32, 5)
(28, (2, 2))
"""
from .shapes import explain_conv, explain_pool, output_size, padding_for
from .checks import check_model, checked_forward, shape_checks
from .cells import CellExplanation, explain_cell
from .model_summary import LayerInfo, ModelSummary, summary
from .receptive_fields import ReceptiveField, receptive_field

__all__ = ["output_size", "padding_for", "explain_conv", "explain_pool", "receptive_field", "ReceptiveField",
           "shape_checks", "check_model", "checked_forward", "summary", "ModelSummary", "LayerInfo",
           "explain_cell", "CellExplanation"]
