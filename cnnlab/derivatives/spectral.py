"""create_graph formula of linalg.matrix_norm's singular-value orders (2, -2, 'nuc'), closed to any order.

With B the smaller Gram matrix of A (A^T A when m >= n, else A A^T), the singular values are the square roots
of B's eigenvalues, and:
- ord 2 / -2: d sigma / dA = u v^T = A w w^T / sigma (m >= n; w w^T A / sigma else), w the unit eigenvector of
  B's largest / smallest eigenvalue: `eigenvector(B)`, an op whose derivative dw = (lambda I - B)^+ dB w is
  written with differentiable ops, the pseudo-inverse by deflation: (lambda I - B + c w w^T)^-1 - w w^T / c;
- 'nuc': d sum(sigma) / dA = U V^T = A B^-1/2 (B^-1/2 A else): `inverse_sqrt(B)`, an op whose derivative solves
  the Sylvester equation S dY + dY S = -Y dB Y (S = B^1/2 = B Y), again with differentiable ops.
Both identities hold for every A near the point, so their derivatives are the true ones, to any order.
"""
import numpy as np

from ..autograd.graph import register
from ..linalg import inv
from ..ops.einsum import einsum
from ..tensor import Tensor
from .unary import const


def _gram(a, wide):
    at = a.transpose(-1, -2)
    return a @ at if wide else at @ a


@register("LinalgMatrixNormBackward0")
def _singular_norm(ctx, grad):
    s = ctx.saved
    if not {"u", "vh", "ord", "x"} <= s.keys():
        return NotImplemented
    a, = ctx.inputs
    wide = a.shape[-2] < a.shape[-1]  # then the singular values come from A A^T (m x m)
    b = _gram(a, wide)
    if s["ord"] == "nuc":
        y = inverse_sqrt(b)
        d = y @ a if wide else a @ y
    else:
        w = eigenvector(b, largest=s["ord"] == 2)
        ww = w.unsqueeze(-1) * w.unsqueeze(-2)  # (..., k, k)
        d = (ww @ a if wide else a @ ww) / ctx.output.unsqueeze(-1).unsqueeze(-1)
    return (grad.unsqueeze(-1).unsqueeze(-1) * d,)


def eigenvector(b, largest):
    """The unit eigenvector of the symmetric matrices b (..., k, k) for their largest (or smallest) eigenvalue,
    differentiable to any order (the eigenvalue simple).

    >>> import cnnlab
    >>> eigenvector(cnnlab.tensor([[2.0, 0.0], [0.0, 1.0]]), largest=True).abs()
    tensor([1., 0.])
    """
    lam, vecs = np.linalg.eigh(b._data)  # ascending eigenvalues
    which = -1 if largest else 0
    w = vecs[..., :, which]
    with np.errstate(divide="ignore"):
        gaps = 1.0 / (lam[..., which, None] - lam)  # (..., k): 1 / (lambda - lambda_j)
    gaps[..., which] = 0.0

    # dw = (lambda I - B)^+ dB w  =>  dL/dB = ((lambda I - B)^+ h) w^T
    def backward(h):
        ph = np.einsum("...ij,...j,...kj,...k->...i", vecs, gaps, vecs, h)
        return (ph[..., :, None] * w[..., None, :],)

    backward.deflate = 1.0 + float(np.max(np.abs(lam))) if lam.size else 1.0
    return Tensor._from_op(np.ascontiguousarray(w), (b,), backward, "EigenvectorBackward")


@register("EigenvectorBackward")
def _eigenvector(ctx, grad):
    if "deflate" not in ctx.saved:
        return NotImplemented
    b, = ctx.inputs
    w, c = ctx.output, ctx.saved["deflate"]
    k = b.shape[-1]
    ww = w.unsqueeze(-1) * w.unsqueeze(-2)
    lam = (w.unsqueeze(-2) @ b @ w.unsqueeze(-1)).squeeze(-1)  # (..., 1): w^T B w
    pinv = inv(lam.unsqueeze(-1) * const(np.eye(k), grad) - b + ww * c) - ww / c  # (lambda I - B)^+
    return ((pinv @ grad.unsqueeze(-1)) * w.unsqueeze(-2),)


def inverse_sqrt(b):
    """B^-1/2 of the symmetric positive definite matrices b (..., k, k), differentiable to any order.

    >>> import cnnlab
    >>> inverse_sqrt(cnnlab.tensor([[4.0, 0.0], [0.0, 0.25]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 2.0000]])
    """
    lam, vecs = np.linalg.eigh(b._data)
    root = np.sqrt(lam)
    y = (vecs / root[..., None, :]) @ np.swapaxes(vecs, -1, -2)
    # Daleckii-Krein: d f(B) = V (F o (V^T dB V)) V^T with F_ij = (f(l_i) - f(l_j)) / (l_i - l_j)
    # = -1 / (s_i s_j (s_i + s_j)) for f = l^-1/2, s = sqrt(l); F is symmetric, so the adjoint has the same form
    weights = -1.0 / (root[..., :, None] * root[..., None, :] * (root[..., :, None] + root[..., None, :]))

    def backward(h):
        vt = np.swapaxes(vecs, -1, -2)
        return (vecs @ (weights * (vt @ h @ vecs)) @ vt,)

    return Tensor._from_op(y, (b,), backward, "InverseSqrtBackward")


@register("InverseSqrtBackward")
def _inverse_sqrt(ctx, grad):
    # S dY + dY S = -Y dB Y (S = B^1/2): with Z solving S Z + Z S = H, dL/dB = -Y Z Y. The Sylvester equation as
    # one linear system: (S (x) I + I (x) S) vec(Z) = vec(H), solved with inv (so this formula has formulas too)
    if "weights" not in ctx.saved:
        return NotImplemented
    b, = ctx.inputs
    y = ctx.output
    k = b.shape[-1]
    root = b @ y  # S = B^1/2
    eye = const(np.eye(k), grad)
    system = (einsum("...ik,jl->...ijkl", root, eye) + einsum("ik,...lj->...ijkl", eye, root)).reshape(
        tuple(b.shape[:-2]) + (k * k, k * k))
    z = (inv(system) @ grad.reshape(tuple(grad.shape[:-2]) + (k * k, 1))).reshape(tuple(grad.shape))
    return (-(y @ z @ y),)
