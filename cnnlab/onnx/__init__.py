"""ONNX export: `cnnlab.onnx.export(model, args, f)` traces one forward pass and writes an ONNX file, with
torch.onnx.export's arguments. Needs the `onnx` package (the `onnx` extra)."""


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=17,
           do_constant_folding=True, **kwargs):
    """Export model, run once on args, to the ONNX file f (a path or a binary file object).

    Args:
        model (Module or callable): put in eval mode for the trace, and back in its mode after.
        args (Tensor or tuple of Tensors): example inputs; their shapes are fixed in the file except the axes
            named in dynamic_axes.
        f (str, PathLike or binary file): where to write.
        input_names, output_names (list of str, default input, input_1, ... / output, output_1, ...).
        dynamic_axes (dict, default None): {name: [axis, ...] or {axis: "label"}} axes left free.
        opset_version (int, default 17): 17 to 21.
        do_constant_folding (bool, default True): accepted for torch.onnx.export's signature (the trace
            already writes weights as initializers and computes nothing from them).

    Raises:
        ExportError: an op with no ONNX form, or Python control flow on a traced tensor's value (the message
            names the op or the value read, and the place in the code).
        ImportError: the onnx package is not installed.

    Matches torch.onnx.export (its TorchScript exporter's arguments); the file passes onnx.checker.

    Example:
        >>> import io, cnnlab, cnnlab.nn as nn, cnnlab.onnx
        >>> buf = io.BytesIO()
        >>> cnnlab.onnx.export(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), cnnlab.randn(1, 1, 5, 5), buf)
        >>> buf.getvalue()[:2] != b""
        True
    """
    try:
        from .exporter import export_model
    except ImportError as e:
        raise ImportError("cnnlab.onnx.export: needs the onnx package: pip install 'cnnlab[onnx]' "
                          f"(or pip install onnx). Got ImportError: {e}.") from None
    return export_model(model, args, f, input_names, output_names, dynamic_axes, opset_version,
                        do_constant_folding, **kwargs)


def __getattr__(name):
    if name == "ExportError":
        from .graph import ExportError
        return ExportError
    raise AttributeError(f"module 'cnnlab.onnx' has no attribute {name!r}")
