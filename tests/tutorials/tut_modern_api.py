"""PyTorch 2-era calls that recent CNN tutorials use even on the CPU: torch.compile, autocast, channels_last,
torch.autograd.gradcheck. (torch.save(model) of a whole module is refused by design: weights only.)"""
import torch
import torch.nn as nn

if __name__ == "__main__":
    CHECK = {}
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    det_init(model)
    x = torch.linspace(-1, 1, 2 * 3 * 6 * 6).view(2, 3, 6, 6)
    compiled = torch.compile(model)
    CHECK["compiled"] = compiled(x)
    with torch.autocast(device_type="cpu", enabled=False):
        CHECK["autocast_off"] = model(x)
    model = model.to(memory_format=torch.channels_last)
    xc = x.to(memory_format=torch.channels_last)
    CHECK["channels_last"] = model(xc)
    CHECK["contiguous_fmt"] = xc.is_contiguous(memory_format=torch.channels_last)
    inp = torch.linspace(-1, 1, 6, dtype=torch.double).view(2, 3).requires_grad_()
    CHECK["gradcheck"] = torch.autograd.gradcheck(lambda t: (t.sigmoid() * t).sum(dim=1), (inp,), eps=1e-6,
                                                  atol=1e-4)
