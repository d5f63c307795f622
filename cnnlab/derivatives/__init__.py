"""The create_graph formulas of the ops (double backward), one module per family, registered in
cnnlab.autograd.graph by importing them. cnnlab/__init__.py imports this package last: the formulas use the ops,
and the engine knows only the registry. To add a family: create the module and add it to the import below."""
from . import core  # noqa: F401
from . import hooks  # noqa: F401
from . import activation, loss, normalization  # noqa: F401,E401  (engineer B4: nn activations, losses, norms)
from . import indexing, shape  # noqa: F401,E401  (engineer B3: shape, indexing and sorting ops)
from . import conv, pooling, sampling, spatial  # noqa: F401,E401  (engineer B5: spatial nn ops)
from . import binary, linalg, reduction, spectral, unary  # noqa: F401,E401  (engineer B2: math ops)
from . import dependence  # noqa: F401  (engineer B7: gradients PyTorch computes from the inputs)
