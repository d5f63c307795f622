"""create_graph formulas for the products and matrix ops: matmul (mm, mv, dot, batched), linear and bilinear,
einsum, linalg.inv and linalg.det, trace, tril/triu, and the casts (to, clone).

Products are multilinear, so each gradient is a product of the incoming gradient with the other operands,
written with the same differentiable ops (matmul, einsum); maps with fixed indices (trace, tril/triu, einsum's
diagonals, the det's minors) are linear_op's over the op's own array code.
"""
import numpy as np

from ..autograd.graph import linear_op, register, sum_to
from ..linalg import det, inv
from ..ops.einsum import einsum, operand_gradient
from ..ops.elementwise import matmul
from .binary import fit
from .unary import const


def _to_shape(g, shape):
    return g if tuple(g.shape) == tuple(shape) else sum_to(g, shape)


def _cast(g, t):
    return g if g.dtype == t.dtype else g.to(t.dtype)


def _matmul_formula(ctx, grad):
    """matmul's node (MmBackward0, MvBackward0, DotBackward0, and batched / 1-D-by-2-D names)."""
    s = ctx.saved
    if not {"a2", "b2", "batch"} <= s.keys():
        return NotImplemented
    a, b = ctx.inputs
    a2, b2 = s["a2"].shape, s["b2"].shape  # the operands as matrices: (1, K) / (K, 1) for 1-D ones
    g2 = grad.reshape(tuple(s["batch"]) + (a2[-2], b2[-1]))  # (*batch, M, N)
    ga = gb = None
    need_a, need_b = ctx.needs_input_grad
    if need_a:  # dA = G B^T
        ga = _cast(_to_shape(matmul(g2, b.reshape(b2).transpose(-1, -2)), a2).reshape(a.shape), a)
    if need_b:  # dB = A^T G
        gb = _cast(_to_shape(matmul(a.reshape(a2).transpose(-1, -2), g2), b2).reshape(b.shape), b)
    return ga, gb


def _bias_grad(g2, bias):
    gb = g2.sum(0)
    return (gb.sum() if bias.numel() == 1 else gb).reshape(bias.shape)


def _linear_formula(ctx, grad):
    """F.linear's node (AddmmBackward0, and MmBackward0 / views of it by the input's rank)."""
    # Y = X W^T + b  =>  dX = G W, dW = G^T X, db = the sum of G over rows
    s = ctx.saved
    if not {"w2", "x2", "M", "out_features"} <= s.keys():
        return NotImplemented
    x, w = ctx.inputs[:2]
    M, F = s["M"], s["out_features"]
    g2 = grad.reshape(M, F)  # (M, out_features)
    need = ctx.needs_input_grad
    grads = (matmul(g2, w.reshape(s["w2"].shape)).reshape(x.shape) if need[0] else None,
             matmul(g2.transpose(0, 1), x.reshape(M, x.shape[-1])).reshape(w.shape) if need[1] else None)
    if len(ctx.inputs) == 3:
        grads += (_bias_grad(g2, ctx.inputs[2]) if need[2] else None,)
    return grads


# the names matmul and linear record (by the operands' ranks; reshape records the view names too)
for _name in ("MmBackward0", "MvBackward0", "DotBackward0", "SqueezeBackward4", "UnsafeViewBackward0"):
    register(_name)(_matmul_formula)
for _name in ("AddmmBackward0", "MmBackward0", "ViewBackward0", "SqueezeBackward4", "UnsafeViewBackward0"):
    register(_name)(_linear_formula)


@register("BilinearBackward")
def _bilinear(ctx, grad):
    # y_mk = sum_ij a_mi W_kij c_mj: each gradient is an einsum of g with the other two factors
    s = ctx.saved
    if not {"M", "K", "I", "J", "aw"} <= s.keys():
        return NotImplemented
    a, c, w = ctx.inputs[:3]
    M, K, I, J = s["M"], s["K"], s["I"], s["J"]
    g2, a2, c2 = grad.reshape(M, K), a.reshape(M, I), c.reshape(M, J)
    need = ctx.needs_input_grad
    grads = (einsum("mk,kij,mj->mi", g2, w, c2).reshape(a.shape) if need[0] else None,
             einsum("mk,kij,mi->mj", g2, w, a2).reshape(c.shape) if need[1] else None,
             einsum("mk,mi,mj->kij", g2, a2, c2) if need[2] else None)
    if len(ctx.inputs) == 4:
        grads += (_bias_grad(g2, ctx.inputs[3]) if need[3] else None,)
    return grads


@register("EinsumBackward0")
def _einsum(ctx, grad):
    # d/d operand_i = einsum(g, the other operands) over operand i's distinct letters, broadcast along the
    # letters only operand i has, and put on the diagonal where operand i repeats a letter ('ii')
    s = ctx.saved
    if not {"terms", "out_subs", "sizes", "full"} <= s.keys():
        return NotImplemented
    terms, out_subs, sizes, full = s["terms"], s["out_subs"], s["sizes"], s["full"]
    dt = full[0].dtype
    ops = [t if t._data.dtype == dt else t.to(dt) for t in ctx.inputs]
    ops = [t if tuple(t.shape) == f.shape else t.expand(*f.shape) for t, f in zip(ops, full)]
    grads = []
    for i, (sub, t, need) in enumerate(zip(terms, ctx.inputs, ctx.needs_input_grad)):
        if not need:
            grads.append(None)
            continue
        equation, distinct, kept = operand_gradient(terms, out_subs, i)
        gi = einsum(equation, grad, *(ops[j] for j in range(len(ops)) if j != i))
        if kept != distinct:
            gi = gi.reshape(tuple(sizes.get(c, 1) if c in kept else 1 for c in distinct)).expand(
                *(sizes.get(c, 1) for c in distinct))
        if distinct != sub:
            gi = _onto_diagonal(gi, sub, distinct, full[i].shape)
        grads.append(fit(gi, t))
    return tuple(grads)


def _onto_diagonal(g, sub, distinct, shape):
    """g (indexed by the distinct letters) placed on the diagonal of an operand that repeats letters."""
    def place(a):
        out = np.zeros(shape, a.dtype)
        np.einsum(f"{sub}->{distinct}", out)[...] = a  # a writable view of out's diagonal
        return out
    return linear_op("EinsumBackward0", place, lambda h: np.einsum(f"{sub}->{distinct}", h).copy(), g)


@register("LinalgInvExBackward0")
def _inv(ctx, grad):
    # d(A^-1) = -A^-1 dA A^-1  =>  dA = -A^-T G A^-T
    if len(ctx.inputs) != 1:
        return NotImplemented
    inv_t = ctx.output.transpose(-1, -2)
    return (-matmul(matmul(inv_t, grad), inv_t),)


@register("LinalgDetBackward0")
def _det(ctx, grad):
    # d det(A) / dA = det(A) A^-T for invertible A; in general the cofactor matrix (a polynomial in A: the
    # signed determinants of the minors), which also holds at singular matrices. The cofactors are used where
    # A is singular or so ill-conditioned that A^-1's own derivative would lose the digits (cond > 1/sqrt(eps))
    if len(ctx.inputs) != 1:
        return NotImplemented
    a, = ctx.inputs
    g = grad.unsqueeze(-1).unsqueeze(-1)
    with np.errstate(all="ignore"):
        s = np.linalg.svd(a._data, compute_uv=False)
        cond = np.max(s[..., 0] / s[..., -1]) if s.size else 1.0
    if not cond < 1 / np.sqrt(np.finfo(a._data.dtype).eps):
        return (g * _cofactors(a),)
    return (g * ctx.output.unsqueeze(-1).unsqueeze(-1) * inv(a).transpose(-1, -2),)


def _cofactors(a):
    """The cofactor matrix of each square matrix in a (..., n, n): (-1)^(i+j) det(a without row i, column j)."""
    n = a.shape[-1]
    if n == 1:
        return const(np.ones(a.shape), a)
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)])  # (n, n-1): the rows (or cols) left
    flat = keep[:, None, :, None] * n + keep[None, :, None, :]  # (n, n, n-1, n-1): minor (i, j) in A's n*n
    lead = tuple(a.shape[:-2])

    def minors(x):
        return x.reshape(lead + (n * n,))[..., flat]

    def minors_adjoint(h):
        out = np.zeros((int(np.prod(lead, dtype=np.int64)), n * n), h.dtype)
        np.add.at(out, (slice(None), flat.reshape(-1)), h.reshape(out.shape[0], -1))
        return out.reshape(lead + (n, n))

    signs = const((-1.0) ** np.add.outer(np.arange(n), np.arange(n)), a)
    return det(linear_op("LinalgDetBackward0", minors, minors_adjoint, a)) * signs


@register("TraceBackward0")
def _trace(ctx, grad):
    # d trace / dx: g on the main diagonal (the op's own backward); its adjoint sums that diagonal
    s = ctx.saved
    if not {"x", "i", "j"} <= s.keys():
        return NotImplemented
    i, j = s["i"], s["j"]
    return (linear_op(ctx.op, lambda g: ctx.backward(g)[0], lambda h: np.asarray(h[i, j].sum()), grad),)


@register("TrilBackward0")
@register("TriuBackward0")
def _triangle(ctx, grad):
    # keeping a triangle is a projection: its own adjoint (the op's own backward both ways)
    if not {"np_fn", "k"} <= ctx.saved.keys():
        return NotImplemented
    return (linear_op(ctx.op, lambda a: ctx.backward(a)[0], lambda a: ctx.backward(a)[0], grad),)


@register("ToCopyBackward")
def _to(ctx, grad):
    if len(ctx.inputs) != 1:
        return NotImplemented
    return (grad.to(ctx.inputs[0].dtype),)


@register("CloneBackward")
def _clone(ctx, grad):
    return (grad,) if len(ctx.inputs) == 1 and tuple(grad.shape) == tuple(ctx.inputs[0].shape) else NotImplemented
