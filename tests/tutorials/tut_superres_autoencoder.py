"""The super-resolution example (PixelShuffle, orthogonal init) and a convolutional autoencoder (Unflatten,
ConvTranspose2d with output_padding, Sigmoid, MSELoss)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.init as init


class SuperRes(nn.Module):
    def __init__(self, upscale_factor):
        super(SuperRes, self).__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 8, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        return self.pixel_shuffle(self.conv2(x))

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight)


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(True),
                                     nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(True),
                                     nn.Flatten(start_dim=1), nn.Linear(8 * 4 * 4, 6))
        self.decoder = nn.Sequential(nn.Linear(6, 8 * 4 * 4), nn.ReLU(True),
                                     nn.Unflatten(dim=1, unflattened_size=(8, 4, 4)),
                                     nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
                                     nn.ReLU(True),
                                     nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1),
                                     nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


if __name__ == "__main__":
    CHECK = {}
    sr = SuperRes(upscale_factor=2)
    w = sr.conv2.weight.view(4, -1)
    CHECK["orthogonal"] = torch.allclose(w @ w.t(), torch.eye(4), atol=1e-5)
    det_init(sr)
    x = torch.tensor(np.random.default_rng(18).random((2, 1, 6, 6)), dtype=torch.float32)
    CHECK["sr_out"] = sr(x)
    CHECK["sr_repr"] = repr(sr)
    CHECK["unshuffle"] = nn.PixelUnshuffle(2)(sr(x))
    ae = AutoEncoder()
    det_init(ae)
    CHECK["ae_repr"] = repr(ae)
    imgs = torch.tensor(np.random.default_rng(19).random((3, 1, 16, 16)), dtype=torch.float32)
    optimizer = torch.optim.Adam(ae.parameters(), lr=1e-3, weight_decay=1e-5)
    criterion = nn.MSELoss()
    losses = []
    for epoch in range(3):
        recon = ae(imgs)
        loss = criterion(recon, imgs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    CHECK["losses"] = losses
    CHECK["recon_shape"] = tuple(recon.shape)
    CHECK["code"] = ae.encoder(imgs)
