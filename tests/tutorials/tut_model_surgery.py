"""Model surgery: index and slice Sequential, replace a classifier layer, drop the head with children()."""
import torch
import torch.nn as nn


class TinyVGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(8 * 2 * 2, 16), nn.ReLU(True), nn.Dropout(), nn.Linear(16, 100))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


if __name__ == "__main__":
    CHECK = {}
    model = TinyVGG()
    model.classifier[3] = nn.Linear(16, 5)
    model.classifier[-1].out_features
    det_init(model)
    CHECK["repr"] = str(model)
    model.eval()
    x = torch.linspace(0, 1, 2 * 3 * 8 * 8).view(2, 3, 8, 8)
    CHECK["out"] = model(x)
    first_block = model.features[:3]
    CHECK["first_block"] = first_block(x)
    CHECK["first_block_repr"] = repr(first_block)
    backbone = nn.Sequential(*list(model.children())[:-1])
    CHECK["backbone_shape"] = tuple(backbone(x).shape)
    CHECK["n_children"] = len(list(model.children()))
    CHECK["modules_types"] = [type(m).__name__ for m in model.modules()]
    model.classifier.append(nn.Softmax(dim=1))
    CHECK["appended"] = model(x)
    extractor = nn.Sequential(model.features, model.avgpool, nn.Flatten())
    CHECK["extractor"] = extractor(x)
    ml = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    CHECK["modulelist_len"] = len(ml)
    CHECK["modulelist_params"] = len(list(ml.parameters()))
    md = nn.ModuleDict({'conv': nn.Conv2d(1, 2, 3), 'pool': nn.MaxPool2d(2)})
    CHECK["moduledict_keys"] = list(md.keys())
    CHECK["moduledict_repr"] = repr(md)
    model.requires_grad_(False)
    CHECK["all_frozen"] = all(not p.requires_grad for p in model.parameters())
    for name, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False
    CHECK["relu_repr"] = repr(model.features[1])
    del model.classifier[-1]
    CHECK["after_del"] = len(model.classifier)
    model.double()
    CHECK["double"] = str(model.features[0].weight.dtype)
    CHECK["out_double"] = model(x.double())
    CHECK["half_trip"] = str(model.float().features[0].weight.dtype)
