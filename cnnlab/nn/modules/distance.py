"""PairwiseDistance and CosineSimilarity: thin modules over F.pairwise_distance and F.cosine_similarity.

>>> import cnnlab, cnnlab.nn as nn
>>> nn.CosineSimilarity(dim=1)(cnnlab.tensor([[1.0, 0.0]]), cnnlab.tensor([[0.0, 2.0]]))
tensor([0.])
"""
from .. import functional as F
from .module import Module

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """The p-norm of x1 - x2 + eps over the last dim. Args: p (default 2.0, stored as .norm), eps (default 1e-6),
    keepdim (default False). Matches torch.nn.PairwiseDistance."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine of the angle between x1 and x2 along dim. Args: dim (default 1), eps (default 1e-8).
    Matches torch.nn.CosineSimilarity."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
