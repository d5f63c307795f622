"""The `make demo` example: a small CNN's forward and backward pass, layer by layer, with shapes and gradient
norms. (The training demo replaces this once the data and training packages exist.)"""
import numpy as np

import cnnlab
import cnnlab.nn.functional as F


def _layer(name, *weight_shape):
    """Weight and bias uniform in +-1/sqrt(fan_in), PyTorch's default initialisation for conv and linear."""
    bound = 1.0 / np.sqrt(np.prod(weight_shape[1:]))
    uniform = lambda *shape: (cnnlab.rand(*shape) * (2 * bound) - bound).requires_grad_()  # noqa: E731
    return {f"{name}.weight": uniform(*weight_shape), f"{name}.bias": uniform(weight_shape[0])}


def run(write=None):
    """Build the lecture notes' small CNN, push a batch through it, backpropagate, and describe each step.

    Returns the lines it writes (through `write`, default: collected only).
    """
    lines = []
    out = write or lines.append
    cnnlab.manual_seed(0)
    params = {**_layer("conv1", 5, 3, 5, 5), **_layer("conv2", 10, 5, 5, 5),
              **_layer("fc1", 32, 250), **_layer("fc2", 10, 32)}
    x = cnnlab.randn(16, 3, 32, 32)
    labels = cnnlab.randint(0, 10, (16,))

    out("A small CNN (the lecture notes' network with 10 classes), batch of 16 RGB 32x32 images")
    out(f"  input                      {tuple(x.shape)}")
    h = F.conv2d(x, params["conv1.weight"], params["conv1.bias"])
    out(f"  conv1 3->5, k5             {tuple(h.shape)}   (32 - 5 + 1 = 28)")
    h = F.max_pool2d(F.relu(h), 2)
    out(f"  relu, maxpool 2            {tuple(h.shape)}")
    h = F.conv2d(h, params["conv2.weight"], params["conv2.bias"])
    out(f"  conv2 5->10, k5            {tuple(h.shape)}  (14 - 5 + 1 = 10)")
    h = F.max_pool2d(F.relu(h), 2)
    out(f"  relu, maxpool 2            {tuple(h.shape)}")
    h = h.flatten(1)
    out(f"  flatten                    {tuple(h.shape)}       (10 * 5 * 5 = 250)")
    h = F.relu(F.linear(h, params["fc1.weight"], params["fc1.bias"]))
    out(f"  fc1 250->32, relu          {tuple(h.shape)}")
    logits = F.linear(h, params["fc2.weight"], params["fc2.bias"])
    out(f"  fc2 32->10                 {tuple(logits.shape)}")
    loss = F.cross_entropy(logits, labels)
    out(f"  cross-entropy loss         {loss.item():.4f}   (ln 10 = {np.log(10):.4f} for an untrained net)")
    loss.backward()
    out("Gradients after loss.backward():")
    for name, p in params.items():
        out(f"  {name:<14} {str(tuple(p.shape)):<16} |grad| = {float(np.linalg.norm(p.grad.numpy())):.5f}")
    return lines
