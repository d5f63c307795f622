"""Multiply-add combinations built from the elementwise ops and matmul (their gradients come from those):
addcmul, addcdiv, lerp, addmm, mv."""
from ..errors import ShapeError, shape_str
from . import elementwise
from ._operands import as_tensor_arg


def addcmul(input, tensor1, tensor2, value=1):
    """input + value * tensor1 * tensor2. Matches torch.addcmul.

    >>> import cnnlab
    >>> cnnlab.addcmul(cnnlab.tensor([1.0, 1.0]), cnnlab.tensor([2.0, 3.0]), cnnlab.tensor([4.0, 5.0]), value=0.5)
    tensor([5.0000, 8.5000])
    """
    return elementwise.add(input, elementwise.mul(elementwise.mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, value=1):
    """input + value * tensor1 / tensor2. Matches torch.addcdiv.

    >>> import cnnlab
    >>> cnnlab.addcdiv(cnnlab.tensor([1.0, 1.0]), cnnlab.tensor([2.0, 3.0]), cnnlab.tensor([4.0, 6.0]), value=2)
    tensor([2., 2.])
    """
    return elementwise.add(input, elementwise.mul(elementwise.div(tensor1, tensor2), value))


def lerp(input, end, weight):
    """input + weight * (end - input). Matches torch.lerp.

    >>> import cnnlab
    >>> cnnlab.lerp(cnnlab.tensor([0.0, 10.0]), cnnlab.tensor([4.0, 20.0]), 0.25)
    tensor([ 1.0000, 12.5000])
    """
    return elementwise.add(input, elementwise.mul(elementwise.sub(end, input), weight))


def addmm(input, mat1, mat2, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2). Matches torch.addmm.

    >>> import cnnlab
    >>> cnnlab.addmm(cnnlab.ones(2, 2), cnnlab.eye(2), cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]), beta=0.5)
    tensor([[1.5000, 2.5000],
            [3.5000, 4.5000]])
    """
    prod = elementwise.matmul(mat1, mat2)
    return elementwise.add(elementwise.mul(input, beta) if beta != 1 else input, elementwise.mul(prod, alpha) if alpha != 1 else prod)


def mv(input, vec):
    """Matrix-vector product. Matches torch.mv.

    >>> import cnnlab
    >>> cnnlab.mv(cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]), cnnlab.tensor([1.0, -1.0]))
    tensor([-1., -1.])
    """
    a, v = as_tensor_arg(input, "mv", "input"), as_tensor_arg(vec, "mv", "vec")
    if a.ndim != 2 or v.ndim != 1:
        raise ShapeError(f"mv: expects a 2-D matrix and a 1-D vector. Got input.shape={shape_str(a.shape)}, "
                         f"vec.shape={shape_str(v.shape)}.")
    return elementwise.matmul(a, v)
