"""The confusion matrix of a run: rows are the true classes, columns the predicted ones."""
import json
import os

import numpy as np

import cnnlab
from ._figure import finish, new_figure

__all__ = ["confusion_matrix"]


def confusion_matrix(run_dir, classes=None, normalize=False, path=None):
    """Draw a confusion matrix with its counts written in the cells.

    Args:
        run_dir (str, array, Tensor or nested list): a run folder written by `cnnlab train --out` (its
            metrics.json, class names from its config.json), or a (K, K) matrix of counts.
        classes (list of str, default None): class names; default the run's, else 0..K-1.
        normalize (bool, default False): colour and write each row as fractions of that true class.
        path (str, default None): also save the figure there as a PNG.

    Returns:
        matplotlib.figure.Figure.

    Raises:
        ImportError: matplotlib is missing (pip install cnnlab[viz]).
        FileNotFoundError: no metrics.json in the folder. ValueError: a matrix that is not square, or class
            names that do not match its size.

    >>> from cnnlab import viz
    >>> fig = viz.confusion_matrix([[5, 1], [2, 7]], classes=["cat", "dog"])
    >>> fig.axes[0].get_title()
    'confusion matrix: accuracy 12/15 = 80.0%'
    """
    if isinstance(run_dir, (str, os.PathLike)):
        folder = os.fspath(run_dir)
        metrics = os.path.join(folder, "metrics.json")
        if not os.path.exists(metrics):
            raise FileNotFoundError(f"confusion_matrix: no metrics.json in the run folder. Got {folder}.")
        with open(metrics) as f:
            matrix = json.load(f).get("confusion_matrix")
        if matrix is None:
            raise ValueError(f"confusion_matrix: {metrics} has no confusion_matrix.")
        config = os.path.join(folder, "config.json")
        if classes is None and os.path.exists(config):
            with open(config) as f:
                classes = json.load(f).get("data_info", {}).get("classes")
    else:
        matrix = run_dir.detach().numpy() if isinstance(run_dir, cnnlab.Tensor) else run_dir
    counts = np.asarray(matrix, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.size == 0:
        raise ValueError(f"confusion_matrix: the matrix must be square (K, K) with K >= 1. Got shape {counts.shape}.")
    K = counts.shape[0]
    classes = [str(c) for c in (classes if classes is not None else range(K))]
    if len(classes) != K:
        raise ValueError(f"confusion_matrix: one class name per row. Got {len(classes)} names for a {K}x{K} "
                         f"matrix.")
    rows = counts.sum(1, keepdims=True)
    shown = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalize else counts
    side = min(12.0, 1.6 + 0.55 * K)
    fig = new_figure(side + 1.2, side)
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class" if normalize else "count")
    if K <= 30:  # numbers in the cells, dark text on light cells and light text on dark ones
        top = shown.max() or 1
        for i in range(K):
            for j in range(K):
                text = f"{shown[i, j]:.2f}" if normalize else f"{int(counts[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8 if K <= 12 else 6,
                        color="white" if shown[i, j] > 0.6 * top else "black")
    ax.set_xticks(range(K), classes, rotation=45 if max(map(len, classes)) > 3 else 0, ha="center")
    ax.set_yticks(range(K), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total, right = counts.sum(), np.trace(counts)
    ax.set_title(f"confusion matrix: accuracy {int(right)}/{int(total)} = {100 * right / max(total, 1):.1f}%")
    return finish(fig, path)
