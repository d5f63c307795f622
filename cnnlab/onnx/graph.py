"""The ONNX graph being written: fresh value names, initializers, nodes, and the final ModelProto."""
import numpy as np
import onnx
from onnx import helper, numpy_helper


class ExportError(ValueError, NotImplementedError):
    """A model that cannot be written as ONNX (an op with no ONNX form, Python control flow on a tensor's value
    during the trace). A ValueError, a NotImplementedError and a RuntimeError, as PyTorch's export errors."""


class Graph:
    """Collects nodes and initializers while a trace runs; `model()` assembles them (opset `opset`)."""

    def __init__(self, opset):
        self.opset = opset
        self.nodes, self.initializers = [], []
        self._taken = set()

    def fresh(self, hint):
        """A value name not used yet, built from hint (`conv2d`, `conv2d_1`, ...)."""
        base = "".join(c if c.isalnum() or c in "._" else "_" for c in str(hint)) or "v"
        name, i = base, 0
        while name in self._taken:
            i += 1
            name = f"{base}_{i}"
        self._taken.add(name)
        return name

    def const(self, value, hint="const", dtype=None):
        """An initializer holding value (a NumPy array or a Python number, cast to dtype when given)."""
        arr = np.asarray(value, dtype=dtype)
        if arr.dtype == np.float64 and dtype is None and not isinstance(value, np.ndarray):
            arr = arr.astype(np.float32)  # a bare Python float joins float32 math
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def ints(self, values, hint="shape"):
        return self.const(np.asarray(values, np.int64), hint)

    def node(self, op_type, inputs, hint=None, outputs=1, **attrs):
        """Append one node; returns its output name (or a list of names when outputs > 1)."""
        names = [self.fresh(hint or op_type.lower()) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=names[0] + "_node", **attrs))
        return names[0] if outputs == 1 else names

    def model(self, inputs, outputs):
        """The ModelProto: inputs/outputs are ValueInfoProtos."""
        graph = helper.make_graph(self.nodes, "cnnlab", inputs, outputs, self.initializers)
        model = helper.make_model(graph, producer_name="cnnlab",
                                  opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = min(model.ir_version, 8 if self.opset <= 17 else 9)  # readable by older runtimes
        return model


def value_info(name, arr_dtype, dims):
    """A graph input/output: dims holds ints and names (str) of dynamic axes."""
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(arr_dtype))
    return helper.make_tensor_value_info(name, elem, list(dims))


def save(model, f):
    """Write model to a path or a binary file object, after onnx.checker has read it."""
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    if hasattr(f, "write"):
        f.write(data)
    else:
        with open(f, "wb") as fh:
            fh.write(data)
