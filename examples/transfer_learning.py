"""Transfer learning, offline and measured: does what a CNN learned on one task help another with few labels?

1. Pretrain a small CNN on the bundled digits 0-4 (cnnlab's MNIST sample: 5,000 real digits).
2. New task: digits 5-9, with only `--labels` labelled images per class.
3. On those few labels, train three ways with the same optimizer, epochs and held-out images:
   (a) the pretrained features frozen, a new head trained;  (b) the whole pretrained network fine-tuned;
   (c) the same network from random weights (from scratch).
4. Report each one's accuracy on the held-out digits 5-9 (the sample's 1,000 validation images), averaged
   over several draws of the few labels.

    python examples/transfer_learning.py            # the README's table (about a minute on 2 cores)
    python examples/transfer_learning.py --quick    # a reduced run (seconds), what the tests run
"""
import argparse
import time

import numpy as np

import cnnlab as torch
import cnnlab.nn as nn
import cnnlab.nn.functional as F
from cnnlab.data import MNISTSample

OLD, NEW = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)


class SmallCNN(nn.Module):
    """features: conv3-relu-pool twice (what transfers); head: a 64-unit hidden layer and the classifier (what
    each task replaces)."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (N, 16, 14, 14)
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (N, 32, 7, 7)
            nn.Flatten())                                                  # (N, 1568)
        self.head = nn.Sequential(nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.head(self.features(x))


def digits(train, wanted):
    """(images (N, 1, 28, 28) float32 normalised as MNIST is, labels 0..len(wanted)-1) of the wanted digits."""
    ds = MNISTSample(train=train)
    x, y = ds.data.numpy(), ds.targets.numpy()
    keep = np.isin(y, wanted)
    images = (x[keep][:, None].astype(np.float32) / 255 - 0.1307) / 0.3081
    labels = np.searchsorted(np.asarray(wanted), y[keep])
    return images, labels


def train(model, x, y, epochs, lr, batch=32, seed=0):
    """Adam on the parameters that require grad, shuffled mini-batches, `epochs` passes."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = np.concatenate([model(torch.from_numpy(x[i:i + 500])).argmax(1).numpy() for i in range(0, len(x), 500)])
    return float((pred == y).mean())


def few_labels(x, y, per_class, seed):
    """per_class images of each class, drawn at random."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    return x[idx], y[idx]


def run(quick=False, labels=10, draws=5, pretrain_epochs=3, finetune_epochs=30, seed=0, log=print):
    """Pretrain on digits 0-4, then compare the three ways on digits 5-9 with `labels` per class. Returns
    {'pretrain': held-out accuracy on digits 0-4, 'frozen' | 'finetune' | 'scratch': [accuracy per draw]}."""
    if quick:
        draws, pretrain_epochs, finetune_epochs = 1, 1, 15
    t0 = time.perf_counter()
    x_old, y_old = digits(True, OLD)
    x_old_val, y_old_val = digits(False, OLD)
    x_new, y_new = digits(True, NEW)            # the pool the few labels are drawn from
    x_test, y_test = digits(False, NEW)         # held out: never trained on
    if quick:
        x_old, y_old = x_old[:600], y_old[:600]
    torch.manual_seed(seed)
    base = train(SmallCNN(len(OLD)), x_old, y_old, pretrain_epochs, lr=1e-3, seed=seed)
    result = {"pretrain": accuracy(base, x_old_val, y_old_val), "frozen": [], "finetune": [], "scratch": []}
    log(f"pretrained on {len(x_old)} digits 0-4: {100 * result['pretrain']:.1f}% on {len(x_old_val)} held-out 0-4")
    for draw in range(draws):
        x, y = few_labels(x_new, y_new, labels, seed + 100 + draw)
        for way in ("frozen", "finetune", "scratch"):
            torch.manual_seed(seed + draw)  # the same fresh head in all three
            model = SmallCNN(len(NEW))
            if way != "scratch":
                state = {k: v for k, v in base.state_dict().items() if not k.startswith("head.")}
                model.load_state_dict(state, strict=False)
            if way == "frozen":
                for p in model.features.parameters():
                    p.requires_grad_(False)
            # fine-tuning a pretrained network takes a smaller step than training a head or from scratch
            train(model, x, y, finetune_epochs, lr=3e-4 if way == "finetune" else 1e-3, seed=draw)
            result[way].append(accuracy(model, x_test, y_test))
        log(f"draw {draw + 1}/{draws}: " + ", ".join(f"{w} {100 * result[w][-1]:.1f}%"
                                                     for w in ("frozen", "finetune", "scratch")))
    log("")
    log(f"digits 5-9 with {labels} labels per class ({len(NEW) * labels} images), {finetune_epochs} epochs, "
        f"accuracy on {len(x_test)} held-out digits 5-9, mean +- std over {draws} draw(s) of the labels:")
    names = {"frozen": "(a) pretrained features frozen + new head", "finetune": "(b) pretrained, fully fine-tuned",
             "scratch": "(c) from scratch (random weights)"}
    for way, label in names.items():
        acc = np.asarray(result[way]) * 100
        log(f"  {label:<44} {acc.mean():5.1f}% +- {acc.std():.1f}")
    log(f"({time.perf_counter() - t0:.0f} s)")
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a reduced run (one draw, shorter training): seconds")
    p.add_argument("--labels", type=int, default=10, help="labelled images per class in the new task")
    p.add_argument("--draws", type=int, default=5, help="draws of the few labels to average over")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    run(quick=args.quick, labels=args.labels, draws=args.draws, seed=args.seed)


if __name__ == "__main__":
    main()
