"""torch.utils under cnnlab's name: `cnnlab.utils.data` is torch.utils.data (the objects of cnnlab.data)."""
from . import data

__all__ = ["data"]
