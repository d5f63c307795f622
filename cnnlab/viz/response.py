"""The notes' edge-detection figure: an image, a kernel with its numbers, and what the kernel makes of it."""
import numpy as np

import cnnlab
from .. import filters
from ._figure import finish, gray_image, new_figure

__all__ = ["filter_response"]


def filter_response(image, names=("vertical_edge", "horizontal_edge"), padding_mode="replicate", abs=False,
                    path=None):
    """One row per kernel: the image, the kernel (its numbers written in), and the filtered image.

    Edge detectors (kernels summing to 0) give signed results, drawn on a gray scale centred on zero: white
    where the kernel's positive side is the brighter one, black where its negative side is, mid gray where
    the image is flat; with abs=True, the edge strength |result|, black to white. The scale of edge results
    ends at the 99th percentile of |result| (the strongest 1% saturate) so that weaker edges show. Kernels summing to 1 (blur,
    sharpen) give an image again, drawn black to white over the image's own range.

    Args:
        image (str, Tensor or array): an image file, (H, W), (H, W, 3) array or (C, H, W) tensor; colour is
            turned into gray (luminance) first.
        names (str, list of str or of 2-d kernels, default the vertical and horizontal edge kernels): kernels
            from `cnnlab.filters.names()`, or kernels of your own.
        padding_mode (str, default 'replicate'): the border handling of `filters.apply` ('same' padding);
            'replicate' keeps the image's border from looking like an edge, which zeros would.
        abs (bool, default False): draw |result| for edge detectors.
        path (str, default None): also save the figure there as a PNG.

    Returns:
        matplotlib.figure.Figure.

    Raises:
        ImportError: matplotlib is missing (pip install cnnlab[viz]).
        ValueError: an unknown kernel name, an image of the wrong shape.

    >>> import numpy as np
    >>> from cnnlab import viz
    >>> step = np.zeros((6, 6)); step[:, :3] = 10       # the notes' 6x6 example: bright left half
    >>> fig = viz.filter_response(step, "vertical_edge")
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['image (6, 6)', 'vertical_edge', 'result (6, 6)']
    """
    gray = gray_image(image, "filter_response")
    kernels = _kernel_list(names)
    if not kernels:
        raise ValueError("filter_response: give at least one kernel. Got names=[].")
    rows = []
    for k in kernels:
        if isinstance(k, str):
            integers, divisor = filters.entries(k)
            weights = np.asarray(integers, dtype=np.float64) / divisor
            shown, title = np.asarray(integers, dtype=np.float64), k + _scale(divisor)
        else:
            weights = np.asarray(k.detach().numpy() if isinstance(k, cnnlab.Tensor) else k, dtype=np.float64)
            shown, title = weights, "kernel"
        rows.append((title, shown, weights, filters.apply(gray, weights, padding_mode=padding_mode)))
    H, W = gray.shape
    aspect = W / H
    fig = new_figure(3 * 2.6 * max(aspect, 0.6) + 1.2, 2.6 * len(rows) + 0.4)
    axes = np.array(fig.subplots(len(rows), 3, squeeze=False))
    for (title, shown, weights, result), (ax_img, ax_k, ax_out) in zip(rows, axes):
        ax_img.imshow(gray, cmap="gray", interpolation="nearest")
        ax_img.set_title(f"image {gray.shape}")
        _draw_kernel(ax_k, shown)
        ax_k.set_title(title)
        edge = abs_sum_is_zero(weights)
        # edge images: the scale ends at the 99th percentile of |result| so that the many ordinary edges show,
        # not only the few strongest
        m = float(np.percentile(np.abs(result), 99)) or float(np.abs(result).max()) or 1.0
        if edge and abs:
            image = ax_out.imshow(np.abs(result), cmap="gray", vmin=0, vmax=m, interpolation="nearest")
        elif edge:
            image = ax_out.imshow(result, cmap="gray", vmin=-m, vmax=m, interpolation="nearest")
        else:
            image = ax_out.imshow(result, cmap="gray", vmin=gray.min(), vmax=gray.max(), interpolation="nearest")
        ax_out.set_title(f"{'|result|' if edge and abs else 'result'} {result.shape}")
        fig.colorbar(image, ax=ax_out, shrink=0.8)
        for ax in (ax_img, ax_out):
            ax.set_xticks([])
            ax.set_yticks([])
    return finish(fig, path)


def _kernel_list(names):
    """names as a list of kernels: one name, one 2-d kernel (array, tensor or nested list), or a list of those."""
    import numbers
    if isinstance(names, (str, np.ndarray, cnnlab.Tensor)):
        return [names]
    names = list(names)
    if names and isinstance(names[0], (list, tuple)) and all(isinstance(v, numbers.Real) for v in names[0]):
        return [names]  # a nested list of numbers is one kernel
    return names


def _scale(divisor):
    """' (x 1/16)' for the title of a kernel written as integers over a divisor; '' for divisor 1."""
    return "" if divisor == 1 else f"  (x {'-' if divisor < 0 else ''}1/{abs(divisor)})"


def abs_sum_is_zero(weights):
    """Whether a kernel is a detector (its entries sum to 0: flat regions give 0)."""
    return bool(np.isclose(weights.sum(), 0.0, atol=1e-9 * max(1.0, float(np.abs(weights).sum()))))


def _draw_kernel(ax, weights):
    """The kernel as a small table: cells coloured by sign, every entry written."""
    m = float(np.abs(weights).max()) or 1.0
    ax.imshow(weights, cmap="RdBu_r", vmin=-1.6 * m, vmax=1.6 * m)  # pale colours keep the numbers readable
    KH, KW = weights.shape
    integers = np.allclose(weights, np.round(weights))
    for i in range(KH):
        for j in range(KW):
            v = weights[i, j]
            ax.text(j, i, f"{int(round(v))}" if integers else f"{v:.3g}".replace("0.", "."), ha="center",
                    va="center", fontsize=11 if KW <= 3 else 8)
    ax.set_xticks(np.arange(-0.5, KW, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, KH, 1), minor=True)
    ax.grid(which="minor", color="black", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
