"""The legacy spectral normalisation hook: `spectral_norm(module)` keeps the trained weight as `weight_orig`,
the power-iteration vectors as buffers `weight_u` and `weight_v`, and a forward pre-hook sets
`module.weight = weight_orig / sigma` before every forward (running the power iteration first in training
mode). Matches torch.nn.utils.spectral_norm / remove_spectral_norm.

>>> import cnnlab.nn as nn
>>> m = nn.utils.spectral_norm(nn.Linear(4, 3))
>>> sorted(m.state_dict()), tuple(m.weight_u.shape), tuple(m.weight_v.shape)
(['bias', 'weight_orig', 'weight_u', 'weight_v'], (3,), (4,))
"""
from ...autograd import no_grad
from ...ops.elementwise import dot
from ...ops.fused import mv
from ..functional import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..parameter import Parameter
from ._norm_hooks import refuse_second_hook, remove_hook
from .parametrizations import matrix_of


class SpectralNorm:
    """The forward pre-hook of one spectrally normalised parameter."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError("spectral_norm: expected n_power_iterations to be positive. Got "
                             f"n_power_iterations={n_power_iterations}.")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = matrix_of(weight, self.dim)
        if do_power_iteration:
            with no_grad():  # v first, then u (the order of the legacy hook; the parametrization does u first)
                m = mat.detach()
                for _ in range(self.n_power_iterations):
                    v._data[...] = normalize(mv(m.t(), u), dim=0, eps=self.eps)._data
                    u._data[...] = normalize(mv(m, v), dim=0, eps=self.eps)._data
            u, v = u.clone(), v.clone()
        sigma = dot(u, mv(mat, v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        refuse_second_hook(module, SpectralNorm, name, "spectral_norm")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if not isinstance(weight, Parameter):
            raise ValueError(f"spectral_norm: module has no parameter {name!r}. Got {type(weight).__name__}.")
        with no_grad():
            mat = matrix_of(weight, dim)
            h, w = mat.shape
            u = normalize(mat.new_empty(h).normal_(0, 1), dim=0, eps=eps)
            v = normalize(mat.new_empty(w).normal_(0, 1), dim=0, eps=eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide module.<name> by its spectral norm before every forward, estimated by power iteration on the
    buffers <name>_u and <name>_v (n_power_iterations steps per training forward; none in eval mode); the
    trained tensor is <name>_orig. dim=None means 1 for ConvTranspose layers, else 0. Returns module.

    Raises:
        RuntimeError: the parameter already has a spectral_norm hook. Matches torch.nn.utils.spectral_norm.
    """
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: <name> becomes one Parameter holding weight_orig / sigma (with the current u, v).
    Returns module.

    Raises:
        ValueError: module has no spectral_norm on name. Matches torch.nn.utils.remove_spectral_norm.
    """
    return remove_hook(module, SpectralNorm, name, "spectral_norm")
