"""torch.einsum: NumPy's einsum forward, and gradients that are einsums of the incoming gradient with the
other operands."""
import string

import numpy as np

from .. import _dtypes
from ..errors import ArgumentError, ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, unbroadcast

_LETTERS = string.ascii_letters


def _from_sublists(args):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', [a, b]); Ellipsis in a sublist is '...'."""
    def subs(lst):
        return "".join("..." if v is Ellipsis else _LETTERS[int(v)] for v in lst)
    out = subs(args[-1]) if len(args) % 2 == 1 else None
    args = args[:-1] if out is not None else args
    ops, terms = list(args[0::2]), [subs(s) for s in args[1::2]]
    if len(terms) != len(ops) or not all(isinstance(s, (list, tuple)) for s in args[1::2]):
        raise ArgumentError("einsum: in the sublist form, each operand must be followed by its list of subscripts. "
                         f"Got {len(ops)} operands and {len(terms)} sublists.")
    eq = ",".join(terms) + ("" if out is None else "->" + out)
    return eq, ops


def _parse(equation, arrays):
    """The equation in explicit form with '...' replaced by letters: (input subscripts, output subscripts)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(arrays):
        raise ShapeError(f"einsum: the equation must have one subscript term per operand. Got "
                         f"equation={equation!r} ({len(terms)} terms) and {len(arrays)} operands.")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in _LETTERS if c not in used]
    n_ell = max((a.ndim - (len(s) - 3) for s, a in zip(terms, arrays) if "..." in s), default=0)
    ell = "".join(free[:n_ell])
    out_terms = []
    for s, a in zip(terms, arrays):
        named = len(s.replace("...", ""))
        if "..." in s:
            s = s.replace("...", ell[n_ell - (a.ndim - named):] if a.ndim > named else "")
        if len(s) != a.ndim or not all(c.isalpha() for c in s):
            raise ShapeError(f"einsum: each subscript term must name one letter per dim of its operand. Got "
                             f"term {s!r} for an operand of shape {shape_str(a.shape)} (equation={equation!r}).")
        out_terms.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {c: lhs.count(c) for c in set(lhs) if c.isalpha()}
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    return out_terms, out


def operand_gradient(terms, out_subs, i):
    """How operand i's gradient is formed (einsum's backward and its create_graph formula share it):
    (equation, distinct, kept): equation takes the incoming gradient and the other operands to operand i's letters
    that reach the output or another operand (kept); distinct is operand i's letters without repeats.

    >>> operand_gradient(["ij", "jk"], "ik", 0)
    ('ik,jk->ij', 'ij', 'ij')
    """
    others = [terms[j] for j in range(len(terms)) if j != i]
    reach = set(out_subs).union(*(set(o) for o in others))
    distinct = "".join(dict.fromkeys(terms[i]))
    kept = "".join(c for c in distinct if c in reach)
    return ",".join([out_subs] + others) + "->" + kept, distinct, kept


def einsum(equation, *operands):
    """Sums of products over the subscripts an equation names (NumPy's and PyTorch's einsum notation,
    '...' included; also the sublist form). Matches torch.einsum.

    Gradients: for operand i, the einsum of the incoming gradient with the other operands, over the letters
    of operand i (placed on the diagonal where operand i repeats a letter, as in 'ii->i').

    >>> import cnnlab
    >>> a, b = cnnlab.ones(2, 3), cnnlab.ones(3, 4)
    >>> cnnlab.einsum('ij,jk->ik', a, b).shape
    cnnlab.Size([2, 4])
    >>> cnnlab.einsum('bi,bi->b', a, a)
    tensor([3., 3.])
    """
    if not isinstance(equation, str):
        equation, operands = _from_sublists((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: at least one operand is needed. Got none.")
    ts = [as_tensor_arg(o, "einsum", f"operands[{k}]") for k, o in enumerate(operands)]
    dt = _dtypes.promote_arrays([t._data for t in ts])
    arrays = [t._data.astype(dt, copy=False) for t in ts]
    terms, out_subs = _parse(equation, arrays)
    sizes = {}
    for s, a in zip(terms, arrays):
        for c, n in zip(s, a.shape):
            if n != 1:
                if sizes.get(c, n) != n:
                    raise ShapeError(f"einsum: a subscript must have one size in every operand (or 1). Got "
                                     f"{c!r} of sizes {sizes[c]} and {n} (equation={equation!r}, shapes="
                                     f"{', '.join(shape_str(x.shape) for x in arrays)}).")
                sizes[c] = n
    for c in out_subs:
        if c not in sizes and not any(c in s for s in terms):
            raise ShapeError(f"einsum: every output subscript must appear in an input. Got {c!r} "
                             f"(equation={equation!r}).")
    # size-1 dims broadcast, as in PyTorch: give every operand the full size of each letter (views)
    full = [np.broadcast_to(a, tuple(sizes.get(c, 1) for c in s)) for s, a in zip(terms, arrays)]
    spec = ",".join(terms) + "->" + out_subs
    out = np.asarray(np.einsum(spec, *full, optimize=len(full) > 2))
    # out is multilinear in the operands: d/d operand_i = einsum(g, other operands) over operand i's distinct
    # letters; letters only operand i has (summed out in the forward) get the gradient broadcast along them, and
    # a letter operand i repeats ('ii', a diagonal) puts the gradient on that diagonal (zeros elsewhere)
    def backward(g):
        grads = []
        for i, (s, t) in enumerate(zip(terms, ts)):
            if not t._requires_grad:
                grads.append(None)
                continue
            equation, distinct, kept = operand_gradient(terms, out_subs, i)
            others = [full[j] for j in range(len(ts)) if j != i]
            gi = np.einsum(equation, g, *others, optimize=len(others) > 1)
            if kept != distinct:
                gi = np.broadcast_to(gi.reshape([sizes.get(c, 1) if c in kept else 1 for c in distinct]),
                                     tuple(sizes.get(c, 1) for c in distinct))
            if distinct != s:
                gx = np.zeros(full[i].shape, g.dtype)
                np.einsum(f"{s}->{distinct}", gx)[...] = gi  # a writable view of gx's diagonal
                gi = gx
            grads.append(unbroadcast(np.asarray(gi), t._data.shape).astype(t._data.dtype, copy=False))
        return grads

    return Tensor._from_op(out, tuple(ts), backward, "EinsumBackward0")
