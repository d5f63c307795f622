"""cnnlab.onnx.load runs Pad, Resize and Conv/pool auto_pad as ONNX Runtime does: small graphs built with
onnx.helper, one node each, run by both; gradients by finite differences (float64)."""
import numpy as np
import pytest

import cnnlab
import cnnlab.onnx
from tests.oracle import gradcheck

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

X = np.random.default_rng(0).standard_normal((1, 2, 5, 7)).astype(np.float32)


def one_node(op, inputs, attrs, opset=17, as_constant=(), shape=X.shape):
    """A graph of one `op` node on input x; `inputs` maps extra input names to arrays (None: left empty ''),
    written as initializers, or as Constant nodes when the name is in as_constant."""
    names, inits, nodes = ["x"], [], []
    for name, arr in inputs:
        if arr is None:
            names.append("")
            continue
        names.append(name)
        tensor = numpy_helper.from_array(np.asarray(arr), name)
        if name in as_constant:
            nodes.append(helper.make_node("Constant", [], [name], value=tensor))
        else:
            inits.append(tensor)
    nodes.append(helper.make_node(op, names, ["y"], **attrs))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list("nchw"))], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10  # what ONNX Runtime reads; the newest IR may be newer than it knows
    onnx.checker.check_model(model)
    return model.SerializeToString()


def compare(data, x=X, reference=None):
    """cnnlab's output of the file equals ONNX Runtime's (of `reference`, an equivalent file, when given);
    then its gradient w.r.t. x passes a finite-difference check in float64."""
    sess = ort.InferenceSession(reference or data, providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": x})[0]
    module = cnnlab.onnx.load(data)
    got = module(cnnlab.tensor(x)).detach().numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    module.double()  # the gradient check runs in float64
    gradcheck(lambda t: module(t), x[:, :, :5, :6].astype(np.float64))


PADS = [0, 0, 1, 2, 0, 0, 2, 1]  # [begin N, C, H, W, end N, C, H, W]


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
@pytest.mark.parametrize("where", ["initializer", "constant"])
def test_pad_modes(mode, where):
    inputs = [("pads", np.asarray(PADS, np.int64))]
    if mode == "constant":
        inputs.append(("value", np.asarray(1.5, np.float32)))
    consts = ("pads", "value") if where == "constant" else ()
    compare(one_node("Pad", inputs, dict(mode=mode), opset=19, as_constant=consts))


def test_pad_negative_crop_and_channel_pads():
    compare(one_node("Pad", [("pads", np.asarray([0, 1, -1, 2, 0, 0, 1, -3], np.int64))], {}, opset=13))


def test_pad_axes_input_opset18():
    compare(one_node("Pad", [("pads", np.asarray([2, 1, 0, 3], np.int64)), ("value", None),
                             ("axes", np.asarray([-1, 2], np.int64))], dict(mode="reflect"), opset=18))


def test_pad_opset10_attribute_form():
    compare(one_node("Pad", [], dict(mode="constant", pads=PADS, value=-2.0), opset=10))


NEAREST = [("asymmetric", "floor"), ("half_pixel", "round_prefer_ceil"), ("half_pixel", "round_prefer_floor"),
           ("align_corners", "round_prefer_floor"), ("pytorch_half_pixel", "floor"), ("asymmetric", "ceil")]
SIZES = [np.asarray([1, 2, 10, 14], np.int64), np.asarray([1, 2, 9, 4], np.int64), np.asarray([1, 2, 3, 11], np.int64)]
SCALES = [np.asarray([1, 1, 2, 2], np.float32), np.asarray([1, 1, 1.5, 0.6], np.float32)]


@pytest.mark.parametrize("ctm,nearest", NEAREST)
def test_resize_nearest(ctm, nearest):
    attrs = dict(mode="nearest", coordinate_transformation_mode=ctm, nearest_mode=nearest)
    for sizes in SIZES:
        compare(one_node("Resize", [("roi", None), ("scales", None), ("sizes", sizes)], attrs))
    for scales in SCALES:
        compare(one_node("Resize", [("roi", None), ("scales", scales)], attrs))


@pytest.mark.parametrize("ctm", ["align_corners", "half_pixel", "pytorch_half_pixel", "asymmetric"])
def test_resize_linear(ctm):
    attrs = dict(mode="linear", coordinate_transformation_mode=ctm)
    for sizes in SIZES + [np.asarray([1, 2, 1, 3], np.int64)]:
        compare(one_node("Resize", [("roi", None), ("scales", None), ("sizes", sizes)], attrs))
    for scales in SCALES:
        compare(one_node("Resize", [("roi", None), ("scales", scales)], attrs))


def test_resize_opset11_empty_roi_and_scales_constants():
    empty = np.zeros(0, np.float32)
    data = one_node("Resize", [("roi", empty), ("scales", empty), ("sizes", SIZES[1])],
                    dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel"), opset=11,
                    as_constant=("roi", "scales", "sizes"))
    compare(data)


def test_resize_cubic_is_refused_in_one_line():
    data = one_node("Resize", [("roi", None), ("scales", SCALES[0])], dict(mode="cubic"))
    with pytest.raises(cnnlab.onnx.ExportError, match=r"^onnx.load: Resize runs modes nearest and linear\. "
                                                      r"Got mode='cubic'\.$"):
        cnnlab.onnx.load(data)(cnnlab.tensor(X))


W = np.random.default_rng(1).standard_normal((3, 2, 3, 4)).astype(np.float32)


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"])
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (2, 2), (3, 1)])
def test_conv_auto_pad(auto_pad, stride, dilation):
    attrs = dict(auto_pad=auto_pad, strides=[stride, stride], dilations=[dilation, 1])
    if auto_pad == "NOTSET":
        attrs["pads"] = [1, 0, 2, 1]
    b = ("b", np.asarray([0.1, -0.2, 0.3], np.float32))
    reference = None
    if dilation > 1 and auto_pad.startswith("SAME"):
        # ONNX Runtime refuses dilation with SAME_*: its reference is the same kernel with the holes written
        # out as zeros (a 5x4 kernel, dilation 1), which the spec's SAME rule pads alike
        holes = np.zeros((3, 2, 5, 4), np.float32)
        holes[:, :, ::2] = W
        reference = one_node("Conv", [("w", holes), b], dict(attrs, dilations=[1, 1]))
    compare(one_node("Conv", [("w", W), b], attrs), reference=reference)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 2), (3, 1), (2, 3)])
def test_pool_auto_pad(op, auto_pad, kernel, stride):
    compare(one_node(op, [], dict(auto_pad=auto_pad, kernel_shape=[kernel, kernel], strides=[stride, stride])))


def test_auto_pad_unknown_value_is_refused():
    data = one_node("MaxPool", [], dict(auto_pad="NOTSET", kernel_shape=[2, 2]))
    model = onnx.load_from_string(data)
    next(a for a in model.graph.node[0].attribute if a.name == "auto_pad").s = b"SAME"
    with pytest.raises(cnnlab.onnx.ExportError, match=r"^onnx.load: MaxPool auto_pad must be NOTSET, SAME_UPPER, "
                                                      r"SAME_LOWER or VALID\. Got auto_pad='SAME'\.$"):
        cnnlab.onnx.load(model.SerializeToString())(cnnlab.tensor(X))
