"""Which algorithm computes a convolution of a given geometry, and why.

kernels/conv.py asks `algorithm(op, geom)` before every forward and gradient; `explain` also gives the reason.
The rules are the algorithms' own (each module's ALGORITHMS, kernels/registry.py), asked in rank order: they
were set by timing each algorithm against PyTorch on the ResNet-18, LeNet-5 and ConvNeXt layers, alone and in
the models (benchmarks/NOTES.md has the measurements).

`forced(name)` makes every call use one algorithm (tests use it to check each against the others); a forced
algorithm that does not support a geometry falls back to 'gemm'.

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> algorithm("forward", ConvGeometry.of((32, 64, 56, 56), (64, 64, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1))
'winograd4'
>>> explain("forward", ConvGeometry.of((8, 3, 224, 224), (64, 3, 7, 7), (2, 2), ((3, 3), (3, 3)), (1, 1), 1))[0]
'gemm'
"""
import contextlib

from . import registry

_forced = None


def explain(op, geom, precise=False):
    """(name, reason): the algorithm for this convolution and why.

    Args:
        op: 'forward', 'backward_input' or 'backward_weight'.
        geom: the convolution's geometry (kernels/geometry.py).
        precise: the result is an activation that a gradient will flow back through (training): not F(4x4).
    """
    if _forced is not None:
        if registry.get(_forced).supports(geom):
            return _forced, "forced"
        return "gemm", f"forced {_forced!r} does not support this shape"
    for _, name, test in registry.rules():
        reason = test(op, geom, precise)
        if reason:
            return name, reason
    raise AssertionError("select: no rule matched (gemm's last rule matches every geometry)")


def algorithm(op, geom, precise=False):
    """The name of the algorithm (one of registry.names()) that computes this convolution."""
    return explain(op, geom, precise)[0]


@contextlib.contextmanager
def forced(name):
    """Within the block, every convolution uses algorithm `name` where it supports the shape ('gemm' elsewhere)."""
    global _forced
    if name not in registry.names():
        raise ValueError(f"forced: name must be one of {registry.names()}. Got name={name!r}.")
    old, _forced = _forced, name
    try:
        yield
    finally:
        _forced = old


def __getattr__(name):
    """ALGORITHMS: the names of every algorithm, read from the registry (for the tests that loop over them)."""
    if name == "ALGORITHMS":
        return registry.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
