"""Weight normalisation and spectral normalisation as parametrizations (the modern PyTorch API).

`weight_norm(module)` stores the weight as a magnitude g (`original0`) and a direction v (`original1`) and
computes `weight = g * v / ||v||`; `spectral_norm(module)` divides the weight by its largest singular value,
estimated by power iteration on buffers u and v that are updated in training mode. The norms and the
power-iteration steps are shared with the legacy hooks in weight_norm.py and spectral_norm.py.
Matches torch.nn.utils.parametrizations.

>>> import cnnlab, cnnlab.nn as nn
>>> from cnnlab.nn.utils.parametrizations import weight_norm
>>> m = weight_norm(nn.Linear(4, 3))
>>> sorted(m.state_dict())
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
>>> m.parametrizations.weight.original0.shape
cnnlab.Size([3, 1])
"""
from ...autograd import no_grad
from ...ops.elementwise import abs as _abs, dot, sqrt
from ...ops.fused import mv
from ...tensor import Tensor
from ..functional import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize


def norm_except_dim(v, dim):
    """The 2-norm of v over every dim but `dim`, keeping v's rank (shape 1 there); dim=-1 is the norm of the
    whole tensor, a 0-d tensor. Matches torch.norm_except_dim(v, 2, dim)."""
    if dim == -1:
        return sqrt((v * v).sum())
    d = dim % v.ndim if v.ndim else 0
    others = tuple(i for i in range(v.ndim) if i != d)
    if not others:
        return _abs(v)
    return sqrt((v * v).sum(others, keepdim=True))


def weight_from_norm(v, g, dim):
    """g * v / ||v|| (the norm over every dim but dim). Matches torch._weight_norm."""
    return v * (g / norm_except_dim(v, dim))


def matrix_of(weight, dim):
    """weight as a matrix with dim first and the other dims flattened: (weight.shape[dim], -1)."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.ndim) if d != dim])
    return weight.flatten(1)


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_from_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize module.<name> as g * v / ||v||: g (`parametrizations.<name>.original0`) is the norm over
    every dim but `dim`, v (`original1`) the direction. Returns module.

    Args:
        module (Module): the layer.
        name (str, default 'weight'): the parameter to reparametrize.
        dim (int or None, default 0): the dim that keeps its own norm (output channels); None (or -1) for one
            norm of the whole tensor.

    Matches torch.nn.utils.parametrizations.weight_norm.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module.__class__._load_from_state_dict = _legacy_keys_loader(name)
    return module


def _legacy_keys_loader(name):
    """A _load_from_state_dict that first renames the legacy hook's keys (<name>_g, <name>_v) to this
    parametrization's (parametrizations.<name>.original0/1), so old checkpoints load, as in PyTorch."""
    def load(self, state_dict, prefix, *args, **kwargs):
        for old, new in ((name + "_g", "original0"), (name + "_v", "original1")):
            if prefix + old in state_dict:
                state_dict[f"{prefix}parametrizations.{name}.{new}"] = state_dict.pop(prefix + old)
        super(type(self), self)._load_from_state_dict(state_dict, prefix, *args, **kwargs)
    return load


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < max(ndim, 1):
            raise IndexError(f"spectral_norm: dim must be in [{-ndim}, {ndim - 1}]. Got dim={dim}, weight shape="
                             f"{tuple(weight.shape)}.")
        if n_power_iterations <= 0:
            raise ValueError("spectral_norm: expected n_power_iterations to be positive. Got "
                             f"n_power_iterations={n_power_iterations}.")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with no_grad():
                mat = matrix_of(weight, self.dim)
                h, w = mat.shape
                u = normalize(mat.new_empty(h).normal_(0, 1), dim=0, eps=eps)
                v = normalize(mat.new_empty(w).normal_(0, 1), dim=0, eps=eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(mat, 15)

    def _power_method(self, mat, n):
        """n steps u <- normalize(W v), v <- normalize(W^T u), written into the buffers in place."""
        with no_grad():
            mat = mat.detach()
            for _ in range(n):
                self._u._data[...] = normalize(mv(mat, self._v), dim=0, eps=self.eps)._data
                self._v._data[...] = normalize(mv(mat.t(), self._u), dim=0, eps=self.eps)._data

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        mat = matrix_of(weight, self.dim)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = dot(u, mv(mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide module.<name> by its spectral norm (largest singular value), estimated by power iteration: each
    forward in training mode runs n_power_iterations steps on the buffers
    `parametrizations.<name>.0._u` and `._v` (15 steps at registration). Returns module.

    Args:
        module (Module): the layer.
        name (str, default 'weight'): the parameter to normalise.
        n_power_iterations (int, default 1): power-iteration steps per training forward.
        eps (float, default 1e-12): the smallest norm divided by.
        dim (int or None, default None): the dim of output features (None: 1 for ConvTranspose, else 0).

    Raises:
        ValueError: module has no tensor `name`. Matches torch.nn.utils.parametrizations.spectral_norm.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
