"""The benchmark cases: each builds the same work in cnnlab and in PyTorch from the same NumPy inputs.

A Case's `prepare()` makes the inputs once (NumPy arrays, and for networks the initial weights) and counts
the FLOPs; `setup(lib, arrays)` builds one library's version and returns `run()`, a zero-argument callable
that does the work once and returns its results (outputs, gradients, loss) for the correctness check.
`lib` is a namespace with .name, .torch, .nn, .F and .optim (cnnlab's or PyTorch's).
"""
import re
import zlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Optional

import numpy as np

from . import models


def library(name):
    """The namespace `setup` receives: 'cnnlab' or 'torch'."""
    if name == "cnnlab":
        import cnnlab as T
        import cnnlab.nn as nn
        import cnnlab.nn.functional as F
        import cnnlab.optim as optim
    else:
        import torch as T
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
    return SimpleNamespace(name=name, torch=T, nn=nn, F=F, optim=optim)


@dataclass
class Case:
    name: str
    group: str                                # 'conv fwd', 'conv fwd+bwd', 'pool', 'network'
    prepare: Callable[[], tuple]              # () -> (arrays dict, flops or None)
    setup: Callable                           # (lib, arrays) -> run
    tol: float = 1e-4                         # max |a - b| / max |b| allowed, per result
    max_repeats: int = 30
    tags: tuple = field(default_factory=tuple)  # summary groups, e.g. 'resnet3x3'
    note: str = ""
    setup_onnx: Optional[Callable] = None     # (cnnlab lib, arrays) -> run in ONNX Runtime, for inference cases


def _tensor(lib, arr, requires_grad=False):
    t = lib.torch.from_numpy(np.array(arr, copy=True))  # each library gets its own copy
    return t.requires_grad_() if requires_grad else t


# ---- conv2d ----------------------------------------------------------------------------------------------
def conv_flops(n, cin, h, w, cout, k, stride, padding, groups):
    """Forward multiply-add FLOPs: 2 * N * Cout * OH * OW * (Cin / groups) * KH * KW."""
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    return 2 * n * cout * oh * ow * (cin // groups) * k * k, (oh, ow)


def conv_case(name, shape, cout, k, stride=1, padding=0, groups=1, bias=True, backward=False, tags=()):
    """conv2d on input `shape` (N, C, H, W) -> cout channels; with backward, forward plus the gradients of
    input, weight (and bias), counted as 3x the forward FLOPs."""
    n, cin, h, w = shape

    def prepare():
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        flops, (oh, ow) = conv_flops(n, cin, h, w, cout, k, stride, padding, groups)
        fan_in = cin // groups * k * k
        arrays = {"x": rng.standard_normal(shape, dtype=np.float32),
                  "weight": rng.standard_normal((cout, cin // groups, k, k), dtype=np.float32) / fan_in ** 0.5,
                  "bias": rng.standard_normal(cout, dtype=np.float32) if bias else None,
                  "grad_out": rng.standard_normal((n, cout, oh, ow), dtype=np.float32)}
        return arrays, flops * (3 if backward else 1)

    def setup(lib, a):
        x, weight = _tensor(lib, a["x"], backward), _tensor(lib, a["weight"], backward)
        b = None if a["bias"] is None else _tensor(lib, a["bias"], backward)
        grad_out, leaves = _tensor(lib, a["grad_out"]), [t for t in (x, weight, b) if t is not None]

        def run():
            out = lib.F.conv2d(x, weight, b, stride, padding, 1, groups)
            if not backward:
                return [out]
            for t in leaves:
                t.grad = None
            out.backward(grad_out)
            return [out] + [t.grad for t in leaves]
        return run

    return Case(name + (" fwd+bwd" if backward else " fwd"), "conv fwd+bwd" if backward else "conv fwd",
                prepare, setup, tol=1e-4, tags=tags)


# ---- max_pool2d ------------------------------------------------------------------------------------------
def pool_case(shape, backward):
    def prepare():
        return {"x": np.random.default_rng(7).standard_normal(shape, dtype=np.float32)}, None

    def setup(lib, a):
        x = _tensor(lib, a["x"], backward)
        grad_out = None

        def run():
            nonlocal grad_out
            out = lib.F.max_pool2d(x, 3, 2, 1)
            if not backward:
                return [out]
            if grad_out is None:
                grad_out = _tensor(lib, np.random.default_rng(8).standard_normal(tuple(out.shape), np.float32))
            x.grad = None
            out.backward(grad_out)
            return [out, x.grad]
        return run

    dims = "x".join(map(str, shape))
    return Case(f"max_pool2d 3x3 s2 p1 {dims}" + (" fwd+bwd" if backward else " fwd"), "pool", prepare, setup,
                tol=1e-6)


# ---- whole networks --------------------------------------------------------------------------------------
def _initial_state(build, seed):
    """A PyTorch model built with a fixed seed: its state as NumPy arrays, and the model (to count FLOPs)."""
    import torch
    torch.manual_seed(seed)
    model = build(torch.nn)
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}, model


def _network(lib, build, state):
    model = build(lib.nn)
    model.load_state_dict({k: lib.torch.from_numpy(v.copy()) for k, v in state.items()})
    return model


def train_step_case(name, build, input_shape, num_classes, first_conv, tags=(), target_shape=None, tol=2e-3):
    """One SGD training step (lr 0.01, momentum 0.9): zero_grad, forward, cross-entropy, backward, step.
    Returns the loss and the first convolution's weight gradient; FLOPs counted as 3x the forward pass.
    target_shape: the labels' shape (default (N,); (N, H, W) for per-pixel segmentation)."""
    def prepare():
        import torch
        rng = np.random.default_rng(11)
        state, model = _initial_state(build, 0)
        arrays = {"x": rng.standard_normal(input_shape, dtype=np.float32),
                  "y": rng.integers(0, num_classes, target_shape or input_shape[0]).astype(np.int64),
                  "state": state}
        return arrays, 3 * models.count_flops(model, torch.from_numpy(arrays["x"]))

    def setup(lib, a):
        model = _network(lib, build, a["state"])
        model.train()
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = _tensor(lib, a["x"]), _tensor(lib, a["y"])
        conv = first_conv(model)

        def run():
            opt.zero_grad()
            loss = lib.F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return [loss, conv.weight.grad]
        return run

    return Case(name, "network", prepare, setup, tol=tol, max_repeats=15, tags=tags)


def inference_case(name, build, input_shape, tags=(), onnx=False):
    """A forward pass in eval mode under no_grad; returns the logits. With onnx, the case also runs cnnlab's
    model exported to ONNX in ONNX Runtime (a second reference)."""
    def prepare():
        import torch
        state, model = _initial_state(build, 1)
        x = np.random.default_rng(12).standard_normal(input_shape, dtype=np.float32)
        return {"x": x, "state": state}, models.count_flops(model, torch.from_numpy(x))

    def setup(lib, a):
        model = _network(lib, build, a["state"])
        model.eval()
        x = _tensor(lib, a["x"])

        def run():
            with lib.torch.no_grad():
                return [model(x)]
        return run

    def setup_onnx(clib, a):
        """cnnlab's model exported once with cnnlab.onnx.export, run by ONNX Runtime on 2 threads."""
        import io

        import cnnlab.onnx
        import onnxruntime as ort
        model = _network(clib, build, a["state"]).eval()
        buf = io.BytesIO()
        cnnlab.onnx.export(model, clib.torch.from_numpy(a["x"].copy()), buf, input_names=["x"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = 2, 1
        sess = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
        feed = {"x": np.array(a["x"], copy=True)}

        def run():
            return [clib.torch.from_numpy(sess.run(None, feed)[0])]
        return run

    return Case(name, "network", prepare, setup, tol=2e-3, max_repeats=15, tags=tags,
                setup_onnx=setup_onnx if onnx else None)


LENET_BATCH = 64  # the demo's batch size (cnnlab train's default)


def _lenet(nn):
    return models.lenet5(nn)


def _resnet_cifar(nn):
    return models.resnet18(nn, num_classes=10, layout="cifar")


def _unet(nn):
    return models.unet(nn, num_classes=2, base=32)


def _resnet_imagenet(nn):
    return models.resnet18(nn, num_classes=1000, layout="imagenet")


ZOO = ("resnet50", "mobilenet_v2", "convnext_tiny")  # `make bench`'s model-zoo inference cases (issue 14)
ONNX_ZOO = ZOO  # also timed in ONNX Runtime (issue 17), beside ResNet-18: issue 20 asks it of every inference case

CONV_SHAPES = [  # (name, input shape, out channels, kernel, stride, padding, groups, bias, tags)
    ("lenet conv1 64x1x28x28->6 k5 p2", (64, 1, 28, 28), 6, 5, 1, 2, 1, True, ()),
    ("lenet conv2 64x6x14x14->16 k5", (64, 6, 14, 14), 16, 5, 1, 0, 1, True, ()),
    ("resnet stem 8x3x224x224->64 k7 s2 p3", (8, 3, 224, 224), 64, 7, 2, 3, 1, False, ()),
    ("resnet 3x3 32x64x56x56->64", (32, 64, 56, 56), 64, 3, 1, 1, 1, False, ("resnet3x3",)),
    ("resnet 3x3 32x128x28x28->128", (32, 128, 28, 28), 128, 3, 1, 1, 1, False, ("resnet3x3",)),
    ("resnet 3x3 32x256x14x14->256", (32, 256, 14, 14), 256, 3, 1, 1, 1, False, ("resnet3x3",)),
    ("resnet 3x3 32x512x7x7->512", (32, 512, 7, 7), 512, 3, 1, 1, 1, False, ("resnet3x3",)),
    ("resnet 3x3 s2 32x64x56x56->128", (32, 64, 56, 56), 128, 3, 2, 1, 1, False, ("resnet3x3",)),
    ("resnet 1x1 s2 32x64x56x56->128", (32, 64, 56, 56), 128, 1, 2, 0, 1, False, ()),
    ("convnext dw7x7 32x96x56x56 g96 p3", (32, 96, 56, 56), 96, 7, 1, 3, 96, True, ()),
]


def all_cases():
    """Every case, in the order they run and print."""
    cases = []
    for backward in (False, True):
        for name, shape, cout, k, s, p, g, bias, tags in CONV_SHAPES:
            cases.append(conv_case(name, shape, cout, k, s, p, g, bias, backward,
                                   tags=tuple(t + (":bwd" if backward else ":fwd") for t in tags)))
    cases += [pool_case((32, 64, 112, 112), False), pool_case((32, 64, 112, 112), True)]
    first = lambda m: m.conv1  # noqa: E731
    cases += [
        train_step_case(f"lenet5 train step b{LENET_BATCH}", _lenet, (LENET_BATCH, 1, 28, 28), 10,
                        lambda m: m.features[0], tags=("lenet_step",)),
        train_step_case("resnet18 cifar train step b32", _resnet_cifar, (32, 3, 32, 32), 10, first,
                        tags=("cifar_step",)),
        train_step_case("unet base32 256x256 train step b4", _unet, (4, 3, 256, 256), 2, lambda m: m.down[0][0],
                        tags=("unet_step",), target_shape=(4, 256, 256), tol=5e-3),  # 18 train-mode batch norms
        # between the loss and the first conv's gradient amplify float32 rounding (2.6e-3 seen; float64: 5e-15)
        inference_case("resnet18 224 inference b8", _resnet_imagenet, (8, 3, 224, 224), tags=("infer_b8",),
                       onnx=True),
        inference_case("resnet18 224 inference b1", _resnet_imagenet, (1, 3, 224, 224), tags=("infer_b1",),
                       onnx=True),
    ]
    for name in ZOO:  # torchvision's architectures beside cnnlab.models', with the same weights
        for n in (1, 8):
            cases.append(inference_case(f"{name} 224 inference b{n}", models.zoo(name), (n, 3, 224, 224),
                                        tags=(f"zoo_b{n}", f"{name}_b{n}"), onnx=name in ONNX_ZOO))
    return cases


def select(cases, pattern):
    """The cases whose name matches `pattern` (a regular expression searched case-insensitively; a plain
    substring works as is)."""
    if not pattern:
        return cases
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error:
        rx = re.compile(re.escape(pattern), re.IGNORECASE)
    return [c for c in cases if rx.search(c.name)]


def compare(results_c, results_t, tol):
    """Worst relative error max|a - b| / max(max|b|, tiny) over the paired results (cnnlab, torch), and
    a list of problems (shape or dtype mismatch, or an error above `tol`)."""
    worst, problems = 0.0, []
    for i, (a, b) in enumerate(zip(results_c, results_t)):
        if a is None or b is None:
            if (a is None) != (b is None):
                problems.append(f"result {i}: one library returned None")
            continue
        a, b = np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy())
        if a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"result {i}: shape/dtype {a.shape} {a.dtype} vs torch {b.shape} {b.dtype}")
            continue
        err = float(np.max(np.abs(a.astype(np.float64) - b))) / max(float(np.max(np.abs(b))), 1e-30) \
            if a.size else 0.0
        worst = max(worst, err)
        if not err <= tol:
            problems.append(f"result {i}: relative error {err:.2e} > {tol:.0e}")
    if len(results_c) != len(results_t):
        problems.append(f"{len(results_c)} results vs torch's {len(results_t)}")
    return worst, problems
