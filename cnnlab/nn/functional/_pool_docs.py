"""The pooling ops' docstrings, written once for 1-d, 2-d and 3-d and attached by attach_docs."""

_LAYOUT = {1: "L", 2: "H, W", 3: "D, H, W"}
_EX = {1: ("1, 2, 8", "1, 2, 4"), 2: ("1, 2, 4, 4", "1, 2, 2, 2"), 3: ("1, 2, 4, 4, 4", "1, 2, 2, 2, 2")}
_WINDOW_ARGS = """
        kernel_size (int or tuple): the window size.
        stride (int or tuple, default None = kernel_size): the window step.
        padding (int, tuple, tuple of (before, after) pairs, 'valid' or 'same'; default 0): implicit padding on
            each side, at most (dilation * (kernel_size - 1) + 1) // 2. 'same' gives out = ceil(in / stride)."""
_SHAPE = """

    Shape:
        input (N, C, {L}) or unbatched (C, {L}); output (N, C, {L_out}) with, per spatial dim,
        out = floor((in + pad_before + pad_after - dilation * (kernel_size - 1) - 1) / stride) + 1
        (ceil instead of floor with ceil_mode, dropping a last window that would start in the right padding)."""
_RAISES = """

    Raises:
        ShapeError (ValueError, RuntimeError): wrong number of dims; kernel_size, stride or dilation below 1;
            padding over half the effective kernel; an input smaller than the (dilated) window (for the 3-d
            average and power-average pools, as PyTorch's: smaller than kernel_size in any dim, padding or not).
        TypeError: a malformed size argument or an unsupported dtype."""
_DOCS = {
    "max": ("{Kind} pooling over {n}-d windows: each output is the {kind}imum of its window.{extra}"
            "\n\n    Args:\n        input (Tensor): (N, C, {L}) or (C, {L}), floating point or integer."
            + _WINDOW_ARGS + """
        dilation (int or tuple, default 1): spacing between the window's taps.
        ceil_mode (bool, default False): ceil instead of floor in the output size.
        return_indices (bool, default False): also return the argument of each {kind}imum as int64 indices into
            the flattened spatial input of each (n, c) plane (for max_unpool{n}d). Ties keep the first element in
            window order; NaN wins. Padding acts as {inf}.""" + _SHAPE + """

    Returns:
        Tensor, or (Tensor, indices) with return_indices.""" + _RAISES + """

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.{kind}_pool{n}d(cnnlab.ones({ex_in}), 2).shape
        cnnlab.Size([{ex_out}])
    """),
    "avg": ("""Average pooling over {n}-d windows: the sum of each window divided by its size.{extra}

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}), floating point.""" + _WINDOW_ARGS + """
        ceil_mode (bool, default False): ceil instead of floor in the output size.
        count_include_pad (bool, default True): count padded taps in the divisor. Either way a ceil_mode window
            is clipped where it runs past the right padding, as PyTorch.
        divisor_override (int, default None): divide every window's sum by this instead.
        dilation (int or tuple, default 1): spacing between taps (beyond PyTorch: the average of the dilated
            window's taps).""" + _SHAPE + """

    Returns:
        Tensor.""" + _RAISES + """

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.avg_pool{n}d(cnnlab.ones({ex_in}), 2).shape
        cnnlab.Size([{ex_out}])
    """),
    "lp": ("""Power-average pooling over {n}-d windows: (sum of x^p over the window)^(1/p).{extra}

    Computed as PyTorch: (sign(a) * relu(|a|) * prod(kernel_size))^(1/p) with a = avg_pool{n}d(x^p), so ceil_mode
    windows clipped at the right edge are scaled up to a full kernel; p = inf is the max of |x|.

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}), floating point.
        norm_type (float): p.
        kernel_size (int or tuple): the window size.
        stride (int or tuple, default None = kernel_size): the window step.
        ceil_mode (bool, default False): ceil instead of floor in the output size.
        padding, dilation (default 0 and 1): as in avg_pool{n}d (beyond PyTorch).""" + _SHAPE + """

    Returns:
        Tensor.""" + _RAISES + """

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.lp_pool{n}d(cnnlab.ones({ex_in}), 2, 2).shape
        cnnlab.Size([{ex_out}])
    """),
    "adaptive": ("""Adaptive {kind} pooling to a fixed {n}-d output size, whatever the input size.{extra}

    Output i along a dim covers the input bin [floor(i * in / out), ceil((i + 1) * in / out)), as PyTorch;
    output size 1 is global pooling.

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}).
        output_size (int or tuple): the output's spatial size; a None entry keeps that input dim.{ret_arg}

    Shape:
        input (N, C, {L}) or (C, {L}); output (N, C, *output_size).

    Returns:
        Tensor{ret}.

    Raises:
        ShapeError (ValueError, RuntimeError): wrong number of dims or an empty spatial dim.
        ValueError: a malformed output_size.

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.adaptive_{kind}_pool{n}d(cnnlab.ones({ex_in}), 1).shape
        cnnlab.Size([1, 2{ones}])
    """),
    "unpool": ("""The partial inverse of max_pool{n}d: each input value goes to the position its index names,
    zeros elsewhere (a later duplicate index wins). Matches torch.nn.functional.max_unpool{n}d.

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}), the pooled values.
        indices (Tensor): int64, input's shape, from max_pool{n}d(..., return_indices=True).
        kernel_size, stride (default None = kernel_size), padding (default 0): the pooling's arguments.
        output_size (tuple, default None): the spatial size to produce (or the full size); must be within
            stride of the default.

    Shape:
        out = (in - 1) * stride - 2 * padding + kernel_size per spatial dim, unless output_size is given.

    Returns:
        Tensor.

    Raises:
        ShapeError (ValueError, RuntimeError): wrong dims, indices of another shape, or an index out of range.
        ValueError: an output_size too far from the default.

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> y, i = F.max_pool{n}d(cnnlab.ones({ex_in}), 2, return_indices=True)
        >>> F.max_unpool{n}d(y, i, 2).shape
        cnnlab.Size([{ex_in}])
    """),
}


_KEYS = {"max": "max", "min": "min", "avg": "avg", "lp": "lp", "adaptive_avg": "adaptive", "adaptive_max": "adaptive",
         "max_un": "unpool"}


def attach_docs(namespace, prefixes):
    """Give the 1-d/2-d/3-d functions of each pool kind in prefixes (keys of _KEYS) in namespace their docstring."""
    for prefix in prefixes:
        key = _KEYS[prefix]
        for n in (1, 2, 3):
            kind = prefix.split("_")[-1] if key == "adaptive" else prefix
            torch_has = prefix != "min"
            extra = (f" Matches torch.nn.functional.{prefix}pool{n}d." if prefix == "max_un" else
                     f" Matches torch.nn.functional.{prefix}_pool{n}d." if torch_has else
                     f" Beyond PyTorch: min_pool{n}d(x) == -max_pool{n}d(-x), ties and indices included.")
            doc = _DOCS["max" if key == "min" else key]
            fn = namespace[f"{prefix}pool{n}d" if prefix == "max_un" else f"{prefix}_pool{n}d"]
            fn.__doc__ = doc.format(
                n=n, L=_LAYOUT[n], L_out=", ".join(f"{d}_out" for d in _LAYOUT[n].split(", ")),
                kind=kind, Kind=kind.capitalize(), inf="-inf" if kind == "max" else "+inf",
                extra="" if prefix == "max_un" else extra, ex_in=_EX[n][0], ex_out=_EX[n][1], ones=", 1" * n,
                ret_arg=("\n        return_indices (bool, default False): also return int64 indices into the "
                         "flattened\n            spatial input (first maximum in row-major order; NaN wins)."
                         if kind == "max" else ""),
                ret=", or (Tensor, indices) with return_indices" if kind == "max" else "")
