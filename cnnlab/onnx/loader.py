"""load: an ONNX file run as a cnnlab Module whose initializers are trainable Parameters (float ones), for the
common CNN op set (what export writes for conv nets, and standard PyTorch/Keras CNN exports)."""
import numpy as np
import onnx
from onnx import numpy_helper

from .. import nn
from ..nn import functional as F
from ..ops.shape import cat
from ..ops.special import erf
from ..tensor import Tensor
from .graph import ExportError
from .load_geometry import pad, resize, resolve_pads
from .load_shape_ops import OPS as SHAPE_OPS


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _static(v):
    return [int(i) for i in np.asarray(v._data if isinstance(v, Tensor) else v).reshape(-1)]


def _conv(x, w, b=None, **a):
    n = w.ndim - 2
    stride, dilation = tuple(a.get("strides", [1] * n)), tuple(a.get("dilations", [1] * n))
    pads = resolve_pads("Conv", x.shape, a, a.get("kernel_shape", w.shape[2:]), stride, dilation)
    fn = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    return fn(x, w, b, stride=stride, padding=pads, dilation=dilation, groups=a.get("group", 1))


def _pool(kind):
    def run(x, **a):
        k = a["kernel_shape"]
        n = len(k)
        stride, ceil = tuple(a.get("strides", [1] * n)), bool(a.get("ceil_mode", 0))
        dilation = tuple(a.get("dilations", [1] * n))
        pads = resolve_pads("MaxPool" if kind == "max" else "AveragePool", x.shape, a, k, stride, dilation)
        if kind == "max":
            return (F.max_pool1d, F.max_pool2d, F.max_pool3d)[n - 1](
                x, tuple(k), stride, pads, dilation=dilation, ceil_mode=ceil)
        return (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[n - 1](
            x, tuple(k), stride, pads, ceil_mode=ceil, count_include_pad=bool(a.get("count_include_pad", 0)))
    return run


def _gemm(a_, b_, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    a_ = a_.t() if transA else a_
    b_ = b_.t() if transB else b_
    y = a_ @ b_
    y = y * alpha if alpha != 1.0 else y
    return y + (c * beta if beta != 1.0 else c) if c is not None else y


def _reshape(x, shape, allowzero=0):
    s = _static(shape)
    s = [x.shape[i] if v == 0 and not allowzero else v for i, v in enumerate(s)]
    return x.reshape(*s)


def _bn(x, w, b, mean, var, epsilon=1e-5, **_):
    return F.batch_norm(x, mean, var, w, b, training=False, eps=epsilon)


def _clip(x, lo=None, hi=None, **a):
    lo = a.get("min", None if lo is None else float(_static_f(lo)))
    hi = a.get("max", None if hi is None else float(_static_f(hi)))
    return x.clamp(lo, hi)


def _static_f(v):
    return np.asarray(v._data if isinstance(v, Tensor) else v).reshape(-1)[0]


OPS = {
    "Conv": _conv, "Gemm": _gemm, "MatMul": lambda a, b: a @ b, "Relu": lambda x: F.relu(x),
    "MaxPool": _pool("max"), "AveragePool": _pool("avg"),
    "GlobalAveragePool": lambda x: x.mean(tuple(range(2, x.ndim)), keepdim=True),
    "GlobalMaxPool": lambda x: x.amax(tuple(range(2, x.ndim)), keepdim=True),
    "BatchNormalization": _bn, "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b, "Concat": lambda *xs, axis: cat(list(xs), axis),
    "Flatten": lambda x, axis=1: x.reshape(int(np.prod(x.shape[:axis])), -1), "Reshape": _reshape,
    "Transpose": lambda x, perm=None: x.permute(*(perm or list(range(x.ndim))[::-1])),
    "Clip": _clip, "Sigmoid": lambda x: x.sigmoid(), "Tanh": lambda x: x.tanh(),
    "Softmax": lambda x, axis=-1: F.softmax(x, axis), "LogSoftmax": lambda x, axis=-1: F.log_softmax(x, axis),
    "Identity": lambda x: x, "Dropout": lambda x, *_, **__: x,
    "LeakyRelu": lambda x, alpha=0.01: F.leaky_relu(x, alpha), "HardSwish": lambda x: F.hardswish(x),
    "Erf": lambda x: erf(x), "Pad": pad, "Resize": resize,
    "Upsample": lambda x, scales, mode="nearest": resize(x, None, scales, mode=mode,
                                                         coordinate_transformation_mode="asymmetric",
                                                         nearest_mode="floor"),
    **SHAPE_OPS,
}


class OnnxModule(nn.Module):
    """An ONNX graph as a Module: float initializers are Parameters (named by the file's names, '.' kept as
    '_'), the others constants; forward runs the nodes in the file's order."""

    def __init__(self, model):
        super().__init__()
        g = model.graph
        self._nodes = list(g.node)
        unknown = sorted({n.op_type for n in self._nodes if n.op_type not in OPS and n.op_type != "Constant"})
        if unknown:
            raise ExportError(f"onnx.load: these ops have no cnnlab form: {', '.join(unknown)}. Got "
                              f"{len(self._nodes)} nodes.")
        self._names, self._consts = {}, {}
        # float inputs that only say how to resize or pad (roi, scales, a pad value) are settings, not weights
        settings = {i for n in self._nodes if n.op_type in ("Resize", "Upsample", "Pad") for i in n.input[1:]}
        for init in g.initializer:
            arr = numpy_helper.to_array(init).copy()
            if arr.dtype.kind == "f" and arr.ndim > 0 and init.name not in settings:
                key = init.name.replace(".", "_") or "p"
                while key in self._parameters:
                    key += "_"
                self.register_parameter(key, nn.Parameter(Tensor._wrap(arr)))
                self._names[init.name] = key
            else:
                self._consts[init.name] = arr
        for node in self._nodes:
            if node.op_type == "Constant":
                self._consts[node.output[0]] = numpy_helper.to_array(_attrs(node)["value"]).copy()
        init_names = {i.name for i in g.initializer}
        self._inputs = [i.name for i in g.input if i.name not in init_names]
        self._outputs = [o.name for o in g.output]

    def forward(self, *xs):
        env = dict(zip(self._inputs, xs))
        for name, key in self._names.items():
            env[name] = self._parameters[key]
        for name, arr in self._consts.items():
            env[name] = Tensor._wrap(arr)
        for node in self._nodes:
            if node.op_type == "Constant":
                continue
            args = [env[i] if i else None for i in node.input]
            while args and args[-1] is None:
                args.pop()
            env[node.output[0]] = OPS[node.op_type](*args, **_attrs(node))
        outs = [env[o] for o in self._outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)


def load(path):
    """See cnnlab.onnx.load."""
    return OnnxModule(onnx.load(path) if not isinstance(path, (bytes, bytearray)) else
                      onnx.load_from_string(bytes(path)))
