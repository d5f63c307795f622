"""The higher-order-gradient examples (issue 18 item 4) against PyTorch with copied weights, float64: a WGAN-GP
gradient penalty on a conv critic, a CNN's Hessian-vector product (also against finite differences), and a
saliency-regularised training step. Each example's core runs in both libraries; the scripts themselves run
once each in a fresh process. Then a gradient penalty and a Hessian-vector product through nine small conv nets
that cover the layers CNNs are built from (1-D/2-D/3-D, transposed, groups, dilation, padding modes, every
normalisation, pools, upsampling, the common activations)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import cnnlab
from cnnlab.autograd import functional as CAF

torch = pytest.importorskip("torch")
from torch.autograd import functional as TAF  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
sys.path.insert(0, EXAMPLES)
import hessian_vector_product as hvp_example  # noqa: E402
import same_start  # noqa: E402
import saliency_regularisation as saliency_example  # noqa: E402
import wgan_gp as wgan_example  # noqa: E402

# 20 Adam or SGD steps in float64: the libraries sum in other orders (BLAS kernels differ by machine) and the
# steps carry that along; measured: at most 4e-16 relative (AVX-512 EPYC). 1e-11 leaves room for other BLAS
# kernels and still catches any wrong term
RTOL, ATOL = 1e-11, 1e-13


def _arrays(ts):
    return [t.detach().numpy() for t in ts]


def test_wgan_gp_losses_equal_pytorch():
    got = np.array(wgan_example.train(cnnlab, steps=20))
    want = np.array(wgan_example.train(torch, steps=20))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    assert got[:, 1].min() > 0.01  # the penalty is active: a zero penalty would hide a missing second order


def test_gradient_penalty_weight_gradients_equal_pytorch():
    """The penalty's own gradient in every critic weight (only the double-backward path reaches them)."""
    grads = []
    for lib in (torch, cnnlab):
        _, critic = wgan_example.models(lib)
        rng = np.random.default_rng(3)
        real, fake = (lib.tensor(wgan_example.disks(4, rng)) for _ in range(2))
        eps = lib.tensor(rng.uniform(0, 1, (4, 1, 1, 1)))
        wgan_example.gradient_penalty(lib, critic, real, fake, eps).backward()
        grads.append([None if p.grad is None else p.grad.numpy().copy() for p in critic.parameters()])
    for g, w in zip(grads[1], grads[0]):
        if w is None:  # the last bias is not in the penalty
            assert g is None
        else:  # a zero tensor where PyTorch's is (through relu), not None
            assert g is not None
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13)
    assert sum(g is not None and np.abs(g).max() > 1e-6 for g in grads[1]) == 3  # the three weights


def test_gradient_through_relu_is_differentiable_as_in_pytorch():
    """PyTorch: the gradient through leaky_relu(x + b) requires grad, and its derivative in b is zeros (so
    b.grad is a zero tensor, which optimizers with momentum still step); cnnlab/derivatives/dependence.py."""
    for lib in (torch, cnnlab):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(lib.nn.functional.leaky_relu(x * 2, 0.2).sum(), x, create_graph=True)
        assert g.requires_grad, lib.__name__


def test_hessian_vector_product_against_finite_differences_and_pytorch():
    results = {}
    for lib in (torch, cnnlab):
        model, x, y = hvp_example.model_and_batch(lib)
        v = hvp_example.directions(lib, model)
        results[lib.__name__] = (_arrays(hvp_example.hvp(lib, model, x, y, v)),
                                 _arrays(hvp_example.finite_difference_hvp(lib, model, x, y, v)))
    (cn_exact, cn_fd), (pt_exact, _) = results["cnnlab"], results["torch"]
    for exact, fd, want in zip(cn_exact, cn_fd, pt_exact):
        np.testing.assert_allclose(exact, want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(exact, fd, rtol=1e-6, atol=1e-7)  # h = 1e-5: error ~ h^2 and rounding
    assert max(np.abs(e).max() for e in cn_exact) > 0.1


def _functional_cnn_loss(lib, x, y):
    """The example's CNN as a function of its weight tensors, for autograd.functional."""
    F = lib.nn.functional

    def loss(w1, b1, w2, b2, w3, b3):
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        h = F.avg_pool2d(F.leaky_relu(F.conv2d(h, w2, b2), 0.1), 2)
        return F.cross_entropy(F.linear(h.flatten(1), w3, b3), y)
    return loss


@pytest.mark.parametrize("which", ["hvp", "vhp"])
def test_functional_hvp_of_cnn_loss(which):
    """autograd.functional.hvp/vhp on the same loss: equal to PyTorch's and to the module-based product."""
    results = []
    for lib, caf in ((torch, TAF), (cnnlab, CAF)):
        model, x, y = hvp_example.model_and_batch(lib)
        params = tuple(p.detach() for p in model.parameters())
        v = tuple(hvp_example.directions(lib, model))
        loss, product = getattr(caf, which)(_functional_cnn_loss(lib, x, y), params, v)
        module_based = hvp_example.hvp(lib, model, x, y, v)
        results.append((float(loss), _arrays(product), _arrays(module_based)))
    (pt_loss, pt_prod, _), (cn_loss, cn_prod, cn_module) = results
    assert cn_loss == pytest.approx(pt_loss, rel=1e-12)
    for c, p, m in zip(cn_prod, pt_prod, cn_module):
        np.testing.assert_allclose(c, p, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(c, m, rtol=1e-10, atol=1e-12)


def test_saliency_regularised_training_equals_pytorch():
    (got, net_c), (want, net_t) = (saliency_example.train(lib, steps=5, lam=1.0) for lib in (cnnlab, torch))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=RTOL, atol=ATOL)
    for (name, p), q in zip(net_c.named_parameters(), net_t.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=name)
    assert min(h[1] for h in got) > 1e-6  # the penalty term is live


def test_saliency_penalty_changes_the_step():
    """lambda matters: the same step with lambda=0 gives other weights (the penalty's gradient is not lost)."""
    (_, with_penalty), (_, without) = (saliency_example.train(cnnlab, steps=1, lam=lam) for lam in (10.0, 0.0))
    diffs = [np.abs(p.detach().numpy() - q.detach().numpy()).max()
             for p, q in zip(with_penalty.parameters(), without.parameters())]
    assert max(diffs) > 1e-6


# Small conv nets through which a gradient penalty and a Hessian-vector product must match PyTorch: the
# layers CNNs are made of, each family's double-backward formulas in one graph (training mode: batch statistics)
NETS = {
    "groups_dilation_gelu_silu": ((3, 4, 8, 8), lambda nn: nn.Sequential(
        nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2), nn.GELU(), nn.Conv2d(6, 4, 3, stride=2), nn.SiLU(),
        nn.Flatten(), nn.Linear(4 * 3 * 3, 1))),
    "padding_modes_adaptive_avg": ((3, 4, 8, 8), lambda nn: nn.Sequential(
        nn.Conv2d(4, 5, 3, padding=1, padding_mode="reflect"), nn.Softplus(),
        nn.Conv2d(5, 3, 3, padding="same", padding_mode="circular"), nn.ELU(), nn.AdaptiveAvgPool2d(2),
        nn.Flatten(), nn.Linear(12, 1))),
    "batchnorm_relu_maxpool": ((3, 4, 8, 8), lambda nn: nn.Sequential(
        nn.Conv2d(4, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 3 * 3, 1))),
    "groupnorm_layernorm_tanh": ((3, 4, 8, 8), lambda nn: nn.Sequential(
        nn.Conv2d(4, 6, 3), nn.GroupNorm(2, 6), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.LayerNorm(54),
        nn.Linear(54, 1))),
    "transposed_bilinear_upsample": ((3, 4, 8, 8), lambda nn: nn.Sequential(
        nn.Conv2d(4, 3, 3, stride=2, padding=1), nn.LeakyReLU(0.1),
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.Sigmoid(), nn.Flatten(),
        nn.Linear(2 * 16 * 16, 1))),
    "hardswish_maxpool_adaptive_max": ((3, 4, 8, 8), lambda nn: nn.Sequential(
        nn.Conv2d(4, 6, 3, padding=1), nn.Hardswish(), nn.MaxPool2d(3, stride=2, padding=1),
        nn.AdaptiveMaxPool2d((2, 2)), nn.Flatten(), nn.Linear(24, 1))),
    "instancenorm_mish_pixel_shuffle": ((3, 4, 8, 8), lambda nn: nn.Sequential(
        nn.Conv2d(4, 8, 3, padding=1), nn.InstanceNorm2d(8, affine=True), nn.Mish(), nn.PixelShuffle(2),
        nn.Conv2d(2, 2, 3, stride=2), nn.Flatten(), nn.Linear(2 * 7 * 7, 1))),
    "conv1d": ((3, 4, 16), lambda nn: nn.Sequential(
        nn.Conv1d(4, 5, 5, stride=2, padding=2), nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(5, 3, 3), nn.Tanh(),
        nn.Flatten(), nn.Linear(3 * 2, 1))),
    "conv3d": ((2, 2, 5, 6, 6), lambda nn: nn.Sequential(
        nn.Conv3d(2, 3, 3, padding=1), nn.BatchNorm3d(3), nn.LeakyReLU(0.2), nn.AvgPool3d(2), nn.Flatten(),
        nn.Linear(3 * 2 * 3 * 3, 1))),
}


def _penalty_and_hvp(lib, name):
    """The gradient penalty's value and its gradients (weights and input), and H v of a loss in the weights."""
    shape, build = NETS[name]
    net = same_start.seeded_(build(lib.nn), lib)
    rng = np.random.default_rng(5)
    x = lib.tensor(rng.standard_normal(shape)).requires_grad_(True)
    out = net(x)
    (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
    penalty = ((g.reshape(shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()
    (out.mean() + 10 * penalty).backward()
    results = [penalty.detach()] + [p.grad for p in net.parameters()] + [x.grad]
    params = list(net.parameters())
    grads = lib.autograd.grad((net(x.detach()) ** 2).mean(), params, create_graph=True)
    v = [lib.tensor(rng.standard_normal(tuple(p.shape))) for p in params]
    results += lib.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(grads, v)), params, allow_unused=True)
    return [None if r is None else r.detach().numpy().copy() for r in results]


@pytest.mark.parametrize("name", NETS)
def test_penalty_and_hessian_vector_product_through_layers(name):
    got, want = _penalty_and_hvp(cnnlab, name), _penalty_and_hvp(torch, name)
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None, i
            continue
        assert g is not None, i  # a zero tensor where PyTorch's is (through relu, pools, reflection pads)
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(w).max()), err_msg=f"result {i}")


@pytest.mark.parametrize("script, expect", [("wgan_gp.py", "step   20: critic loss"),
                                            ("hessian_vector_product.py", "curvature along v"),
                                            ("saliency_regularisation.py", "lambda 1.0: after 10 steps")])
def test_script_runs(script, expect):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(EXAMPLES) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), "--quick"], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert expect in r.stdout


def test_examples_index_lists_the_scripts():
    index = open(os.path.join(EXAMPLES, "README.md"), encoding="utf-8").read()
    for name in ("wgan_gp.py", "hessian_vector_product.py", "saliency_regularisation.py"):
        assert f"`{name}`" in index, name
