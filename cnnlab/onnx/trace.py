"""The trace: one forward pass through cnnlab's op layer, every op writing its ONNX nodes as it runs.

Tensor._from_op calls `tensor._trace_hook` (None unless an export is running) with each op's output; the
hook finds the op's converter by its recorded name and hands it the op function's own frame, whose locals hold
the resolved arguments (pads, strides, axes). Values are keyed by their array: an in-place op gives the
tensor the result's array, so a later reader finds the newest value."""
import os
import re
import sys
import traceback

from ..tensor import Tensor
from .graph import ExportError

_tensor_module = sys.modules[Tensor.__module__]  # (cnnlab.tensor the name is the tensor() function)

_CNNLAB = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# frames inside these paths are the machinery, not the place a person wrote the op
_INTERNAL = tuple(_CNNLAB + p for p in ("tensor.py", "_methods.py", "ops" + os.sep, "nn" + os.sep + "functional",
                                         "onnx" + os.sep, "autograd.py", "_dtypes.py", "grad_mode.py",
                                         os.path.join("nn", "modules", "module.py")))

# op key (see op_key), or "fn:" + the name of the function that recorded the op (for names several ops share,
# such as linear's ViewBackward0) -> converter(ctx) returning the output's value name
CONVERTERS = {}


def converter(*keys):
    """Register a converter for the recorded op names whose op_key is in keys."""
    def register(fn):
        for k in keys:
            CONVERTERS[k] = fn
        return fn
    return register


def op_key(op):
    """`MaxPool2DWithIndicesBackward0` -> `MaxPoolWithIndices`: one converter serves every rank and overload."""
    return re.sub(r"Backward\d*$", "", re.sub(r"[123]D", "", op))


def place():
    """`file:line in function` of the innermost frame outside cnnlab's op machinery."""
    for fr in reversed(traceback.extract_stack()):
        if not os.path.abspath(fr.filename).startswith(_INTERNAL):
            return f"{fr.filename}:{fr.lineno} in {fr.name}"
    return "unknown place"


class Ctx:
    """What a converter sees: the graph, the op's output and parents, and the op function's locals."""

    def __init__(self, tracer, out, parents, op, frame):
        self.tracer, self.g, self.out, self.parents, self.op, self.frame = tracer, tracer.graph, out, parents, op, frame
        self.loc = frame.f_locals

    def input(self, i):
        return self.tracer.name_of(self.parents[i])

    def find(self, name, default=None):
        """A local of the op function or of the functions that called it (the public op keeps the user's
        arguments: negative_slope, eps, ...)."""
        fr = self.frame
        for _ in range(6):
            if fr is None:
                break
            if name in fr.f_locals:
                return fr.f_locals[name]
            fr = fr.f_back
        return default

    def refuse(self, why):
        raise ExportError(f"onnx.export: {why}. Got op={self.op} at {place()}.")


class Tracer:
    def __init__(self, graph, named_constants):
        self.graph = graph
        self.values = {}      # id(array) -> (array, value name); the array is kept so its id stays unique
        self.dynamic = set()  # ids of arrays computed from the inputs
        self.named = named_constants  # id(array) -> parameter/buffer name

    def add_input(self, t, name):
        self.values[id(t._data)] = (t._data, name)
        self.dynamic.add(id(t._data))

    def name_of(self, t):
        key = id(t._data)
        entry = self.values.get(key)
        if entry is not None and entry[0] is t._data:
            return entry[1]
        name = self.graph.const(t._data, self.named.get(key, "const"))  # a weight, or a constant made in forward
        self.values[key] = (t._data, name)
        return name

    def is_dynamic(self, t):
        return id(t._data) in self.dynamic and self.values[id(t._data)][0] is t._data

    def may_depend_on_inputs(self, t):
        """Dynamic, or made outside the op layer (a comparison such as `x.sum() > 0` records no op): only
        weights and values computed from them alone are known to be fixed."""
        entry = self.values.get(id(t._data))
        if entry is not None and entry[0] is t._data:
            return id(t._data) in self.dynamic
        return id(t._data) not in self.named

    def __call__(self, out, parents, op):
        frame = sys._getframe(2)
        fn = CONVERTERS.get("fn:" + frame.f_code.co_name) or CONVERTERS.get(op_key(op))
        if fn is None:
            raise ExportError(f"onnx.export: op {op} has no ONNX converter. Got op={op} at {place()}.")
        ctx = Ctx(self, out, parents, op, frame)
        name = fn(ctx)
        self.values[id(out._data)] = (out._data, name)
        if any(self.is_dynamic(p) for p in parents):
            self.dynamic.add(id(out._data))


_REFUSED = ("__bool__", "item", "__float__", "__int__", "__index__", "tolist", "numpy")


class tracing:
    """`with tracing(tracer):` installs the hook and refuses reading a traced tensor's value in Python."""

    def __init__(self, tracer):
        self.tracer = tracer
        self.saved = {}

    def __enter__(self):
        if _tensor_module._trace_hook is not None:
            raise ExportError("onnx.export: another export is already tracing. Got a nested export call.")
        for name in _REFUSED:
            self.saved[name] = Tensor.__dict__.get(name)
            if self.saved[name] is not None:
                setattr(Tensor, name, self._refusing(name, self.saved[name]))
        _tensor_module._trace_hook = self.tracer
        return self.tracer

    def _refusing(self, name, method):
        tracer = self.tracer

        def refuse(t, *args, **kwargs):
            if tracer.may_depend_on_inputs(t):
                raise ExportError(f"onnx.export: Python control flow on a tensor's value cannot be exported (the "
                                  f"trace would fix one branch). Got Tensor.{name}() at {place()}.")
            return method(t, *args, **kwargs)
        return refuse

    def __exit__(self, *exc):
        _tensor_module._trace_hook = None
        for name, method in self.saved.items():
            if method is not None:
                setattr(Tensor, name, method)
        return False


def spatial_pairs(pads):
    """((before, after), ...) -> ONNX pads [b1, b2, ..., a1, a2, ...]."""
    return [int(b) for b, _ in pads] + [int(a) for _, a in pads]
