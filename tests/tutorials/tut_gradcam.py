"""Grad-CAM as lecture notes write it: a tensor hook to keep the gradient of the last feature map, a full
backward hook on the layer, weights from the pooled gradients, ReLU of the weighted sum, upsampled."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class CamNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3)
        self.gradients = None

    def activations_hook(self, grad):
        self.gradients = grad

    def forward(self, x):
        x = self.features(x)
        if x.requires_grad:
            x.register_hook(self.activations_hook)
        self.activations = x
        return self.fc(self.pool(x).flatten(1))


if __name__ == "__main__":
    CHECK = {}
    model = CamNet()
    det_init(model, scale=0.5)
    model.eval()
    img = torch.tensor(np.random.default_rng(16).random((1, 3, 8, 8)), dtype=torch.float32)
    grads_from_module = []
    handle = model.features[3].register_full_backward_hook(
        lambda module, grad_input, grad_output: grads_from_module.append(grad_output[0].detach()))
    pred = model(img)
    cls = pred.argmax(dim=1).item()
    pred[:, cls].backward()
    handle.remove()
    gradients = model.gradients
    pooled_gradients = torch.mean(gradients, dim=[0, 2, 3])
    activations = model.activations.detach()
    for i in range(activations.size(1)):
        activations[:, i, :, :] *= pooled_gradients[i]
    heatmap = torch.mean(activations, dim=1).squeeze()
    heatmap = F.relu(heatmap)
    heatmap /= torch.max(heatmap) + 1e-8
    CHECK["cls"] = cls
    CHECK["pooled"] = pooled_gradients
    CHECK["heatmap"] = heatmap
    CHECK["module_hook_grad"] = grads_from_module[0]
    up = F.interpolate(heatmap[None, None], size=(8, 8), mode='bilinear', align_corners=False)
    CHECK["upsampled"] = up
    img2 = img.clone().requires_grad_(True)
    score = model(img2)[0, cls]
    (saliency,) = torch.autograd.grad(score, img2)
    CHECK["saliency"] = saliency.abs().max(dim=1)[0]
