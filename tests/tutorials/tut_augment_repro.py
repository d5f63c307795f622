"""Reproducibility boilerplate and tensor-level augmentation from lectures: seeds, threads, deterministic
switches, flips, rot90, roll, mixup with randperm, cutout masks, torch.testing.assert_close."""
import random

import numpy as np
import torch
import torch.nn.functional as F


def set_seed(seed=42):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


if __name__ == "__main__":
    CHECK = {}
    set_seed(0)
    torch.set_num_threads(2)
    CHECK["threads"] = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    x = torch.tensor(np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4))
    CHECK["hflip"] = torch.flip(x, dims=[3])
    CHECK["vflip"] = x.flip(-2)
    CHECK["rot90"] = torch.rot90(x, 1, dims=[2, 3])
    CHECK["roll"] = torch.roll(x, shifts=(1, -1), dims=(2, 3))
    index = torch.randperm(x.size(0))
    lam = 0.3
    mixed = lam * x + (1 - lam) * x[index, :]
    CHECK["mixup_sum"] = mixed.sum()
    mask = torch.ones_like(x)
    mask[:, :, 1:3, 1:3] = 0
    CHECK["cutout"] = x * mask
    crop = F.pad(x, (2, 2, 2, 2), mode='reflect')[:, :, 1:5, 3:7]
    CHECK["pad_crop"] = crop
    noisy = x + 0.1 * torch.randn_like(x)
    CHECK["noise_shape"] = tuple(noisy.shape)
    torch.testing.assert_close(x.flip(3).flip(3), x)
    CHECK["assert_close_ok"] = True
    g = torch.Generator().manual_seed(1)
    a = torch.randn(3, generator=g)
    g = torch.Generator().manual_seed(1)
    CHECK["generator_repeat"] = torch.equal(a, torch.randn(3, generator=g))
    CHECK["bernoulli_mask"] = tuple(torch.bernoulli(torch.full((2, 3), 0.5)).shape)
    CHECK["randint"] = bool(((torch.randint(0, 10, (5,)) >= 0) & (torch.randint(0, 10, (5,)) < 10)).all())
    torch.use_deterministic_algorithms(False)
