"""What an animation shows, before any pixel is drawn: the grid the window slides over, one step per output
cell, and the caption. The arithmetic is cnnlab.inspect's (output_size, explain_conv, explain_pool), so a
picture and the layer it explains cannot disagree.

A transposed convolution is drawn as Dumoulin & Visin draw it: a stride-1 convolution over the input with
stride - 1 zeros inserted between its values and dilation * (kernel_size - 1) - padding cells of padding on
each side (output_padding more after); each output cell is then one window, as for a direct convolution.
"""
from dataclasses import dataclass

from ..errors import ShapeError
from ..inspect import explain_conv, explain_pool, output_size
from ..nn.functional._args import check_positive, resolve_padding, to_tuple

__all__ = ["Plan", "Step", "plan_conv", "plan_pool", "MAX_CELLS"]

MAX_CELLS = 40  # cells per side of the drawn grid; beyond that a cell is too small to read


@dataclass(frozen=True)
class Step:
    """One frame: the output cell written, the cells the window reads (grid coordinates: row, column; negative
    or past the input = padding) and the input cells among them (input coordinates)."""
    output: tuple
    taps: tuple
    inputs: tuple


@dataclass(frozen=True)
class Plan:
    """The geometry of an animation. rows/cols: the grid's first and last coordinate (inclusive) per axis;
    kind(y, x) says what a grid cell holds: 'input', 'zero' (inserted by a transposed conv), 'pad' or
    'outside' (past the padding: only a ceil_mode window reaches there, and pooling ignores it)."""
    op: str
    input_size: tuple
    output_size: tuple
    rows: tuple
    cols: tuple
    window: tuple  # the dilated kernel's extent (rows, cols)
    steps: tuple
    caption: tuple
    stride: tuple  # the spacing of input values on the grid (a transposed conv's stride, else 1)
    pads: tuple  # ((top, bottom), (left, right)) on the grid
    last: tuple  # the grid coordinate of the last input value per axis

    def kind(self, y, x):
        outside = any(v < -p[0] or v > e + p[1] for v, p, e in zip((y, x), self.pads, self.last))
        if outside:
            return "outside"
        if any(v < 0 or v > e for v, e in zip((y, x), self.last)):
            return "pad"
        if any(v % s for v, s in zip((y, x), self.stride)):
            return "zero"
        return "input"


def _pair(size, op):
    if isinstance(size, int) and not isinstance(size, bool):
        return (size, size)
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return tuple(size)
    raise TypeError(f"{op}: input must be a spatial size: an int or (H, W). Got input={size!r}.")


def _check_fits(op, rows, cols, n_out):
    h, w = rows[1] - rows[0] + 1, cols[1] - cols[0] + 1
    if max(h, w) > MAX_CELLS:
        raise ShapeError(f"{op}: the drawn grid must be at most {MAX_CELLS} cells a side to stay readable; use a "
                         f"smaller input (the arithmetic is the same at any size). Got a grid of {h}x{w} cells.")
    return n_out


def _as(op, fn, *args, **kwargs):
    """fn(*args) with an error of cnnlab.inspect re-raised under this op's name (same type, same rule)."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as e:
        text = str(e)
        for inner in ("output_size: ", "explain_conv: ", "explain_pool: "):
            if text.startswith(inner):
                raise type(e)(op + ": " + text[len(inner):]) from None
        raise


def _formula_lines(text):
    """The head line and the '<dim>_out = ...' lines of an explain_conv/explain_pool text."""
    lines = [line.strip() for line in text.splitlines()]
    convention = [line for line in lines if line.startswith("padding '")][:1]  # 'same': TensorFlow's rule ...
    return (lines[0],) + tuple(line for line in lines if "_out = " in line) + tuple(convention)


def _steps(out, rows_of, cols_of, to_input):
    steps = []
    for oh in range(out[0]):
        for ow in range(out[1]):
            taps = tuple((y, x) for y in rows_of(oh) for x in cols_of(ow))
            inputs = tuple(filter(None, (to_input(y, x) for y, x in taps)))
            steps.append(Step((oh, ow), taps, inputs))
    return tuple(steps)


def _direct(op, size, kernel, stride, pads, dilation, out, caption, extend):
    """A direct convolution or pooling window: grid coordinates are input coordinates."""
    h, w = size
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    # a ceil_mode window may run past the padding: the grid grows to show where it ends
    ends = tuple((o - 1) * s - p[0] + e - 1 for o, s, p, e in zip(out, stride, pads, eff))
    rows = (-pads[0][0], max(h - 1 + pads[0][1], ends[0]) if extend else h - 1 + pads[0][1])
    cols = (-pads[1][0], max(w - 1 + pads[1][1], ends[1]) if extend else w - 1 + pads[1][1])
    _check_fits(op, rows, cols, out[0] * out[1])

    def axis(i):
        return lambda o: [o * stride[i] - pads[i][0] + j * dilation[i] for j in range(kernel[i])]

    steps = _steps(out, axis(0), axis(1), lambda y, x: (y, x) if 0 <= y < h and 0 <= x < w else None)
    return Plan(op, size, out, rows, cols, eff, steps, caption, (1, 1), pads, (h - 1, w - 1))


def plan_conv(input, kernel_size, stride=1, padding=0, dilation=1, transposed=False, output_padding=0):
    """The Plan of a 2-d convolution (or transposed convolution) over an input of size `input` (int or (H, W)).

    Arguments as F.conv2d / F.conv_transpose2d take them; padding may also be 'same' (any stride), 'valid',
    'same_lower' or ((top, bottom), (left, right)).

    >>> from cnnlab.animate import plan_conv
    >>> p = plan_conv(5, 3, stride=2, padding=1)
    >>> p.output_size, len(p.steps), p.steps[1].taps[:3]
    ((3, 3), 9, ((-1, 1), (-1, 2), (-1, 3)))
    """
    op = "animate.conv"
    size = _pair(input, op)
    kernel = to_tuple(kernel_size, 2, "kernel_size", op)
    stride = to_tuple(stride, 2, "stride", op)
    dilation = to_tuple(dilation, 2, "dilation", op)
    for name, v in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        check_positive(v, name, op)
    if not transposed:
        text = _as(op, explain_conv, size, kernel, stride, padding, dilation)  # the layer's checks and formula
        pads = resolve_padding(padding, 2, op, kernel, stride, dilation, size)
        out = output_size(size, kernel, stride, pads, dilation)
        return _direct(op, size, kernel, stride, pads, dilation, out, _formula_lines(text), False)
    out = _as(op, output_size, size, kernel, stride, padding, dilation, transposed=True,
              output_padding=output_padding)
    pads = resolve_padding(padding, 2, op, kernel, stride, dilation, size)
    out_pad = to_tuple(output_padding, 2, "output_padding", op)
    # the equivalent stride-1 convolution: each side padded by d*(k-1) - p (negative: that many cells cropped)
    grid_pads = tuple((d * (k - 1) - b, d * (k - 1) - a + q)
                      for d, k, (b, a), q in zip(dilation, kernel, pads, out_pad))
    last = tuple((i - 1) * s for i, s in zip(size, stride))
    rows = (min(0, -grid_pads[0][0]), max(last[0], last[0] + grid_pads[0][1]))
    cols = (min(0, -grid_pads[1][0]), max(last[1], last[1] + grid_pads[1][1]))
    _check_fits(op, rows, cols, out[0] * out[1])

    def axis(i):
        return lambda o: [o - grid_pads[i][0] + j * dilation[i] for j in range(kernel[i])]

    def to_input(y, x):
        inside = 0 <= y <= last[0] and 0 <= x <= last[1] and y % stride[0] == 0 and x % stride[1] == 0
        return (y // stride[0], x // stride[1]) if inside else None

    steps = _steps(out, axis(0), axis(1), to_input)
    caption = [f"transposed conv {size[0]}x{size[1]} -> {out[0]}x{out[1]} (kernel {kernel[0]}x{kernel[1]}, "
               f"stride {stride[0]}x{stride[1]})"]
    for name, i, k, s, (b, a), d, q, o in zip("HW", size, kernel, stride, pads, dilation, out_pad, out):
        caption.append(f"{name}_out = ({i}-1)*{s} - ({b}+{a}) + {d}*({k}-1) + {q} + 1 = {o}")
    zeros = "x".join(str(s - 1) for s in stride)
    pad_text = "; ".join(f"{axis} {b} before, {a} after" for axis, (b, a) in zip(("rows", "columns"), grid_pads))
    caption.append(f"drawn as a stride-1 conv: {zeros} zero(s) between input values, padding {pad_text}")
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    return Plan(op, size, out, rows, cols, eff, steps, tuple(caption), stride,
                tuple((max(b, 0), max(a, 0)) for b, a in grid_pads), last)


def plan_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The Plan of a 2-d pooling window (max or average: the windows are the same), stride defaulting to
    kernel_size as in F.max_pool2d.

    >>> from cnnlab.animate import plan_pool
    >>> p = plan_pool(5, 2, ceil_mode=True)
    >>> p.output_size, p.cols, p.kind(0, 5)
    ((3, 3), (0, 5), 'outside')
    """
    op = "animate.pool"
    size = _pair(input, op)
    kernel = to_tuple(kernel_size, 2, "kernel_size", op)
    stride = kernel if stride is None else to_tuple(stride, 2, "stride", op)
    dilation = to_tuple(dilation, 2, "dilation", op)
    for name, v in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        check_positive(v, name, op)
    text = _as(op, explain_pool, size, kernel, stride, padding, dilation, ceil_mode)  # the pools' checks, formula
    pads = resolve_padding(padding, 2, op, kernel, stride, dilation, size)
    out = output_size(size, kernel, stride, pads, dilation, ceil_mode=ceil_mode)
    return _direct(op, size, kernel, stride, pads, dilation, out, _formula_lines(text), True)
