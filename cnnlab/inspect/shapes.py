"""Shape arithmetic of convolution and pooling: the output size, the padding that gives a wanted output, and the
formula filled in with the numbers, in words.

The rules are the layers' own (cnnlab.nn.functional._args), so a size computed here is the size the layer
produces, and a configuration the layer refuses is refused here with the same message.
"""
import numbers

from ..errors import ShapeError
from ..nn.functional._args import (check_output_size, check_positive, output_size as _out1, resolve_padding,
                                   spatial_names, to_tuple, transposed_output_size)

__all__ = ["output_size", "padding_for", "explain_conv", "explain_pool"]


def _sizes(input, op):
    """(sizes as a tuple, whether the caller gave a single int)."""
    if isinstance(input, numbers.Integral) and not isinstance(input, bool):
        sizes, scalar = (int(input),), True
    elif isinstance(input, (tuple, list)) and input and all(isinstance(v, numbers.Integral) and
                                                            not isinstance(v, bool) for v in input):
        sizes, scalar = tuple(int(v) for v in input), False
    else:
        raise TypeError(f"{op}: input must be a spatial size (an int) or a tuple of them. Got input={input!r}.")
    if any(s < 1 for s in sizes):
        raise ShapeError(f"{op}: input sizes must be positive. Got input={input!r}.")
    return sizes, scalar


def _window(op, n, kernel_size, stride, dilation):
    """Normalised (kernel, stride, dilation) tuples for n spatial dims, each checked positive as the layers do."""
    kernel = to_tuple(kernel_size, n, "kernel_size", op)
    check_positive(kernel, "kernel_size", op)
    stride = to_tuple(stride, n, "stride", op)
    check_positive(stride, "stride", op)
    dilation = to_tuple(dilation, n, "dilation", op)
    check_positive(dilation, "dilation", op)
    return kernel, stride, dilation


def _geometry(op, sizes, kernel_size, stride, padding, dilation, transposed=False):
    """Normalised (kernel, stride, dilation, pads) for len(sizes) spatial dims, checked as the layers check."""
    n = len(sizes)
    kernel, stride, dilation = _window(op, n, kernel_size, stride, dilation)
    if transposed and isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple (string paddings are for conv only). "
                         f"Got padding={padding!r}.")
    pads = resolve_padding(padding, n, op, kernel, stride, dilation, sizes)
    return kernel, stride, dilation, pads


def output_size(input, kernel_size, stride=1, padding=0, dilation=1, ceil_mode=False, transposed=False,
                output_padding=0):
    """The spatial output size of a convolution or pooling layer.

    Args:
        input (int or tuple of ints): the input's spatial size(s), e.g. 32 or (32, 32).
        kernel_size, stride (default 1), dilation (default 1): ints or tuples, as the layers take them.
        padding (default 0): an int, a tuple, (before, after) pairs, 'valid', 'same' (TensorFlow's
            ceil(input / stride)) or 'same_lower'.
        ceil_mode (bool, default False): pooling's ceil_mode (the last window must start inside the input or
            its left padding).
        transposed (bool, default False): a transposed convolution; output_padding (default 0) adds to one side.

    Shape: floor((input + before + after - dilation * (kernel_size - 1) - 1) / stride) + 1, or for
    transposed=True (input - 1) * stride - before - after + dilation * (kernel_size - 1) + output_padding + 1.

    Returns:
        int for an int input, else a tuple of ints.

    Raises:
        ShapeError (a ValueError and RuntimeError): an output of 0 or less, a non-positive stride, ... with the
        layer's message. TypeError: arguments of the wrong type.

    >>> from cnnlab.inspect import output_size
    >>> output_size(32, 5)
    28
    >>> output_size((224, 224), 11, stride=4, padding=2)
    (55, 55)
    >>> output_size(7, 3, stride=2, padding="same"), output_size(5, 2, stride=2, ceil_mode=True)
    (4, 3)
    >>> output_size(4, 4, stride=2, padding=1, transposed=True)
    8
    """
    op = "output_size"
    sizes, scalar = _sizes(input, op)
    kernel, stride, dilation, pads = _geometry(op, sizes, kernel_size, stride, padding, dilation, transposed)
    if transposed:
        out, _ = transposed_output_size(op, sizes, kernel, pads, stride, dilation, output_padding)
    else:
        out = tuple(_out1(i, k, s, p, d, ceil_mode) for i, k, s, p, d in zip(sizes, kernel, stride, pads, dilation))
        check_output_size(op, sizes, kernel, pads, stride, dilation, out)
    return out[0] if scalar else out


def padding_for(input, kernel_size, stride=1, dilation=1, output="same"):
    """The (before, after) padding that makes a convolution produce a wanted output size.

    The total is the least padding that gives `output` under PyTorch's floor rule,
    (output - 1) * stride + dilation * (kernel_size - 1) + 1 - input, split evenly with the odd pixel after
    (TensorFlow's and cnnlab's 'same'). At output = input this is the lecture notes' p = (ns - n + f - s) / 2.

    Args:
        input (int or tuple of ints): the input's spatial size(s).
        kernel_size, stride (default 1), dilation (default 1): ints or tuples.
        output (default 'same'): 'same' (ceil(input / stride), TensorFlow's rule; at stride 1 the input size),
            'valid' (no padding), an int or a tuple of ints.

    Returns:
        (before, after) for an int input, else a tuple of such pairs.

    Raises:
        ShapeError: an output that no padding gives (even unpadded the output is larger), or an output below 1.

    >>> from cnnlab.inspect import padding_for
    >>> padding_for(32, 5)
    (2, 2)
    >>> padding_for(7, 3, stride=2), padding_for(224, 7, stride=2, output=112)
    ((1, 1), (2, 3))
    """
    op = "padding_for"
    sizes, scalar = _sizes(input, op)
    n = len(sizes)
    kernel, stride, dilation = _window(op, n, kernel_size, stride, dilation)
    if output == "valid":
        pads = ((0, 0),) * n
        output_size(sizes, kernel, stride, 0, dilation)  # the layer's error when even that does not fit
        return pads[0] if scalar else pads
    if output == "same":
        wanted = tuple(-(-i // s) for i, s in zip(sizes, stride))
    else:
        wanted = to_tuple(output, n, "output", op)
        if any(o < 1 for o in wanted):
            raise ShapeError(f"{op}: output must be positive. Got output={output!r}.")
    pads = []
    for name, i, k, s, d, o in zip(spatial_names(n), sizes, kernel, stride, dilation, wanted):
        total = (o - 1) * s + d * (k - 1) + 1 - i
        if total < 0:
            unpadded = _out1(i, k, s, (0, 0), d)
            if unpadded != o:
                raise ShapeError(f"{op}: no padding gives this output; even unpadded the output is larger. Got "
                                 f"{name}={i}, kernel_size={k}, stride={s}, dilation={d}, output={o} (unpadded "
                                 f"{name}_out = floor(({i} - {d}*({k}-1) - 1)/{s}) + 1 = {unpadded}).")
            total = 0
        pads.append((total // 2, total - total // 2))
    return pads[0] if scalar else tuple(pads)


def _rows(name, count=2):
    word = {"H": "rows", "W": "columns", "D": "slices"}.get(name, "positions")
    return word if count != 1 else word[:-1]


def _explain_dim(name, i, k, s, pad, d, out, ceil_mode, convention):
    b, a = pad
    eff = d * (k - 1) + 1
    lines = [f"{name}: input {i}, kernel {k}" + (f", dilation {d} (effective kernel {d}*({k}-1)+1 = {eff})"
                                                  if d > 1 else "") + f", stride {s}, padding {b} before, {a} after"]
    if convention:
        lines.append(f"  padding {convention}")
    span = i + b + a - eff
    rule = "ceil" if ceil_mode else "floor"
    frac = f"{span}/{s}"
    lines.append(f"  {name}_out = {rule}(({i} + {b} + {a} - {eff}) / {s}) + 1 = {rule}({frac}) + 1 = {out}"
                 + ("  (PyTorch's floor rule)" if not ceil_mode else "  (ceil_mode)"))
    if ceil_mode:
        lines.append("  ceil_mode keeps a last partial window if it starts inside the input or its left padding")
    starts = [o * s - b for o in range(out)]
    shown = ", ".join(str(v) for v in starts[:6]) + (", ..." if out > 6 else "")
    lines.append(f"  windows start at {name.lower()} = {shown} (input coordinates; negative = padding)")
    last_end = starts[-1] + eff - 1
    lines.append(f"  the last window covers {starts[-1]}..{last_end}"
                 + (f" ({last_end - i + 1} of them padding)" if last_end >= i else ""))
    reached = max(min(last_end, i - 1), -1)
    if reached < i - 1:
        dropped = list(range(reached + 1, i))
        what = f"{dropped[0]}" if len(dropped) == 1 else f"{dropped[0]}..{dropped[-1]}"
        lines.append(f"  dropped: input {_rows(name, len(dropped))} {what} ({len(dropped)}) never reached by a window")
    else:
        lines.append(f"  dropped: none; every input {_rows(name, 1)} up to {i - 1} is reached")
    if d > 1 and s < eff:
        holes = f"; inside a window every {d}th {_rows(name, 1)} is used"
    else:
        holes = ""
    if s < eff:
        lines.append(f"  overlap: neighbouring windows share {eff - s} {_rows(name, eff - s)}; a {_rows(name, 1)} "
                     f"lies in up to {-(-eff // s)} windows{holes}")
    elif s == eff:
        lines.append("  overlap: none; the windows tile the input edge to edge")
    else:
        lines.append(f"  overlap: none; {s - eff} {_rows(name, s - eff)} between neighbouring windows skipped")
    return lines


def _explain(op, what, input, kernel_size, stride, padding, dilation, ceil_mode):
    sizes, _ = _sizes(input, op)
    n = len(sizes)
    kernel, stride_t, dilation_t, pads = _geometry(op, sizes, kernel_size, stride, padding, dilation)
    out = output_size(sizes, kernel, stride_t, pads, dilation_t, ceil_mode)
    if isinstance(padding, str) and padding in ("same", "same_lower"):
        convention = f"'{padding}': TensorFlow's rule, output = ceil(input / stride)" + \
            ("; the odd pixel goes before" if padding == "same_lower" else "; the odd pixel goes after")
    elif padding == "valid":
        convention = "'valid': no padding"
    else:
        convention = ""
    names = spatial_names(n)
    head = f"{what} {'x'.join(map(str, sizes))} -> {'x'.join(map(str, out))}" + \
        f" (kernel {'x'.join(map(str, kernel))}, stride {'x'.join(map(str, stride_t))})"
    lines = [head]
    for args in zip(names, sizes, kernel, stride_t, pads, dilation_t, out):
        lines += _explain_dim(*args, ceil_mode, convention)
    return "\n".join(lines)


def explain_conv(input, kernel_size, stride=1, padding=0, dilation=1):
    """The output-size formula of a convolution filled in with the numbers, in words, per spatial dim.

    Names the convention (PyTorch's floor, TensorFlow's 'same'), shows the padding on each side, where the
    windows start, which input rows/columns the last window never reaches ("dropped") and how much
    neighbouring windows overlap. Arguments as output_size (padding may be 'same' with any stride).

    >>> from cnnlab.inspect import explain_conv
    >>> print(explain_conv(7, 3, stride=2, padding="same"))
    conv 7 -> 4 (kernel 3, stride 2)
    L: input 7, kernel 3, stride 2, padding 1 before, 1 after
      padding 'same': TensorFlow's rule, output = ceil(input / stride); the odd pixel goes after
      L_out = floor((7 + 1 + 1 - 3) / 2) + 1 = floor(6/2) + 1 = 4  (PyTorch's floor rule)
      windows start at l = -1, 1, 3, 5 (input coordinates; negative = padding)
      the last window covers 5..7 (1 of them padding)
      dropped: none; every input position up to 6 is reached
      overlap: neighbouring windows share 1 position; a position lies in up to 2 windows
    """
    return _explain("explain_conv", "conv", input, kernel_size, stride, padding, dilation, False)


def explain_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """As explain_conv for a pooling window: stride defaults to kernel_size, ceil_mode as the pooling layers,
    and padding at most half the (dilated) kernel, PyTorch's rule.

    >>> from cnnlab.inspect import explain_pool
    >>> text = explain_pool((5, 5), 2)
    >>> print(text.splitlines()[2])
      H_out = floor((5 + 0 + 0 - 2) / 2) + 1 = floor(3/2) + 1 = 2  (PyTorch's floor rule)
    >>> print(text.splitlines()[5])
      dropped: input row 4 (1) never reached by a window
    """
    op = "explain_pool"
    sizes, _ = _sizes(input, op)
    n = len(sizes)
    if stride is None or (isinstance(stride, (tuple, list)) and not stride):
        stride = kernel_size
    kernel = to_tuple(kernel_size, n, "kernel_size", op)
    dil = to_tuple(dilation, n, "dilation", op)
    if not isinstance(padding, str):
        pads = resolve_padding(padding, n, op, kernel, to_tuple(stride, n, "stride", op), dil, sizes)
        limit = tuple((d * (k - 1) + 1) // 2 for k, d in zip(kernel, dil))
        if any(max(p) > lim for p, lim in zip(pads, limit)):
            raise ShapeError(f"{op}: pad should be at most half of effective kernel size, (dilation * (kernel_size "
                             f"- 1) + 1) // 2 = {limit} on each side. Got padding={padding!r}, kernel_size={kernel}, "
                             f"dilation={dil}.")
    return _explain(op, "pool", input, kernel_size, stride, padding, dilation, ceil_mode)
