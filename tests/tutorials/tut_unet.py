"""A small U-Net-style encoder/decoder with torch.cat skip connections."""
import numpy as np
import torch
import torch.nn as nn


def double_conv(in_ch, out_ch):
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True),
        nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, in_channels=1, n_classes=2):
        super().__init__()
        self.down1 = double_conv(in_channels, 4)
        self.down2 = double_conv(4, 8)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double_conv(8, 16)
        self.up2 = nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        self.dec2 = double_conv(16, 8)
        self.up1 = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
        self.dec1 = double_conv(8 + 4, 4)
        self.out = nn.Conv2d(4, n_classes, kernel_size=1)

    def forward(self, x):
        c1 = self.down1(x)
        c2 = self.down2(self.pool(c1))
        b = self.bottleneck(self.pool(c2))
        d2 = self.dec2(torch.cat([self.up2(b), c2], dim=1))
        d1 = self.dec1(torch.cat((self.up1(d2), c1), 1))
        return self.out(d1)


if __name__ == "__main__":
    CHECK = {}
    model = UNet()
    det_init(model)
    x = torch.tensor(np.random.default_rng(6).random((2, 1, 16, 16)), dtype=torch.float32)
    logits = model(x)
    CHECK["shape"] = tuple(logits.shape)
    CHECK["logits"] = logits
    target = torch.tensor((np.random.default_rng(7).random((2, 16, 16)) > 0.5).astype(np.int64))
    loss = nn.CrossEntropyLoss()(logits, target)
    loss.backward()
    CHECK["loss"] = loss.item()
    CHECK["grad_up2"] = model.up2.weight.grad
    CHECK["grad_down1"] = model.down1[0].weight.grad
    mask = logits.argmax(dim=1)
    CHECK["mask"] = mask
    CHECK["iou"] = ((mask == 1) & (target == 1)).sum().item() / max(((mask == 1) | (target == 1)).sum().item(), 1)
    pred = torch.sigmoid(logits[:, 1])
    dice = (2 * (pred * target).sum() + 1) / (pred.sum() + target.sum() + 1)
    CHECK["dice"] = dice
    CHECK["n_params"] = sum(p.numel() for p in model.parameters())
