"""Tensor math with autograd: elementwise ops, reductions, shape ops and indexing (PyTorch's torch.* surface)."""
