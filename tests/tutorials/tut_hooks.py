"""Feature-map extraction with forward hooks, as in 'visualising what CNNs learn'."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(8 * 4 * 4, 3)

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


activation = {}


def get_activation(name):
    def hook(model, input, output):
        activation[name] = output.detach()
    return hook


if __name__ == "__main__":
    CHECK = {}
    model = Net()
    det_init(model)
    h1 = model.features[0].register_forward_hook(get_activation('conv1'))
    h2 = model.features[3].register_forward_hook(get_activation('conv2'))
    x = torch.tensor(np.random.default_rng(5).random((2, 1, 16, 16)), dtype=torch.float32)
    out = model(x)
    CHECK["out"] = out
    CHECK["conv1"] = activation['conv1']
    CHECK["conv2"] = activation['conv2']
    CHECK["conv2_shape"] = tuple(activation['conv2'].shape)
    CHECK["detached"] = activation['conv1'].requires_grad
    h1.remove()
    h2.remove()
    activation.clear()
    model(x)
    CHECK["after_remove"] = len(activation)

    inputs_seen = []

    def pre_hook(module, inp):
        inputs_seen.append(tuple(inp[0].shape))

    h = model.classifier.register_forward_pre_hook(pre_hook)
    model(x)
    h.remove()
    CHECK["pre_hook"] = inputs_seen

    def double_output(module, inp, output):
        return output * 2

    h = model.classifier.register_forward_hook(double_output)
    CHECK["hook_replaces"] = model(x)
    h.remove()
    feats = []
    for name, layer in model.features.named_children():
        x = layer(x)
        if isinstance(layer, nn.Conv2d):
            feats.append((name, tuple(x.shape)))
    CHECK["named_children_walk"] = feats
    x = x.detach().requires_grad_()
    score = model.classifier(x.view(2, -1))[:, 1].sum()
    score.backward()
    CHECK["saliency"] = x.grad.abs().amax(dim=1)
    CHECK["fmap_np"] = F.relu(model.features[0](torch.ones(1, 1, 4, 4)))[0].detach().numpy()
