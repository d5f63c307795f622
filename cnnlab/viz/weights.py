"""The kernels a convolution layer has learned: in colour for a first layer on RGB images, else one small
image per (filter, input channel) on a diverging colour map (red positive, blue negative, white zero)."""
import textwrap

import numpy as np

import cnnlab.nn as nn
from ._figure import finish, grid_shape, new_figure, to_numpy

__all__ = ["filters"]


def filters(conv_or_weight, max_filters=32, max_channels=8, path=None):
    """Draw the filters of a convolution layer.

    A weight (out, 3, KH, KW) is drawn as out small colour images, each filter scaled to its own range (as in
    AlexNet's figure of its first layer). Any other weight is drawn as a table: one row per filter, one column
    per input channel, on one shared symmetric scale with a colour bar, so strengths compare across the table.

    Args:
        conv_or_weight (nn.Module, Tensor or array): a Conv2d (its weight), a whole model (its first Conv2d),
            or a weight (out, in, KH, KW); (out, KH, KW) and (KH, KW) are read as one input channel.
        max_filters (int, default 32): at most this many filters (the first ones).
        max_channels (int, default 8): at most this many input channels per filter in the table.
        path (str, default None): also save the figure there as a PNG.

    Returns:
        matplotlib.figure.Figure.

    Raises:
        ImportError: matplotlib is missing (pip install cnnlab[viz]).
        ValueError: a model without a Conv2d, a weight that is not 2-d to 4-d.

    >>> import cnnlab.nn as nn
    >>> from cnnlab import viz
    >>> fig = viz.filters(nn.Conv2d(3, 16, 5))
    >>> fig.get_suptitle()
    'Conv2d(3, 16, kernel_size=(5, 5), stride=(1, 1)): weight (16, 3, 5, 5), each filter as RGB'
    """
    w, label = _weight(conv_or_weight)
    out_ch, in_ch = w.shape[:2]
    n = min(out_ch, max_filters)
    more = f", first {n} of {out_ch} filters" if n < out_ch else ""
    if in_ch == 3:
        return finish(_rgb(w[:n], f"{label}: weight {w.shape}, each filter as RGB{more}"), path)
    if in_ch == 1:
        return finish(_single(w[:n, 0], f"{label}: weight {w.shape}{more}"), path)
    c = min(in_ch, max_channels)
    if c < in_ch:
        more += f", first {c} of {in_ch} input channels"
    return finish(_table(w[:n, :c], f"{label}: weight {w.shape}{more}"), path)


def _weight(obj):
    """(weight as (out, in, KH, KW) float array, a label for the title)."""
    if isinstance(obj, nn.Module):
        conv = obj
        if not (isinstance(getattr(obj, "weight", None), nn.Parameter) and obj.weight.dim() == 4):
            conv = next((m for m in obj.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))), None)
            if conv is None:
                raise ValueError(f"filters: the module has no Conv2d layer. Got a {type(obj).__name__}.")
        w = to_numpy(conv.weight, "filters", "weight")
        if isinstance(conv, nn.ConvTranspose2d):  # (in, out/groups, KH, KW): one filter per output channel
            w = w.transpose(1, 0, 2, 3)
        extra = conv.extra_repr() if hasattr(conv, "extra_repr") else ""
        return w, f"{type(conv).__name__}({extra})"
    w = to_numpy(obj, "filters", "weight")
    if w.ndim == 2:
        w = w[None, None]
    elif w.ndim == 3:
        w = w[:, None]
    if w.ndim != 4 or 0 in w.shape:
        raise ValueError(f"filters: a weight must be (out, in, KH, KW), (out, KH, KW) or (KH, KW). "
                         f"Got weight.shape={w.shape}.")
    return w, "weight"


def _rgb(w, title):
    rows, cols = grid_shape(len(w), 8)
    fig = new_figure(cols * 1.0 + 0.3, rows * 1.05 + 0.5)
    _title(fig, title)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(w):
            f = w[i]
            lo, hi = f.min(), f.max()
            ax.imshow(((f - lo) / (hi - lo if hi > lo else 1)).transpose(1, 2, 0), interpolation="nearest")
            ax.set_title(f"{i}", fontsize=7, pad=2)
    return fig


def _single(w, title):
    """(n, KH, KW) one-channel filters, in rows of 8, one symmetric scale."""
    rows, cols = grid_shape(len(w), 8)
    vmax = float(np.abs(w).max()) or 1.0
    fig = new_figure(cols * 1.1 + 1.0, rows * 1.15 + 0.6)
    _title(fig, title)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    image = None
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(w):
            image = ax.imshow(w[i], cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            ax.set_title(f"filter {i}", fontsize=7, pad=2)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="weight")
    return fig


def _table(w, title):
    """(n, c, KH, KW): a row per filter, a column per input channel."""
    n, c = w.shape[:2]
    vmax = float(np.abs(w).max()) or 1.0
    fig = new_figure(c * 0.9 + 1.6, n * 0.9 + 0.8)
    _title(fig, title)
    axes = np.array(fig.subplots(n, c, squeeze=False))
    image = None
    for i in range(n):
        for j in range(c):
            ax = axes[i, j]
            image = ax.imshow(w[i, j], cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"in {j}", fontsize=7, pad=2)
            if j == 0:
                ax.set_ylabel(f"filter {i}", fontsize=7)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="weight")
    return fig


def _title(fig, title):
    """The figure's title, wrapped to its width (about 13 characters an inch at 9 points)."""
    fig.suptitle("\n".join(textwrap.wrap(title, max(30, int(fig.get_size_inches()[0] * 13)))), fontsize=9)
