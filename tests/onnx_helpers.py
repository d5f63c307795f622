"""Export a cnnlab model to ONNX, run the file in ONNX Runtime, compare with cnnlab's own output."""
import io

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
import cnnlab.onnx

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


class Fn(nn.Module):
    """A function of tensors as a module (export takes modules)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def export_bytes(model, xs, dynamic=True, **kwargs):
    names = [f"x{i}" for i in range(len(xs))]
    axes = {n: [0] for n in names} | {"y": [0]} if dynamic else None
    buf = io.BytesIO()
    cnnlab.onnx.export(model, tuple(xs), buf, input_names=names, output_names=["y"], dynamic_axes=axes, **kwargs)
    return buf.getvalue()


def session(data):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def roundtrip(model, *xs, batches=(3,), rtol=1e-4, atol=1e-5, **kwargs):
    """Export with the batch axis dynamic, run ONNX Runtime at the traced batch and at each of `batches`
    (fresh random inputs), compare with cnnlab. Returns the largest absolute difference."""
    model = model if isinstance(model, nn.Module) else Fn(model)
    model.eval()
    sess = session(export_bytes(model, xs, **kwargs))
    worst = 0.0
    rng = np.random.default_rng(1)
    for b in (None,) + tuple(batches):
        feed = xs if b is None else tuple(cnnlab.tensor(rng.standard_normal((b,) + tuple(x.shape[1:]))
                                                        .astype(np.float32)) for x in xs)
        with cnnlab.no_grad():
            want = model(*feed).numpy()
        got = sess.run(None, {f"x{i}": x.numpy() for i, x in enumerate(feed)})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
        worst = max(worst, float(np.abs(got - want).max()))
    return worst
