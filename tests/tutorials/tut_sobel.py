"""Hand-made kernels: Sobel edges by setting conv weights, and F.conv2d on an image tensor."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

if __name__ == "__main__":
    CHECK = {}
    yy, xx = np.mgrid[0:16, 0:16]
    img = ((xx > 7).astype(np.float32) + 0.5 * (yy > 10)).astype(np.float32)
    image = torch.from_numpy(img).unsqueeze(0).unsqueeze(0)  # (1, 1, 16, 16)

    conv = nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False)
    conv.weight.data = torch.tensor([[[[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]]]])
    CHECK["sobel_x"] = conv(image)
    CHECK["weight_is_param"] = type(conv.weight).__name__

    conv2 = nn.Conv2d(1, 2, 3, padding=1)
    sobel_y = torch.tensor([[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]])
    with torch.no_grad():
        conv2.weight[0, 0] = sobel_y
        conv2.weight[1] = sobel_y.t().unsqueeze(0)
        conv2.bias[:] = 0.0
    edges = conv2(image)
    CHECK["edges"] = edges
    CHECK["edges_requires_grad"] = edges.requires_grad
    magnitude = torch.sqrt(edges[:, 0] ** 2 + edges[:, 1] ** 2)
    CHECK["magnitude"] = magnitude

    kernel = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]]).view(1, 1, 3, 3)
    lap = F.conv2d(image, kernel, padding=1)
    CHECK["laplacian"] = lap
    CHECK["laplacian_stride2"] = F.conv2d(image, kernel, stride=2)
    rgb = image.repeat(1, 3, 1, 1)
    blur = torch.ones(3, 1, 3, 3) / 9.0
    CHECK["blur_depthwise"] = F.conv2d(rgb, blur, padding=1, groups=3)
    CHECK["padded"] = F.pad(image, (1, 1, 2, 0), mode='constant', value=0).shape[-2:]
    CHECK["reflect"] = F.pad(image, (1, 1, 1, 1), mode='reflect')
    out = F.conv2d(F.pad(image, (1, 1, 1, 1), mode='replicate'), kernel)
    CHECK["replicate_conv"] = out
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[0., 0., 0.], [0., 1., 0.], [0., 0., 0.]]]]))
    CHECK["identity_kernel"] = torch.equal(conv(image), image)
