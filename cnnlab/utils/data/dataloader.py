"""torch.utils.data.dataloader under cnnlab's name (the objects of cnnlab.data.loader)."""
from ...data.loader import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
