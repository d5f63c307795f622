"""What every picture shares: matplotlib (the optional `viz` extra) imported on first use, new figures that
belong to no pyplot window (so nothing needs a display and nothing piles up in pyplot's figure list), saving
as PNG with the Agg renderer, and the conversion of tensors, arrays and run folders into what they draw."""
import os

import numpy as np

import cnnlab

INSTALL = "pip install cnnlab[viz]"


def matplotlib():
    """The matplotlib module, or an ImportError that says how to install it (public as
    cnnlab.viz.require_matplotlib)."""
    try:
        import matplotlib as mpl
        from matplotlib.figure import Figure  # noqa: F401  (the part we use; fails on a broken install too)
    except ImportError:
        raise ImportError(f"cnnlab.viz draws with matplotlib, which is not installed: {INSTALL} "
                          f"(or pip install matplotlib)") from None
    return mpl


def new_figure(width, height):
    """A matplotlib Figure of width x height inches, outside pyplot (rendered with Agg when saved)."""
    matplotlib()
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def finish(fig, path, dpi=100):
    """Save the figure as a PNG at `path` (a file name, folders created, or a binary file object such as
    io.BytesIO) when a path is given; returns the figure."""
    if path is not None:
        if not hasattr(path, "write"):
            path = os.fspath(path)
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)  # Agg whatever backend pyplot may have chosen
        fig.savefig(path, dpi=dpi, format="png", facecolor="white")
    return fig


def to_numpy(x, op, name="image"):
    """A Tensor, array or nested list as a float NumPy array."""
    if isinstance(x, cnnlab.Tensor):
        return x.detach().float().numpy() if x.dtype != cnnlab.float64 else x.detach().numpy()
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{op}: {name} must hold numbers. Got {name}.dtype={x.dtype}.")
        return x.astype(np.float64) if x.dtype.kind != "f" else x
    raise TypeError(f"{op}: {name} must be a Tensor or a NumPy array. Got {name} of type {type(x).__name__}.")


def gray_image(image, op):
    """A picture to filter and show: a file path (read with Pillow), an (H, W) array/tensor, an (H, W, 3|4)
    array, or a (C, H, W) / (1, C, H, W) tensor. Returns (H, W) float64 in [0, 1] when the input was 8-bit
    or a file, else as given; colour becomes luminance (ITU-R 601, as Pillow's 'L')."""
    if isinstance(image, (str, os.PathLike)):
        try:
            from PIL import Image
        except ImportError:
            raise ImportError(f"{op}: reading an image file needs Pillow: pip install pillow") from None
        if not os.path.exists(image):
            raise FileNotFoundError(f"{op}: no such image file: {os.fspath(image)}")
        with Image.open(image) as img:
            return np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    is_array = isinstance(image, np.ndarray)
    eight_bit = is_array and image.dtype == np.uint8
    x = to_numpy(image, op)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim == 3:
        if is_array and x.shape[-1] in (3, 4) and x.shape[0] not in (1, 3, 4):  # (H, W, C): a photo array
            x = x.transpose(2, 0, 1)
        if x.shape[0] == 1:
            x = x[0]
        elif x.shape[0] in (3, 4):
            x = 0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]
        else:
            raise ValueError(f"{op}: the image must have 1, 3 or 4 channels. Got image.shape={image.shape}.")
    if x.ndim != 2:
        raise ValueError(f"{op}: the image must be (H, W), (H, W, C), (C, H, W) or (1, C, H, W). "
                         f"Got image.shape={tuple(image.shape)}.")
    return x / 255.0 if eight_bit else x


def grid_shape(n, max_cols):
    """(rows, cols) for n panels in rows of at most max_cols."""
    cols = max(1, min(n, max_cols))
    return -(-n // cols), cols
