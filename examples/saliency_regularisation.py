"""Training with an input-gradient (saliency) penalty: loss = CE + lambda * || d CE / d input ||^2.

Penalising the gradient of the loss with respect to the image (Drucker & LeCun's double backpropagation; Ross
& Doshi-Velez 2018) makes a CNN less sensitive to small input changes. The input gradient is taken with
create_graph=True, so loss.backward() differentiates through it into the weights.

The data are 12x12 images of a bar (horizontal, vertical or diagonal: three classes) in noise. The script runs
on cnnlab, or unchanged on PyTorch with --torch (same weights and batches: the same numbers).

    python examples/saliency_regularisation.py            # 60 steps with and without the penalty
    python examples/saliency_regularisation.py --quick    # 10 steps
"""
import argparse

import numpy as np

from same_start import library, seeded_


def bars(n, rng, size=12):
    """n images (n, 1, size, size) and labels: 0 a horizontal bar, 1 a vertical one, 2 a diagonal, in noise."""
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.5, (n, 1, size, size))
    at = rng.integers(2, size - 2, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, at[i], :] += 2
        elif y[i] == 1:
            x[i, 0, :, at[i]] += 2
        else:
            x[i, 0][np.eye(size, dtype=bool)] += 2
    return x, y


def model(torch, seed=0):
    nn = torch.nn
    return seeded_(nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (N, 6, 6, 6)
        nn.Conv2d(6, 8, 3), nn.ReLU(), nn.AvgPool2d(2),               # (N, 8, 2, 2)
        nn.Flatten(), nn.Linear(8 * 2 * 2, 3)), torch, seed)


def train_step(torch, net, optimizer, x, y, lam):
    """One step on CE + lam * ||d CE / d x||^2; returns (CE, penalty)."""
    x = x.detach().requires_grad_(True)
    ce = torch.nn.functional.cross_entropy(net(x), y)
    (saliency,) = torch.autograd.grad(ce, x, create_graph=True)
    penalty = saliency.pow(2).sum()
    optimizer.zero_grad()
    (ce + lam * penalty).backward()
    optimizer.step()
    return ce.item(), penalty.item()


def train(torch, steps=10, lam=1.0, batch=16, seed=0):
    """Returns [(CE, penalty)] per step and the trained network."""
    net = model(torch, seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(steps):
        x, y = bars(batch, rng)
        history.append(train_step(torch, net, optimizer, torch.tensor(x), torch.tensor(y), lam))
    return history, net


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 steps")
    parser.add_argument("--torch", action="store_true", help="run on PyTorch instead of cnnlab")
    args = parser.parse_args()
    torch = library(args.torch)
    steps = 10 if args.quick else 60
    for lam in (0.0, 1.0):
        history, _ = train(torch, steps=steps, lam=lam)
        ce, penalty = history[-1]
        print(f"lambda {lam}: after {steps} steps CE {ce:.5f}, ||d CE / d x||^2 {penalty:.6f}")


if __name__ == "__main__":
    main()
