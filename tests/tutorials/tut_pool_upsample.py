"""Pooling, upsampling, transposed convolution, BatchNorm and Dropout2d on feature maps."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

if __name__ == "__main__":
    CHECK = {}
    x = torch.tensor(np.random.default_rng(3).standard_normal((2, 4, 8, 8)), dtype=torch.float32)
    pool = nn.MaxPool2d(2, 2)
    CHECK["maxpool"] = pool(x)
    CHECK["maxpool_repr"] = repr(pool)
    CHECK["maxpool_3_2_1"] = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)(x)
    CHECK["avgpool"] = nn.AvgPool2d(2)(x)
    CHECK["avgpool_repr"] = repr(nn.AvgPool2d(2))
    gap = nn.AdaptiveAvgPool2d((1, 1))
    CHECK["gap"] = gap(x)
    CHECK["gap_repr"] = repr(gap)
    CHECK["gap_view"] = gap(x).view(x.size(0), -1)
    CHECK["adaptive_max"] = nn.AdaptiveMaxPool2d(3)(x)
    CHECK["F_max_pool"] = F.max_pool2d(x, 2)
    CHECK["F_avg_pool"] = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
    CHECK["F_adaptive"] = F.adaptive_avg_pool2d(x, 1).flatten(1)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    CHECK["unpool"] = F.max_unpool2d(out, idx, 2)

    up = nn.ConvTranspose2d(4, 2, kernel_size=2, stride=2)
    det_init(up)
    CHECK["convT"] = up(x)
    CHECK["convT_repr"] = repr(up)
    up3 = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    det_init(up3)
    CHECK["convT3"] = up3(x)
    CHECK["upsample_nearest"] = nn.Upsample(scale_factor=2, mode='nearest')(x)
    CHECK["upsample_bilinear"] = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)(x)
    CHECK["upsample_repr"] = repr(nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True))
    CHECK["interp_size"] = F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=True)
    CHECK["interp_nearest"] = F.interpolate(x, scale_factor=0.5)

    bn = nn.BatchNorm2d(4)
    CHECK["bn_repr"] = repr(bn)
    y = bn(x)
    CHECK["bn_train"] = y
    CHECK["bn_running_mean"] = bn.running_mean
    CHECK["bn_running_var"] = bn.running_var
    CHECK["bn_nbt"] = bn.num_batches_tracked.item()
    bn.eval()
    CHECK["bn_eval"] = bn(x)
    drop = nn.Dropout2d(p=0.5)
    drop.eval()
    CHECK["dropout_eval"] = drop(x)
    drop.train()
    z = drop(torch.ones(4, 16, 3, 3))
    per_channel = z.sum(dim=(2, 3))
    CHECK["dropout2d_whole_channels"] = bool(((per_channel == 0) | (per_channel == 18)).all())
    CHECK["dropout_repr"] = repr(drop)
