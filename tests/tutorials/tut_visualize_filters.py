"""Looking inside a CNN: normalised first-layer kernels and feature maps as NumPy arrays for plotting."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 12, 3)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(x)))


if __name__ == "__main__":
    CHECK = {}
    model = Net()
    det_init(model)
    w = model.conv1.weight.data.cpu().numpy()
    CHECK["w_shape"] = w.shape
    w_min, w_max = w.min(), w.max()
    CHECK["w_norm"] = (w - w_min) / (w_max - w_min)
    kernels = model.conv1.weight.detach().clone()
    kernels = kernels - kernels.min()
    kernels = kernels / kernels.max()
    CHECK["kernels_hwc"] = kernels.permute(0, 2, 3, 1)
    img = torch.tensor(np.random.default_rng(9).random((3, 20, 20)), dtype=torch.float32)
    with torch.no_grad():
        fmap = F.relu(model.conv1(img.unsqueeze(0)))
    CHECK["fmap"] = fmap.squeeze(0)
    CHECK["fmap_list"] = [fmap[0, i].numpy() for i in range(fmap.shape[1])]
    CHECK["fmap_stats"] = (fmap.mean().item(), fmap.std().item(), fmap.max().item())
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    CHECK["n_conv"] = len(layers)
    results = [layers[0](img.unsqueeze(0))]
    for layer in layers[1:]:
        results.append(layer(results[-1]))
    CHECK["chain_shapes"] = [tuple(r.shape) for r in results]
    CHECK["grid"] = torch.cat([fmap[0, i] for i in range(3)], dim=1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    CHECK["denorm"] = (img * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()
    CHECK["unbind"] = [t.sum().item() for t in img.unbind(0)]
