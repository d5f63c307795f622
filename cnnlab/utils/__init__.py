"""torch.utils under cnnlab's name: `cnnlab.utils.data` is torch.utils.data (the objects of cnnlab.data);
`cnnlab.utils.checkpoint` is torch.utils.checkpoint (activation recomputation)."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
