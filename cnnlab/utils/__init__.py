"""torch.utils under cnnlab's name: `cnnlab.utils.data` is torch.utils.data (the objects of cnnlab.data);
`cnnlab.utils.checkpoint` is torch.utils.checkpoint (activation recomputation);
`make_grid` and `save_image` are torchvision.utils'."""
from . import checkpoint, data
from .image import make_grid, save_image

__all__ = ["checkpoint", "data", "make_grid", "save_image"]
