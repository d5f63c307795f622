"""Tensor idioms from lecture notebooks: iteration, len, NumPy protocols, factory kwargs, norms."""
import numpy as np
import torch
import torch.nn.functional as F

if __name__ == "__main__":
    CHECK = {}
    device = torch.device("cpu")
    x = torch.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10)
    CHECK["len"] = len(x)
    CHECK["iter_rows"] = [row.sum().item() for row in x]
    CHECK["zeros_device"] = torch.zeros(2, 3, device=device)
    CHECK["randn_device_shape"] = tuple(torch.randn(2, 3, device=device, dtype=torch.float64).shape)
    CHECK["tensor_device"] = torch.tensor([1.0, 2.0], device=device, requires_grad=True).requires_grad
    CHECK["to_non_blocking"] = x.to(device, non_blocking=True)
    CHECK["new_zeros"] = x.new_zeros(2, 2)
    CHECK["new_tensor"] = x.new_tensor([1, 2])
    CHECK["new_ones_dtype"] = str(x.new_ones(3).dtype)
    CHECK["int"] = int(x[1, 2, 3] * 10)
    CHECK["float"] = float(x.sum())
    CHECK["norm"] = x.norm()
    CHECK["norm_dim"] = x.norm(p=2, dim=2)
    CHECK["normalize"] = F.normalize(x, dim=2)
    CHECK["mean_dims"] = x.mean([1, 2])
    CHECK["mean_tuple"] = torch.mean(x, dim=(0, 2), keepdim=True)
    CHECK["masked_fill"] = x.masked_fill(x > 1.5, 0.0)
    CHECK["bmm"] = torch.bmm(x, x.transpose(1, 2))
    CHECK["matmul_T"] = x[0] @ x[0].T
    CHECK["size_neg"] = x.size(-1)
    CHECK["prod_shape"] = int(np.prod(x.shape[1:]))
    CHECK["view_shape0"] = x.view(x.shape[0], -1)
    CHECK["flatten_start"] = x.flatten(start_dim=1)
    CHECK["permute_reshape"] = x.permute(0, 2, 1).reshape(-1, 3)
    CHECK["contiguous"] = x.transpose(1, 2).contiguous().view(2, -1)
    CHECK["clone_detach"] = x.clone().detach()
    CHECK["max_all"] = x.max()
    CHECK["min_all"] = x.min().item()
    CHECK["std_mean"] = torch.std_mean(x)
    CHECK["randperm_sorted"] = torch.sort(torch.randperm(5)).values
    CHECK["is_grad_enabled"] = torch.is_grad_enabled()
    with torch.inference_mode():
        CHECK["inference_rg"] = (x * 2).requires_grad
    CHECK["float_alias"] = str(torch.tensor([1]).to(torch.float).dtype)
    CHECK["long_alias"] = str(torch.tensor([1.7]).long().dtype)
    CHECK["type_long"] = x.type(torch.long)
    CHECK["type_string"] = str(x.type('torch.DoubleTensor').dtype)
    CHECK["np_float64_in"] = str(torch.tensor(np.zeros(2)).dtype)
    CHECK["from_numpy_shares"] = None
    a = np.zeros(3, dtype=np.float32)
    t = torch.from_numpy(a)
    a[0] = 5
    CHECK["from_numpy_shares"] = t[0].item()
    CHECK["unfold"] = F.unfold(torch.arange(16.).view(1, 1, 4, 4), kernel_size=2)
    CHECK["fold"] = F.fold(F.unfold(torch.arange(16.).view(1, 1, 4, 4), 2), (4, 4), 2)
    CHECK["chunk"] = [c.shape[0] for c in torch.chunk(torch.arange(10), 3)]
    CHECK["split"] = [c.tolist() for c in torch.arange(5).split(2)]
    CHECK["nonzero"] = (torch.tensor([0, 1, 0, 2]) > 0).nonzero()
    CHECK["nonzero_tuple"] = torch.nonzero(torch.tensor([0, 1, 0, 2]), as_tuple=True)[0]
    CHECK["bool_idx"] = x[x > 2.0]
    CHECK["fancy"] = x[:, [0, 2], 1:3]
    CHECK["ellipsis"] = x[..., -1]
    CHECK["none_idx"] = tuple(x[None, :, None].shape)
