"""What export refuses, with one line naming the op or the value read and the place in the code; and the
trace leaves nothing behind (the hook and the Tensor methods are restored, even after a refusal)."""
import io

import pytest

import cnnlab
import cnnlab.nn as nn
import cnnlab.nn.functional as F
import cnnlab.onnx
from tests.onnx_helpers import Fn, roundtrip

pytest.importorskip("onnx")
X = cnnlab.randn(2, 3, 6, 6)


def export(fn, x=X):
    cnnlab.onnx.export(fn if isinstance(fn, nn.Module) else Fn(fn), x, io.BytesIO())


def branchy(x):
    if x.sum() > 0:  # a branch on the value: the trace would keep one side
        return x
    return -x


@pytest.mark.parametrize("fn,what", [
    (branchy, r"Tensor.__bool__\(\) at .*test_onnx_refusals.py:\d+ in branchy"),
    (lambda x: x * x.mean().item(), r"Tensor.item\(\) at .*test_onnx_refusals.py:\d+ in <lambda>"),
    (lambda x: x * float(x.max()), r"Tensor.__float__\(\) at .*test_onnx_refusals.py"),
    (lambda x: x.reshape(int(x.sum() > 0) + 1, -1), r"Tensor.__int__\(\) at .*test_onnx_refusals.py"),
    (lambda x: x + x.tolist()[0][0][0][0], r"Tensor.tolist\(\)"),
])
def test_control_flow_on_values_is_refused(fn, what):
    with pytest.raises(cnnlab.onnx.ExportError, match=r"^onnx.export: Python control flow on a tensor's value "
                       r"cannot be exported .*" + what):
        export(fn)


def test_reading_a_weight_value_is_allowed():
    lin = nn.Linear(6, 2)
    roundtrip(lambda x: lin(x) * float(lin.bias.sum().detach()), X)


@pytest.mark.parametrize("fn,op", [
    (lambda x: x.cumsum(1), "CumsumBackward0?"),
    (lambda x: x.sort(1)[0], r"Sort\w*"),
    (lambda x: F.unfold(x, 2), r"Im2Col\w*"),
])
def test_op_without_converter_is_refused_with_its_name_and_place(fn, op):
    with pytest.raises(cnnlab.onnx.ExportError, match=rf"^onnx.export: op {op} has no ONNX converter. Got op={op} "
                       r"at .*test_onnx_refusals.py:\d+ in <lambda>\.$"):
        export(fn)


def test_refusals_are_runtime_errors_and_leave_no_trace():
    with pytest.raises(RuntimeError):
        export(lambda x: x.cumsum(1))
    with pytest.raises(NotImplementedError):
        export(branchy)
    assert cnnlab.Tensor.__dict__["item"].__name__ == "item"
    assert (X.sum() > 0) in (True, False) and isinstance(X.sum().item(), float)
    assert cnnlab.Tensor._from_op.__func__.__globals__["_trace_hook"] is None


def test_training_dropout_and_training_batch_norm_are_refused_or_evaluated():
    m = nn.Sequential(nn.BatchNorm2d(3), nn.Dropout(0.5)).train()
    export(m)                  # export puts the model in eval mode, as torch.onnx.export does
    assert m.training and m[0].training  # ... and gives its mode back
    roundtrip(m, X)
    with pytest.raises(cnnlab.onnx.ExportError, match="dropout in training mode"):
        export(lambda x: F.dropout(x, 0.5, training=True))


def test_bad_arguments():
    with pytest.raises(cnnlab.onnx.ExportError, match="opset_version must be between 17 and 21. Got opset_version=11"):
        cnnlab.onnx.export(nn.ReLU(), X, io.BytesIO(), opset_version=11)
    with pytest.raises(cnnlab.onnx.ExportError, match="args must be a tensor or a tuple of tensors"):
        cnnlab.onnx.export(nn.ReLU(), [1, 2], io.BytesIO())
