"""Neural-network building blocks: `cnnlab.nn.functional` (stateless ops) and, later, layers as modules."""
from . import functional  # noqa: F401
