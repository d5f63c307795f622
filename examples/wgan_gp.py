"""WGAN-GP: a Wasserstein GAN whose critic is kept 1-Lipschitz by a gradient penalty (Gulrajani et al. 2017).

The penalty needs a gradient of a gradient: the critic's gradient with respect to its input, taken with
create_graph=True, enters the critic's loss, and loss.backward() differentiates through it.

    x_hat = eps * real + (1 - eps) * fake                      (random points between real and fake)
    penalty = mean((|| d critic(x_hat) / d x_hat ||_2 - 1)^2)
    critic loss = mean(critic(fake)) - mean(critic(real)) + lambda * penalty

The data are 8x8 images of a bright disk at a random place; the critic is a small conv net. The script runs on
cnnlab, or unchanged on PyTorch with --torch (same weights and draws: the losses agree to float64 rounding).

    python examples/wgan_gp.py            # 200 steps, the losses every 20
    python examples/wgan_gp.py --quick    # 20 steps (what the tests run, against PyTorch)
"""
import argparse

import numpy as np

from same_start import library, seeded_


def disks(n, rng, size=8):
    """n images (n, 1, size, size) in [-1, 1]: a disk of radius 2 at a random centre."""
    yy, xx = np.mgrid[:size, :size]
    cy, cx = rng.uniform(2, size - 2, (2, n, 1, 1))
    return np.where((yy - cy) ** 2 + (xx - cx) ** 2 <= 4, 1.0, -1.0)[:, None]


def models(torch, seed=0):
    nn = torch.nn
    generator = nn.Sequential(nn.Linear(8, 64), nn.Unflatten(1, (1, 8, 8)), nn.Tanh())
    critic = nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.LeakyReLU(0.2),    # (N, 8, 4, 4)
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.LeakyReLU(0.2),   # (N, 16, 2, 2)
        nn.Flatten(), nn.Linear(16 * 2 * 2, 1))                        # (N, 1)
    return seeded_(generator, torch, seed), seeded_(critic, torch, seed + 1)


def gradient_penalty(torch, critic, real, fake, eps):
    """mean((||d critic(x_hat)/d x_hat|| - 1)^2), differentiable in the critic's weights (create_graph)."""
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.reshape(grad.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()


def train(torch, steps=20, batch=16, lam=10.0, seed=0):
    """steps of (one critic update, one generator update); returns [(critic loss, penalty, generator loss)]."""
    generator, critic = models(torch, seed)
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(steps):
        real = torch.tensor(disks(batch, rng))
        z = torch.tensor(rng.standard_normal((batch, 8)))
        eps = torch.tensor(rng.uniform(0, 1, (batch, 1, 1, 1)))
        fake = generator(z).detach()
        penalty = gradient_penalty(torch, critic, real, fake, eps)
        loss_c = critic(fake).mean() - critic(real).mean() + lam * penalty
        opt_c.zero_grad()
        loss_c.backward()
        opt_c.step()
        loss_g = -critic(generator(z)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        history.append((loss_c.item(), penalty.item(), loss_g.item()))
    return history


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 steps")
    parser.add_argument("--torch", action="store_true", help="run on PyTorch instead of cnnlab")
    args = parser.parse_args()
    steps = 20 if args.quick else 200
    for i, (loss_c, penalty, loss_g) in enumerate(train(library(args.torch), steps=steps), 1):
        if i % (steps // 10) == 0:
            print(f"step {i:4d}: critic loss {loss_c:9.5f}  penalty {penalty:8.5f}  generator loss {loss_g:9.5f}")


if __name__ == "__main__":
    main()
