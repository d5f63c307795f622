"""The legacy weight normalisation hook: `weight_norm(module)` replaces the parameter `weight` with `weight_g`
(magnitude) and `weight_v` (direction), and a forward pre-hook recomputes `module.weight = g * v / ||v||`
before every forward. Deprecated in PyTorch in favour of nn.utils.parametrizations.weight_norm (it warns the
same way here). Matches torch.nn.utils.weight_norm / remove_weight_norm.

>>> import warnings, cnnlab.nn as nn
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     m = nn.utils.weight_norm(nn.Linear(4, 3))
>>> sorted(m.state_dict()), tuple(m.weight_g.shape)
(['bias', 'weight_g', 'weight_v'], (3, 1))
"""
import warnings

from ...autograd import no_grad
from ..parameter import Parameter
from ._norm_hooks import refuse_second_hook, remove_hook
from .parametrizations import norm_except_dim, weight_from_norm


class WeightNorm:
    """The forward pre-hook of one weight-normalised parameter (its name and dim)."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return weight_from_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        refuse_second_hook(module, WeightNorm, name, "weight_norm")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name, None)
        if not isinstance(weight, Parameter):
            raise ValueError(f"weight_norm: module has no parameter {name!r}. Got {type(weight).__name__}.")
        del module._parameters[name]
        with no_grad():
            g = norm_except_dim(weight, fn.dim)
        module.register_parameter(name + "_g", Parameter(g.detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Split module.<name> into <name>_g (the norm over every dim but dim; dim=None for one norm of the whole
    tensor) and <name>_v (the direction), recombined by a forward pre-hook. Returns module.
    Deprecated (FutureWarning), as in PyTorch: prefer nn.utils.parametrizations.weight_norm.

    Raises:
        RuntimeError: the parameter already has a weight_norm hook. Matches torch.nn.utils.weight_norm.
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: <name> becomes one Parameter again, holding the current g * v / ||v||. Returns module.

    Raises:
        ValueError: module has no weight_norm on name. Matches torch.nn.utils.remove_weight_norm.
    """
    return remove_hook(module, WeightNorm, name, "weight_norm")
