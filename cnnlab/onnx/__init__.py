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


def load(path):
    """An ONNX file (a path, or its bytes) as a cnnlab Module: float initializers become trainable Parameters, so
    a model exported from PyTorch (or written by export) can be run and fine-tuned here.

    Covers Conv, Gemm, MatMul, Relu, LeakyRelu, HardSwish, Sigmoid, Tanh, Erf, MaxPool, AveragePool,
    GlobalAveragePool, GlobalMaxPool, BatchNormalization, Add, Sub, Mul, Div, Concat, Flatten, Reshape,
    Transpose, Clip, Softmax, LogSoftmax, Identity, Dropout, Constant, Pad (constant, reflect, edge, wrap; every
    opset's form), Resize and Upsample (nearest with every coordinate_transformation_mode and nearest_mode, and
    linear), Conv and pooling with auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID), and the shape arithmetic
    of PyTorch's exports (Shape, Gather, Slice, Squeeze, Unsqueeze, Cast, ConstantOfShape).

    Raises:
        ExportError: the file uses other ops (one line naming them all).

    Example:
        >>> import io, cnnlab, cnnlab.nn as nn, cnnlab.onnx
        >>> net, buf = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), io.BytesIO()
        >>> cnnlab.onnx.export(net, cnnlab.randn(1, 1, 5, 5), buf)
        >>> back = cnnlab.onnx.load(buf.getvalue())
        >>> x = cnnlab.randn(1, 1, 5, 5)
        >>> bool((back(x) - net(x)).abs().max() < 1e-6), sum(p.numel() for p in back.parameters())
        (True, 20)
    """
    try:
        from .loader import load as load_file
    except ImportError as e:
        raise ImportError("cnnlab.onnx.load: needs the onnx package: pip install 'cnnlab[onnx]' "
                          f"(or pip install onnx). Got ImportError: {e}.") from None
    return load_file(path)


def __getattr__(name):
    if name == "ExportError":
        from .graph import ExportError
        return ExportError
    raise AttributeError(f"module 'cnnlab.onnx' has no attribute {name!r}")
