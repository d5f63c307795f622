"""The spatial transformer tutorial: a localisation net, affine_grid and grid_sample, identity init of the head."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class STN(nn.Module):
    def __init__(self):
        super().__init__()
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
            nn.Conv2d(4, 6, kernel_size=3), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
        self.fc_loc = nn.Sequential(nn.Linear(6 * 2 * 2, 8), nn.ReLU(True), nn.Linear(8, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 6 * 2 * 2)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x

    def forward(self, x):
        return self.stn(x)


if __name__ == "__main__":
    CHECK = {}
    model = STN()
    x = torch.tensor(np.random.default_rng(4).random((2, 1, 16, 16)), dtype=torch.float32)
    CHECK["identity"] = model(x)
    det_init(model, scale=0.1)
    x.requires_grad_(True)
    out = model(x)
    CHECK["warped"] = out
    out.pow(2).sum().backward()
    CHECK["grad_x"] = x.grad
    CHECK["grad_fc"] = model.fc_loc[2].weight.grad
    theta = torch.tensor([[[0.8, -0.2, 0.1], [0.3, 1.1, -0.05]]])
    grid = F.affine_grid(theta, (1, 1, 5, 6), align_corners=True)
    CHECK["grid"] = grid
    CHECK["nearest"] = F.grid_sample(x.detach()[:1], grid, mode='nearest', padding_mode='border', align_corners=True)
