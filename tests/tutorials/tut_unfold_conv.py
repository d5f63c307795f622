"""Convolution from scratch as lectures show it: Tensor.unfold patches, F.unfold + matmul + F.fold (the
nn.Unfold documentation example), a naive loop, per-channel normalisation, parameter memory."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv2d_loops(x, w):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = torch.zeros(n, o, h - kh + 1, wd - kw + 1)
    for i in range(h - kh + 1):
        for j in range(wd - kw + 1):
            patch = x[:, :, i:i + kh, j:j + kw]
            out[:, :, i, j] = (patch.unsqueeze(1) * w.unsqueeze(0)).sum(dim=(2, 3, 4))
    return out


if __name__ == "__main__":
    CHECK = {}
    rng = np.random.default_rng(23)
    inp = torch.tensor(rng.standard_normal((1, 3, 10, 12)), dtype=torch.float32)
    w = torch.tensor(rng.standard_normal((2, 3, 4, 5)), dtype=torch.float32)
    inp_unf = F.unfold(inp, (4, 5))
    out_unf = inp_unf.transpose(1, 2).matmul(w.view(w.size(0), -1).t()).transpose(1, 2)
    out = F.fold(out_unf, (7, 8), (1, 1))
    CHECK["unfold_matmul"] = out
    CHECK["matches_conv"] = (torch.nn.functional.conv2d(inp, w) - out).abs().max().item() < 1e-4
    CHECK["loops"] = conv2d_loops(inp, w)
    patches = inp.unfold(2, 4, 1).unfold(3, 5, 1)
    CHECK["tensor_unfold_shape"] = tuple(patches.shape)
    CHECK["tensor_unfold"] = patches[0, 1, 2, 3]
    CHECK["patches_conv"] = torch.einsum('nchwij,ocij->nohw', patches, w)
    unfold = nn.Unfold(kernel_size=(2, 3))
    CHECK["nn_unfold"] = unfold(torch.arange(24.).view(1, 2, 3, 4))
    CHECK["nn_fold"] = nn.Fold(output_size=(3, 4), kernel_size=(2, 3))(unfold(torch.arange(24.).view(1, 2, 3, 4)))
    x = torch.tensor(rng.random((8, 3, 5, 5)), dtype=torch.float32)
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3))
    CHECK["normalised"] = (x - mean[None, :, None, None]) / std[None, :, None, None]
    CHECK["normalised_view"] = (x - mean.view(1, 3, 1, 1)) / std.view(1, -1, 1, 1)
    conv = nn.Conv2d(3, 16, 3)
    CHECK["numel"] = (conv.weight.numel(), conv.weight.nelement(), conv.bias.element_size())
    CHECK["bytes"] = sum(p.numel() * p.element_size() for p in conv.parameters())
    CHECK["is_contig"] = inp.is_contiguous() and not inp.transpose(2, 3).is_contiguous()
    CHECK["stride"] = inp.stride()
    CHECK["dim"] = (inp.dim(), inp.ndimension(), inp.ndim)
