"""What the double-backward examples share: a library chosen on the command line, and parameters drawn from a
NumPy seed, so that the same script gives the same numbers on cnnlab and on PyTorch (copied weights)."""
import numpy as np


def library(use_torch):
    """cnnlab, or PyTorch when asked (the examples are written once against the shared names)."""
    if use_torch:
        import torch
        return torch
    import cnnlab
    return cnnlab


def seeded_(model, torch, seed=0):
    """Float64 parameters uniform in +-1/sqrt(fan_in) (PyTorch's default range) from a NumPy seed."""
    rng = np.random.default_rng(seed)
    model.double()
    with torch.no_grad():
        for p in model.parameters():
            fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else p.shape[0]
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(p.shape))))
    return model
