"""summary(model, input_size): a table of every layer's output shape, parameters, multiply-adds, geometry and
receptive field, with totals, like torchinfo's (the same attribute names) plus cnnlab's teaching columns.

Multiply-adds count what convolutions and linear layers multiply and add, without the bias: the convention of
torchvision's published `_ops` (ResNet-50 at 224x224: 4.089 G), so the numbers can be compared with them.
"""
from .. import _dtypes, nn
from ..autograd import no_grad
from ..creation import randn
from ..errors import ShapeError
from ..tensor import Tensor
from .checks import shape_checks
from .geometry import module_geometry
from .trace import Trace, field_of

__all__ = ["summary", "ModelSummary", "LayerInfo", "COLUMNS"]

# column name -> (header, what a row shows)
COLUMNS = {
    "input_size": "Input Shape",
    "output_size": "Output Shape",
    "num_params": "Param #",
    "mult_adds": "Mult-Adds",
    "kernel_size": "Kernel",
    "receptive_field": "RF",
    "jump": "Jump",
    "activation_memory": "Act. mem",
    "trainable": "Trainable",
}
DEFAULT_COLUMNS = ("kernel_size", "output_size", "num_params", "mult_adds", "receptive_field")


class LayerInfo:
    """One module call: torchinfo's attributes (class_name, var_name, depth, depth_index, input_size,
    output_size, num_params, trainable_params, macs, is_recursive) and cnnlab's: path ('features.0'), kernel_size,
    stride, padding ((before, after) per dim), dilation, receptive_field, jump, activation_bytes, trainable
    (True, False, 'partial', or None without parameters) and module."""

    def __init__(self, module, var_name, path, depth, depth_index, parent):
        self.module, self.var_name, self.path, self.depth, self.depth_index = module, var_name, path, depth, depth_index
        self.parent, self.children = parent, []
        self.class_name = type(module).__name__
        self.input_size = self.output_size = None
        self.num_params = self.trainable_params = self.macs = 0
        self.is_recursive = False
        self.kernel_size = self.stride = self.padding = self.dilation = None
        self.receptive_field = self.jump = None
        self.activation_bytes = 0
        self.trainable = None
        self.finish_index = None

    @property
    def is_leaf(self):
        return not self.children

    def __repr__(self):
        return f"{self.class_name}: {self.depth}-{self.depth_index} {self.path or '(model)'} -> {self.output_size}"


def _shape(value):
    if isinstance(value, Tensor):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        for v in value:
            if isinstance(v, Tensor):
                return list(v.shape)
    return None


def _first_tensor(value):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return next((v for v in value if isinstance(v, Tensor)), None)
    return None


def _own_macs(module, x, output):
    """Multiply-adds of one call, without the bias: conv = weight size x output positions x batch (transposed:
    x input positions, where each input value meets every weight once), linear = weight size x rows."""
    w = getattr(module, "weight", None)
    if not isinstance(w, Tensor) or output is None or getattr(module, "has_uninitialized_params", lambda: False)():
        return 0
    if isinstance(module, nn.modules.conv._ConvNd):
        if module.transposed:
            return w.numel() * x.numel() // x.shape[-module._n - 1] if isinstance(x, Tensor) else 0
        return w.numel() * output.numel() // output.shape[-module._n - 1]
    if isinstance(module, (nn.Linear, nn.Bilinear)):
        return w.numel() * (output.numel() // output.shape[-1])
    return 0


class _Recorder:
    def __init__(self, model):
        self.rows, self.stack, self.finished = [], [], 0
        self.called = set()
        self.depth_counts = {}
        self.model = model

    def pre(self, module, args):
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            var_name, path = type(module).__name__, ""
        else:
            var_name = next((n for n, m in parent.module._modules.items() if m is module), type(module).__name__)
            path = f"{parent.path}.{var_name}" if parent.path else var_name
        depth = len(self.stack)
        self.depth_counts[depth] = self.depth_counts.get(depth, 0) + 1
        row = LayerInfo(module, var_name, path, depth, self.depth_counts[depth], parent)
        row.input_size = _shape(args[0]) if args else None
        row.is_recursive = id(module) in self.called  # a shared module's second call: its parameters counted once
        self.called.add(id(module))
        if parent is not None:
            parent.children.append(row)
        self.rows.append(row)
        self.stack.append(row)

    def post(self, module, args, output):
        row = self.stack.pop()
        row.output_size = _shape(output)
        out = _first_tensor(output)
        row.finish_index, self.finished = self.finished, self.finished + 1
        params = [p for p in module.parameters() if not _uninitialised(p)]
        row.num_params = 0 if row.is_recursive else sum(p.numel() for p in params)
        row.trainable_params = 0 if row.is_recursive else sum(p.numel() for p in params if p.requires_grad)
        if params:
            grads = {p.requires_grad for p in params}
            row.trainable = grads.pop() if len(grads) == 1 else "partial"
        x = args[0] if args else None
        row.macs = _own_macs(module, x, out)
        if out is not None:
            row.activation_bytes = out.numel() * out._data.itemsize
        if isinstance(x, Tensor) and out is not None:
            g = module_geometry(module, tuple(x.shape), tuple(out.shape))
            if g is not None and g.kernel is not None:
                row.kernel_size, row.stride, row.padding, row.dilation = g.kernel, g.stride, g.padding, g.dilation


def _uninitialised(p):
    return type(p).__name__ == "UninitializedParameter"


class ModelSummary:
    """What summary() returns: `summary_list` (a LayerInfo per module call, in call order), totals with torchinfo's
    names (total_params, trainable_params, total_mult_adds, total_input, total_output_bytes, total_param_bytes),
    and str() the table."""

    def __init__(self, model, rows, x, depth, col_names, width):
        self.summary_list, self.depth, self.col_names, self.width = rows, depth, tuple(col_names), width
        params = {id(p): p for p in model.parameters() if not _uninitialised(p)}.values()
        self.total_params = sum(p.numel() for p in params)
        self.trainable_params = sum(p.numel() for p in params if p.requires_grad)
        self.total_mult_adds = sum(r.macs for r in rows)
        self.total_input = x.numel() * x._data.itemsize
        self.total_output_bytes = sum(r.activation_bytes for r in rows if r.is_leaf)
        self.total_param_bytes = sum(p.numel() * p._data.itemsize for p in params)
        self.input_size = list(x.shape)

    def _cell(self, row, col):
        if col == "input_size":
            return str(row.input_size) if row.input_size is not None else "--"
        if col == "output_size":
            return str(row.output_size) if row.output_size is not None else "--"
        if col == "num_params":
            if row.is_recursive:
                return "(recursive)"
            shown_children = row.children and row.depth < self.depth
            own = row.num_params - sum(c.num_params for c in row.children)
            if shown_children:
                return f"{own:,}" if own else "--"
            return f"{row.num_params:,}" if row.num_params else "--"
        if col == "mult_adds":
            macs = row.macs if (row.children and row.depth < self.depth) else _subtree_macs(row)
            return _short(macs) if macs else "--"
        if col == "kernel_size":
            if row.kernel_size is None:
                return "--"
            text = "x".join(map(str, row.kernel_size))
            if any(s != 1 for s in row.stride):
                text += " s" + _same(row.stride)
            pads = [b for b, a in row.padding] if all(b == a for b, a in row.padding) else row.padding
            if any(b or a for b, a in row.padding):
                text += " p" + (_same(pads) if all(b == a for b, a in row.padding) else str(row.padding))
            if any(d != 1 for d in row.dilation):
                text += " d" + _same(row.dilation)
            return text
        if col == "receptive_field":
            return "x".join(map(str, row.receptive_field)) if row.receptive_field else "--"
        if col == "jump":
            return _same(row.jump) if row.jump and None not in row.jump else "--"
        if col == "activation_memory":
            return _bytes(row.activation_bytes) if row.activation_bytes else "--"
        if col == "trainable":
            return "--" if row.trainable is None else str(row.trainable)
        raise ValueError(f"summary: unknown column. Got col_names entry {col!r}; choose from {sorted(COLUMNS)}.")

    def __str__(self):
        rows = [r for r in self.summary_list if r.depth <= self.depth]
        cells = [[self._cell(r, c) for c in self.col_names] for r in rows]
        heads = [COLUMNS[c] for c in self.col_names]
        widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(heads)]
        names = ["  " * r.depth + (f"{r.class_name} ({r.path})" if r.path else r.class_name) for r in rows]
        name_w = max(len("Layer (path)"), min(max(len(n) for n in names), 60))
        total = name_w + sum(w + 2 for w in widths)
        if total > self.width:  # shorten the layer column first, down to 24 characters
            name_w = max(24, name_w - (total - self.width))
            total = name_w + sum(w + 2 for w in widths)
        line = "=" * total
        out = [line, "Layer (path)".ljust(name_w) + "".join(h.rjust(w + 2) for h, w in zip(heads, widths)), line]
        for name, row in zip(names, cells):
            name = name if len(name) <= name_w else name[:name_w - 3] + "..."
            out.append(name.ljust(name_w) + "".join(c.rjust(w + 2) for c, w in zip(row, widths)))
        unit, div = ("G", 1e9) if self.total_mult_adds >= 1e9 else ("M", 1e6)
        out += [line, f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                f"Total mult-adds ({unit}): {self.total_mult_adds / div:.3f}", line,
                f"Input size (MB): {self.total_input / 1e6:.2f}",
                f"Activations (MB): {self.total_output_bytes / 1e6:.2f} (forward; training keeps them for backward)",
                f"Params size (MB): {self.total_param_bytes / 1e6:.2f}",
                f"Estimated total size (MB): "
                f"{(self.total_input + self.total_output_bytes + self.total_param_bytes) / 1e6:.2f}", line]
        return "\n".join(out)

    __repr__ = __str__


def _subtree_macs(row):
    return row.macs + sum(_subtree_macs(c) for c in row.children)


def _same(values):
    values = tuple(values)
    return str(values[0]) if all(v == values[0] for v in values) else "x".join(map(str, values))


def _short(n):
    for unit, div in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)


def _bytes(n):
    for unit, div in (("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return f"{n}B"


def _make_input(input_size, input_data, dtypes):
    if input_data is not None:
        return input_data if isinstance(input_data, Tensor) else Tensor(input_data)
    if input_size is None:
        raise TypeError("summary: give input_size (for example (1, 3, 224, 224), batch first) or input_data.")
    size = tuple(input_size)
    if not size or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size):
        raise ShapeError(f"summary: input_size must be a tuple of positive ints, batch first. Got "
                         f"input_size={input_size!r}.")
    return randn(*size, dtype=_dtypes.as_dtype(dtypes) if dtypes is not None else None)


def summary(model, input_size=None, input_data=None, depth=3, col_names=DEFAULT_COLUMNS, mode="eval",
            dtypes=None, receptive_fields=True, width=100):
    """Run one forward under no_grad with hooks and return a ModelSummary (print it for the table).

    Args:
        model (nn.Module).
        input_size (tuple): the input's shape, batch first, e.g. (1, 3, 224, 224); a random input is made; or
        input_data (Tensor): the input itself.
        depth (int, default 3): nested modules deeper than this are left out of the table (not of the totals).
        col_names (tuple): columns among 'kernel_size' (kernel, stride, padding, dilation), 'input_size',
            'output_size', 'num_params', 'mult_adds', 'receptive_field', 'jump', 'activation_memory',
            'trainable'. Default: kernel_size, output_size, num_params, mult_adds, receptive_field.
        mode ('eval', 'train' or 'same', default 'eval'): the mode the model runs in; restored afterwards.
        dtypes (dtype, default None): the random input's dtype (the default float dtype).
        receptive_fields (bool, default True): also trace one image with gradients recorded to give each layer's
            receptive field and jump (see cnnlab.inspect.receptive_field).
        width (int, default 100): the table's width in characters; the layer column is shortened to fit.

    Returns:
        ModelSummary: torchinfo's attributes (summary_list, total_params, trainable_params, total_mult_adds, ...).

    Raises:
        ShapeError: a layer whose input does not fit, naming it by its path and saying how to fix it.

    >>> import cnnlab, cnnlab.nn as nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    >>> s = cnnlab.summary(net, (1, 3, 32, 32))
    >>> s.total_params, s.total_mult_adds, s.summary_list[1].output_size, s.summary_list[3].receptive_field
    (16298, 486080, [1, 8, 28, 28], (6, 6))
    >>> print(s)
    ================================================================
    Layer (path)     Kernel    Output Shape  Param #  Mult-Adds   RF
    ================================================================
    Sequential           --         [1, 10]       --         --   --
      Conv2d (0)        5x5  [1, 8, 28, 28]      608    470.40K  5x5
      ReLU (1)           --  [1, 8, 28, 28]       --         --  5x5
      MaxPool2d (2)  2x2 s2  [1, 8, 14, 14]       --         --  6x6
      Flatten (3)        --       [1, 1568]       --         --   --
      Linear (4)         --         [1, 10]   15,690     15.68K   --
    ================================================================
    Total params: 16,298
    ...
    """
    if mode not in ("eval", "train", "same"):
        raise ValueError(f"summary: mode must be 'eval', 'train' or 'same'. Got mode={mode!r}.")
    for c in col_names:
        if c not in COLUMNS:
            raise ValueError(f"summary: unknown column. Got col_names entry {c!r}; choose from {sorted(COLUMNS)}.")
    x = _make_input(input_size, input_data, dtypes)
    modes = [(m, m.training) for m in model.modules()]
    recorder = _Recorder(model)
    handles = []
    try:
        if mode != "same":
            model.train(mode == "train")
        with shape_checks(model):  # teaching errors before a layer runs, naming it by its path
            for m in model.modules():
                handles.append(m.register_forward_pre_hook(recorder.pre))
                handles.append(m.register_forward_hook(recorder.post))
            with no_grad():
                try:
                    model(x)
                except (ValueError, RuntimeError) as e:
                    if isinstance(e, TypeError) or not recorder.stack or "expects" in str(e).split(";")[0]:
                        raise  # a type error as it is; a teaching error already names the layer
                    row = recorder.stack[-1]
                    raise ShapeError(f"summary: {row.class_name} '{row.path or row.class_name}' failed on an "
                                     f"input of shape {tuple(row.input_size or ())}: {e}") from e
    finally:
        for h in handles:
            h.remove()
        for m, training in modes:
            m.training = training
    rows = recorder.rows
    if receptive_fields and x.ndim >= 3:
        _add_receptive_fields(model, x, rows)
    return ModelSummary(model, rows, x, depth, col_names, width)


def _add_receptive_fields(model, x, rows):
    trace = Trace(model, x[:1].detach().requires_grad_(True))
    if len(trace.calls) != len(rows):  # a forward whose control flow changed between passes: leave them out
        return
    for row in rows:
        out = _first_tensor(trace.calls[row.finish_index][3])
        if out is None or out.ndim != x.ndim or not trace.channels_first(out):
            continue
        found = field_of(trace, out)
        if found is not None:
            region, _, jumps = found
            row.receptive_field, row.jump = tuple(hi - lo + 1 for lo, hi in region), tuple(jumps)
