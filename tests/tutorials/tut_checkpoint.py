"""The 'saving and loading a general checkpoint' recipe: a dict with epoch, model, optimizer and loss."""
import os

import torch
import torch.nn as nn
import torch.optim as optim

if __name__ == "__main__":
    CHECK = {}
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    det_init(model)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.linspace(-1, 1, 2 * 36).view(2, 1, 6, 6)
    y = torch.tensor([0, 2])
    for _ in range(3):
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    PATH = os.path.join(TMP, "model.pt")
    torch.save({
        'epoch': 3,
        'model_state_dict': model.state_dict(),
        'optimizer_state_dict': optimizer.state_dict(),
        'loss': loss,
    }, PATH)
    model2 = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    optimizer2 = optim.SGD(model2.parameters(), lr=0.5)
    checkpoint = torch.load(PATH, weights_only=True)
    model2.load_state_dict(checkpoint['model_state_dict'])
    optimizer2.load_state_dict(checkpoint['optimizer_state_dict'])
    CHECK["epoch"] = checkpoint['epoch']
    CHECK["loss"] = checkpoint['loss']
    CHECK["lr_restored"] = optimizer2.param_groups[0]['lr']
    for _ in range(2):
        for m, opt in ((model, optimizer), (model2, optimizer2)):
            opt.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            opt.step()
    CHECK["resumed_equal"] = torch.allclose(model[3].weight, model2[3].weight)
    CHECK["w"] = model2[3].weight
    torch.save(model.state_dict(), os.path.join(TMP, "w.pth"))
    sd = torch.load(os.path.join(TMP, "w.pth"), map_location=torch.device('cpu'))
    CHECK["map_location_keys"] = list(sd.keys())
    sd = torch.load(os.path.join(TMP, "w.pth"), map_location='cpu', weights_only=True)
    CHECK["loaded_tensor"] = sd["0.weight"]
    t = torch.arange(6).view(2, 3)
    torch.save(t, os.path.join(TMP, "t.pt"))
    CHECK["tensor_roundtrip"] = torch.load(os.path.join(TMP, "t.pt"))
