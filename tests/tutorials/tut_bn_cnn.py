"""A VGG-ish CNN with BatchNorm and Dropout in nn.Sequential blocks, Adam, eval, state_dict round trip.

No bias before BatchNorm: its true gradient is 0, and Adam would turn the float noise into full steps. Float64:
in float32 Adam amplifies rounding differences of near-zero gradients past any useful tolerance."""
import numpy as np
import torch
import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.layer2 = nn.Sequential(
            nn.Conv2d(8, 16, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.classifier = nn.Sequential(nn.Dropout(p=0.0), nn.Linear(16 * 3 * 3, 32, bias=False), nn.BatchNorm1d(32),
                                        nn.ReLU(), nn.Linear(32, num_classes))

    def forward(self, x):
        out = self.layer1(x)
        out = self.layer2(out)
        out = out.reshape(out.size(0), -1)
        return self.classifier(out)


if __name__ == "__main__":
    CHECK = {}
    model = ConvNet()
    det_init(model)
    model.double()
    CHECK["repr"] = str(model)
    rng = np.random.default_rng(12)
    x = torch.tensor(rng.standard_normal((8, 1, 12, 12)), dtype=torch.float64)
    y = torch.tensor(rng.integers(0, 4, 8))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for step in range(6):
        outputs = model(x)
        loss = criterion(outputs, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    CHECK["losses"] = losses
    model.eval()
    with torch.no_grad():
        out = model(x)
    CHECK["eval_out"] = out
    _, predicted = torch.max(out.data, 1)
    CHECK["correct"] = (predicted == y).sum().item()
    sd = model.state_dict()
    CHECK["keys"] = list(sd.keys())
    CHECK["nbt"] = sd["layer1.1.num_batches_tracked"].item()
    CHECK["buffers"] = [n for n, _ in model.named_buffers()]
    fresh = ConvNet().double()
    result = fresh.load_state_dict(sd)
    CHECK["load_result"] = (list(result.missing_keys), list(result.unexpected_keys))
    fresh.eval()
    CHECK["fresh_out"] = fresh(x)
    sd2 = {k: v for k, v in sd.items() if not k.startswith("classifier.4")}
    res = fresh.load_state_dict(sd2, strict=False)
    CHECK["non_strict_missing"] = list(res.missing_keys)
    try:
        fresh.load_state_dict(sd2)
        CHECK["strict_error"] = None
    except RuntimeError as e:
        CHECK["strict_error"] = "Missing key(s)" in str(e)
    CHECK["opt_state_keys"] = sorted(optimizer.state_dict().keys())
    CHECK["opt_state_len"] = len(optimizer.state_dict()["state"])
