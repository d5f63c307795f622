"""Odds and ends from lecture notebooks: seeds, grad mode, splits, clipping, NumPy round trips, one-hot."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset, random_split


@torch.no_grad()
def predict(model, x):
    return model(x).argmax(dim=1)


if __name__ == "__main__":
    CHECK = {}
    torch.manual_seed(0)
    a = torch.rand(3)
    torch.manual_seed(0)
    CHECK["seed_repeat"] = torch.equal(a, torch.rand(3))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    det_init(model)
    x = torch.from_numpy(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))
    pred = predict(model, x)
    CHECK["decorator_pred"] = pred
    CHECK["decorator_no_grad"] = model(x).requires_grad
    torch.set_grad_enabled(False)
    CHECK["grad_disabled"] = model(x).requires_grad
    torch.set_grad_enabled(True)
    CHECK["grad_enabled"] = model(x).requires_grad
    with torch.set_grad_enabled(False):
        CHECK["ctx_disabled"] = model(x).requires_grad

    ds = TensorDataset(torch.arange(100).float().view(50, 2), torch.arange(50))
    train_set, val_set = random_split(ds, [40, 10], generator=torch.Generator().manual_seed(42))
    CHECK["split_lens"] = (len(train_set), len(val_set))
    CHECK["split_disjoint"] = len(set(train_set.indices) | set(val_set.indices)) == 50
    parts = random_split(ds, [0.8, 0.2])
    CHECK["frac_split"] = [len(p) for p in parts]

    out = model(x * 10)
    loss = F.cross_entropy(out, torch.tensor([0, 1, 2, 0, 1]))
    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    CHECK["clip_total"] = total
    CHECK["clip_after"] = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    nn.utils.clip_grad_value_(model.parameters(), clip_value=0.01)
    CHECK["clip_value"] = model[0].weight.grad

    logits = model(x)
    probs = torch.softmax(logits, dim=1)
    CHECK["probs"] = probs
    CHECK["probs_np"] = probs.detach().numpy()
    CHECK["F_softmax"] = F.softmax(logits, dim=-1)
    CHECK["max_values"] = logits.max(dim=1).values
    CHECK["max_indices"] = logits.max(dim=1).indices
    vals, idx = torch.max(logits, dim=1)
    CHECK["max_tuple"] = (vals, idx)
    CHECK["argmax_flat"] = logits.argmax().item()
    y = torch.tensor([0, 1, 2, 0, 1])
    CHECK["one_hot"] = F.one_hot(y, num_classes=3)
    CHECK["one_hot_auto"] = F.one_hot(y)
    CHECK["sum_eq"] = torch.sum(pred == y).item()
    CHECK["acc"] = (pred == y).float().mean().item()
    CHECK["item_type"] = type(torch.sum(pred == y).item()).__name__
    arr = logits.detach().numpy()
    CHECK["numpy_dtype"] = str(arr.dtype)
    back = torch.from_numpy(arr.copy())
    CHECK["from_numpy_dtype"] = str(back.dtype)
    CHECK["as_tensor"] = torch.as_tensor([[1, 2], [3, 4]], dtype=torch.float32)
    CHECK["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    rows = []
    for name, layer in model.named_children():
        n = sum(p.numel() for p in layer.parameters())
        print(f"{name:>4} {layer.__class__.__name__:<10} {n:>6}")
        rows.append((name, layer.__class__.__name__, n))
    CHECK["summary"] = rows
    CHECK["mean_std"] = (x.mean().item(), x.std().item())
    CHECK["topk"] = torch.topk(logits, 2, dim=1).indices
    CHECK["clamp"] = torch.clamp(x, min=0)
    CHECK["where"] = torch.where(x > 0, x, torch.zeros_like(x))
    CHECK["linspace"] = torch.linspace(0, 1, 5)
    CHECK["arange_int"] = str(torch.arange(5).dtype)
    CHECK["stack"] = torch.stack([x[0], x[1]]).shape
    CHECK["unsqueeze_squeeze"] = tuple(x.unsqueeze(1).squeeze().shape)
