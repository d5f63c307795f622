"""export_model: the trace of one forward pass, written as an ONNX file (the public entry is cnnlab.onnx.export)."""
import numpy as np
from onnx import helper

from .. import grad_mode
from ..tensor import Tensor
from . import convert_layers, convert_ops  # noqa: F401  (they register their converters)
from .graph import ExportError, Graph, save, value_info
from .trace import Tracer, tracing


def _as_inputs(args):
    args = (args,) if isinstance(args, Tensor) else tuple(args)
    if not args or not all(isinstance(a, Tensor) for a in args):
        raise ExportError("onnx.export: args must be a tensor or a tuple of tensors. Got "
                          f"args={tuple(type(a).__name__ for a in args)}.")
    return args


def _named_constants(model):
    named = {}
    if hasattr(model, "named_parameters"):
        for name, p in list(model.named_buffers()) + list(model.named_parameters()):
            if p is not None:
                named.setdefault(id(p._data), name)
    return named


def _dims(shape, axes):
    """The traced shape with the axes in `axes` ({axis: label}) left free."""
    return [axes[i] if i in axes else int(s) for i, s in enumerate(shape)]


def _axes_of(dynamic_axes, name):
    spec = (dynamic_axes or {}).get(name)
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(spec)}


def export_model(model, args, f, input_names, output_names, dynamic_axes, opset_version, do_constant_folding,
                 **kwargs):
    if kwargs.pop("export_params", True) is not True or kwargs.pop("training", None) not in (None, "eval") or \
            kwargs.pop("keep_initializers_as_inputs", None):
        raise ExportError("onnx.export: only export_params=True, eval-mode export and initializers outside the "
                          "graph inputs are supported. Got other settings.")
    kwargs.pop("verbose", None)
    if kwargs:
        raise TypeError(f"onnx.export: unexpected arguments {sorted(kwargs)}.")
    if not 17 <= int(opset_version) <= 21:
        raise ExportError(f"onnx.export: opset_version must be between 17 and 21. Got opset_version={opset_version}.")
    args = _as_inputs(args)
    input_names = list(input_names or [])
    input_names += [f"input_{i}" if i else "input" for i in range(len(input_names), len(args))]
    graph = Graph(int(opset_version))
    for name in input_names:
        graph._taken.add(name)
    for name in output_names or []:
        graph._taken.add(name)
    tracer = Tracer(graph, _named_constants(model))
    # copies that require grad: every op records (no in-place shortcut for a tensor outside the graph)
    inputs = [Tensor._wrap(np.array(a._data), requires_grad=a.is_floating_point()) for a in args]
    for t, name in zip(inputs, input_names):
        tracer.add_input(t, name)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with grad_mode.enable_grad(), tracing(tracer):
            result = model(*inputs)
    finally:
        if was_training:
            model.train()
    outputs = (result,) if isinstance(result, Tensor) else tuple(result)
    if not all(isinstance(o, Tensor) for o in outputs):
        raise ExportError("onnx.export: the model must return a tensor or a tuple of tensors. Got "
                          f"{tuple(type(o).__name__ for o in outputs)}.")
    output_names = list(output_names or [])
    output_names += [f"output_{i}" if i else "output" for i in range(len(output_names), len(outputs))]
    graph_outputs = []
    for t, name in zip(outputs, output_names):
        value = tracer.name_of(t)  # an output that is a weight or constant is written as one
        graph.nodes.append(_identity(value, name))
        graph_outputs.append(value_info(name, t._data.dtype, _dims(t.shape, _axes_of(dynamic_axes, name))))
    graph_inputs = [value_info(name, t._data.dtype, _dims(t.shape, _axes_of(dynamic_axes, name)))
                    for t, name in zip(inputs, input_names)]
    save(graph.model(graph_inputs, graph_outputs), f)


def _identity(src, dst):
    return helper.make_node("Identity", [src], [dst], name=dst + "_output")
