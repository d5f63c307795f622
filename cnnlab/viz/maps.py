"""Feature maps: what each convolution layer of a model outputs for one input, one small image per channel."""
import numpy as np

import cnnlab
import cnnlab.nn as nn
from ._figure import finish, grid_shape, new_figure, to_numpy

__all__ = ["feature_maps", "capture"]


def capture(model, x, layers=None):
    """Run the model on x and keep the outputs of some layers (forward hooks, removed afterwards).

    Args:
        model (nn.Module): any model.
        x (Tensor): its input, e.g. (1, C, H, W).
        layers (None, str or list of str): module paths as `model.named_modules()` names them ('features.0');
            None takes every 2-d convolution (Conv2d and ConvTranspose2d).

    Returns:
        list of (path, module, output Tensor) in the order the model ran them. The model runs in eval mode
        without gradients, and its training flag is restored afterwards.

    Raises:
        ValueError: a path that is no module of the model (the message lists the convolution paths), or
            no convolution in the model when layers is None.

    >>> import cnnlab, cnnlab.nn as nn
    >>> from cnnlab.viz import capture
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3))
    >>> [(path, tuple(out.shape)) for path, _, out in capture(net, cnnlab.randn(1, 1, 9, 9))]
    [('0', (1, 4, 7, 7)), ('2', (1, 8, 5, 5))]
    """
    modules = dict(model.named_modules())
    convs = [p for p, m in modules.items() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    if layers is None:
        if not convs:
            raise ValueError(f"feature_maps: the model has no Conv2d layer; name the layers to show. Got a "
                             f"{type(model).__name__} with layers {', '.join(p for p in modules if p)[:300]}.")
        wanted = convs
    else:
        wanted = [layers] if isinstance(layers, str) else list(layers)
        unknown = [p for p in wanted if p not in modules or p == ""]
        if unknown:
            raise ValueError(f"feature_maps: layers must name modules of the model (as named_modules() does). "
                             f"Got layers={unknown!r}; the convolutions are {', '.join(convs) or 'none'}.")
    seen = []
    handles = [modules[p].register_forward_hook(lambda m, i, out, p=p: seen.append((p, m, out)))
               for p in dict.fromkeys(wanted)]
    was_training = model.training
    try:
        model.eval()
        with cnnlab.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return seen


def feature_maps(model, x, layers=None, max_maps=32, cmap="gray", path=None):
    """One grid of feature maps per convolution layer (or per named layer), for the first image of x.

    Each map is drawn with its own colour scale (its min black, its max white with the default cmap), so the
    pattern a channel responds to shows even when its values are small.

    Args:
        model (nn.Module): the model.
        x (Tensor): the input, (N, C, H, W) or (C, H, W); only the first image is drawn.
        layers (None, str or list of str, default None): module paths ('features.0'); None = every Conv2d.
        max_maps (int, default 32): at most this many channels per layer (the first ones).
        cmap (str, default 'gray'): matplotlib colour map.
        path (str, default None): also save the figure there as a PNG.

    Returns:
        matplotlib.figure.Figure: the input on top, then one titled grid per layer (path, layer, shape).

    Raises:
        ImportError: matplotlib is missing (pip install cnnlab[viz]).
        ValueError: see `capture`.

    >>> import cnnlab, cnnlab.nn as nn
    >>> from cnnlab import viz
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3))
    >>> fig = viz.feature_maps(net, cnnlab.randn(1, 1, 16, 16))
    >>> [sub.get_suptitle() for sub in fig.subfigs][1]
    '0: Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1)) -> (1, 4, 14, 14)'
    """
    if not isinstance(x, cnnlab.Tensor):
        raise TypeError(f"feature_maps: x must be a Tensor. Got x of type {type(x).__name__}.")
    if x.dim() == 3:
        x = x.unsqueeze(0)
    outputs = capture(model, x[:1], layers)
    if not outputs:
        raise ValueError(f"feature_maps: the layers did not run in the model's forward. Got layers={layers!r}.")
    blocks = [("input", _input_title(x), to_numpy(x[0], "feature_maps", "x"))]
    for p, module, out in outputs:
        if isinstance(out, (tuple, list)):
            out = out[0]
        maps = to_numpy(out, "feature_maps", "output")
        shown = maps[0] if maps.ndim == 4 else maps.reshape(1, 1, -1) if maps.ndim <= 2 else maps
        blocks.append((p, f"{p}: {_one_line(module)} -> {tuple(out.shape)}", shown))
    cols = min(8, max(min(len(b[2]), max_maps) for b in blocks))
    heights = [grid_shape(min(len(b[2]), max_maps), cols)[0] for b in blocks]
    heights[0] = 1
    panel = 1.15
    fig = new_figure(cols * panel + 0.3, sum(h * panel + 0.45 for h in heights))
    subfigs = np.atleast_1d(fig.subfigures(len(blocks), 1, height_ratios=[h * panel + 0.45 for h in heights]))
    for sub, (name, title, maps) in zip(subfigs, blocks):
        sub.suptitle(title, fontsize=9, ha="left", x=0.01)
        if name == "input":
            _draw_input(sub, maps, cols)
            continue
        n = min(len(maps), max_maps)
        rows, _ = grid_shape(n, cols)
        axes = np.atleast_1d(sub.subplots(rows, cols)).ravel()
        for c, ax in enumerate(axes):
            ax.set_axis_off()
            if c < n:
                ax.imshow(maps[c], cmap=cmap, interpolation="nearest")
                ax.set_title(f"ch {c}", fontsize=7, pad=2)
        if len(maps) > n:
            sub.text(0.99, 0.99, f"first {n} of {len(maps)} channels", ha="right", va="top", fontsize=7)
    return finish(fig, path)


def _one_line(module):
    extra = module.extra_repr() if hasattr(module, "extra_repr") else ""
    return f"{type(module).__name__}({extra})" if "\n" not in extra else type(module).__name__


def _input_title(x):
    return f"input {tuple(x.shape[1:])} (image 0 of the batch)" if x.shape[0] > 1 else f"input {tuple(x.shape)}"


def _draw_input(sub, image, cols):
    axes = np.atleast_1d(sub.subplots(1, cols)).ravel()
    for ax in axes:
        ax.set_axis_off()
    if image.shape[0] == 3:  # colour: show it as colour, each channel scaled to [0, 1] together
        lo, hi = image.min(), image.max()
        axes[0].imshow(((image - lo) / (hi - lo if hi > lo else 1)).transpose(1, 2, 0), interpolation="nearest")
    else:
        axes[0].imshow(image[0], cmap="gray", interpolation="nearest")
