"""The Hessian-vector product of a CNN's loss with respect to its weights, H v, without forming H.

Differentiate twice: g = d loss / d w with create_graph=True, then d (g . v) / d w = H v (Pearlmutter's
trick, two backward passes). Checked here against central finite differences of the gradient,
(g(w + h v) - g(w - h v)) / (2 h), and, with --torch, run unchanged on PyTorch. The curvature along v,
v . H v, is what second-order optimisers, sharpness measures and influence functions are built on.

    python examples/hessian_vector_product.py            # H v, its finite-difference check, v . H v
    python examples/hessian_vector_product.py --torch    # the same on PyTorch (same weights and data)
"""
import argparse

import numpy as np

from same_start import library, seeded_


def model_and_batch(torch, seed=0, n=8):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # (N, 4, 5, 5)
        nn.Conv2d(4, 6, 3), nn.LeakyReLU(0.1), nn.AvgPool2d(2),         # (N, 6, 1, 1)
        nn.Flatten(), nn.Linear(6, 3))                                  # (N, 3)
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((n, 1, 10, 10)))
    y = torch.tensor(rng.integers(0, 3, n))
    return seeded_(model, torch, seed), x, y


def hvp(torch, model, x, y, v):
    """H v of the mean cross-entropy with respect to every parameter (v: one tensor per parameter)."""
    params = list(model.parameters())
    loss = torch.nn.functional.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    dot = sum((g * vi).sum() for g, vi in zip(grads, v))
    return torch.autograd.grad(dot, params)


def finite_difference_hvp(torch, model, x, y, v, h=1e-5):
    """(g(w + h v) - g(w - h v)) / (2 h): the same product from first-order gradients only."""
    params = list(model.parameters())

    def gradient_at(step):
        with torch.no_grad():
            for p, vi in zip(params, v):
                p.add_(step * vi)
        g = torch.autograd.grad(torch.nn.functional.cross_entropy(model(x), y), params)
        with torch.no_grad():
            for p, vi in zip(params, v):
                p.sub_(step * vi)
        return g

    plus, minus = gradient_at(h), gradient_at(-h)
    return [(a - b) / (2 * h) for a, b in zip(plus, minus)]


def directions(torch, model, seed=1):
    rng = np.random.default_rng(seed)
    return [torch.tensor(rng.standard_normal(tuple(p.shape))) for p in model.parameters()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="run on PyTorch instead of cnnlab")
    parser.add_argument("--quick", action="store_true", help="(the run is already quick)")
    torch = library(parser.parse_args().torch)
    model, x, y = model_and_batch(torch)
    v = directions(torch, model)
    exact = hvp(torch, model, x, y, v)
    approx = finite_difference_hvp(torch, model, x, y, v)
    for (name, _), a, b in zip(model.named_parameters(), exact, approx):
        err = float((a - b).abs().max()) / max(float(b.abs().max()), 1e-30)
        print(f"{name:10s} |Hv| {float(a.norm()):.6f}   relative difference to finite differences {err:.1e}")
    curvature = sum(float((a * vi).sum()) for a, vi in zip(exact, v))
    print(f"curvature along v: v . H v = {curvature:.8f}")


if __name__ == "__main__":
    main()
