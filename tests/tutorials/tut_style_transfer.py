"""Neural style transfer tutorial pieces: gram matrix, content/style losses as modules, the input image
optimised with LBFGS and clamped in place under no_grad."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super(ContentLoss, self).__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super(StyleLoss, self).__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super(Normalization, self).__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


if __name__ == "__main__":
    CHECK = {}
    rng = np.random.default_rng(17)
    content = torch.tensor(rng.random((1, 3, 8, 8)), dtype=torch.float64)
    style = torch.tensor(rng.random((1, 3, 8, 8)), dtype=torch.float64)
    conv = nn.Conv2d(3, 4, 3, padding=1).double()
    det_init(conv)
    conv.requires_grad_(False)
    norm = Normalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    model = nn.Sequential(norm, conv)
    content_loss = ContentLoss(model(content))
    style_loss = StyleLoss(model(style))
    model.add_module("content_loss_1", content_loss)
    model.add_module("style_loss_1", style_loss)
    CHECK["gram"] = gram_matrix(model[:2](style))
    input_img = content.clone()
    input_img.requires_grad_(True)
    optimizer = optim.LBFGS([input_img])
    losses = []
    for run in range(1):
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            loss = style_loss.loss * 1000 + content_loss.loss
            loss.backward()
            losses.append(loss.item())
            return loss
        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    CHECK["losses"] = losses[:5]
    CHECK["img"] = input_img
