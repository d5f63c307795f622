"""Exception types. Each subclasses both the built-in type Python users expect (ValueError, TypeError) and
RuntimeError, the type PyTorch raises for the same mistake, so `except RuntimeError` code ported from PyTorch
and `except ValueError` code written for cnnlab both catch it."""
import pickle


class ShapeError(ValueError, RuntimeError):
    """A shape, size or value that the op's rule does not allow."""


class GradError(ValueError, RuntimeError):
    """An autograd misuse: backward on a non-scalar without a gradient, through a freed graph, ..."""


class DTypeError(TypeError, RuntimeError):
    """A dtype the op does not accept (float targets where class indices are needed, ...)."""


class ArgumentError(ValueError, RuntimeError):
    """An argument value the op does not accept (an unknown mode name, a repeated dim, both bounds None, ...)
    where PyTorch raises RuntimeError."""


class ArgumentTypeError(TypeError, RuntimeError):
    """An argument of the wrong kind (a padding tuple of the wrong length, ...) where PyTorch raises
    RuntimeError."""


def shape_str(shape):
    """`(8, 3, 32, 32)`: a shape as the error messages print it."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class IndexRangeError(IndexError, RuntimeError):
    """An index outside the dim it addresses (PyTorch raises RuntimeError for gather/scatter, IndexError for
    indexing; this is both)."""


class LinAlgError(ValueError, RuntimeError):
    """A linear-algebra failure such as inverting a singular matrix: torch.linalg.LinAlgError (a RuntimeError)
    and, like numpy.linalg.LinAlgError, a ValueError."""


class CheckpointError(ValueError, pickle.UnpicklingError):
    """A checkpoint or weights file that cannot be read safely or correctly (corrupt, truncated, crafted, or
    of the wrong structure). The message names the file."""


class DataError(ValueError):
    """A data file that is not what it should be (corrupt, truncated, wrong magic number, labels out of range,
    an empty class folder). The message names the file."""


class OutOfMemoryError(MemoryError, RuntimeError):
    """An op whose result would need more memory than the machine has; raised before allocating, naming the op,
    the shape and the bytes (PyTorch's torch.OutOfMemoryError is also a RuntimeError)."""
