"""Reverse-mode automatic differentiation, as torch.autograd.

The package, bottom to top: engine.py (the first-order backward walk on arrays: the training hot path),
graph.py (the create_graph walk, which records the gradients themselves, and the formula registry that
cnnlab/derivatives/ fills), api.py (Tensor.backward, backward, grad), function.py (custom Functions),
finite_differences.py (gradcheck; not named gradcheck.py, which the function of that name would shadow) and
gradgrad.py (gradgradcheck). The grad-mode switch lives in cnnlab/grad_mode.py and is re-exported here.
docs/autograd.md explains how it works and how to write an op and its formulas.
"""
from ..grad_mode import (GradModeContext, enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                         set_grad_enabled)
from .api import Variable, backward, grad, tensor_backward  # noqa: F401
from .engine import ScatterGrad, grad_owned, run_backward  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .finite_differences import GradcheckError, gradcheck  # noqa: F401
from .gradgrad import gradgradcheck  # noqa: F401
