"""Training curves: loss and accuracy per epoch, training against validation, from a run's history.csv."""
import csv
import math
import os

import numpy as np

from ._figure import finish, new_figure

__all__ = ["history", "read_history"]


def read_history(source):
    """A run's history as {column: list of floats} (NaN where a value is missing).

    Args:
        source (str or dict): a run folder written by `cnnlab train --out`, its history.csv, or the dict
            `cnnlab.train.fit` returns.

    Raises:
        FileNotFoundError: no history.csv there. ValueError: no 'epoch' column, or a value that is no number.

    >>> from cnnlab.viz import read_history
    >>> read_history({"epoch": [1, 2], "train_loss": [0.9, None]})["train_loss"]
    [0.9, nan]
    """
    if isinstance(source, dict):
        table = {k: [math.nan if v is None else float(v) for v in values] for k, values in source.items()}
    else:
        path = os.fspath(source)
        if os.path.isdir(path):
            path = os.path.join(path, "history.csv")
        if not os.path.exists(path):
            raise FileNotFoundError(f"history: no history.csv in the run folder, or no such file. Got {path}.")
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        if not rows:
            raise ValueError(f"history: the file is empty. Got {path}.")
        header, body = rows[0], rows[1:]
        table = {k: [] for k in header}
        for n, row in enumerate(body, start=2):
            for k, v in zip(header, row):
                try:
                    table[k].append(float(v) if v.strip() else math.nan)
                except ValueError:
                    raise ValueError(f"history: every value must be a number or empty. Got {v!r} in column "
                                     f"{k!r}, line {n} of {path}.") from None
    if "epoch" not in table:
        raise ValueError(f"history: the history needs an 'epoch' column. Got columns {list(table)}.")
    return table


def history(run_dir, path=None):
    """Loss and accuracy per epoch, training (solid) and validation (dashed), and the learning rate when it
    changed during the run.

    Args:
        run_dir (str or dict): a run folder, its history.csv, or the dict `fit` returns (see `read_history`).
        path (str, default None): also save the figure there as a PNG.

    Returns:
        matplotlib.figure.Figure: one panel per quantity; the best validation accuracy is marked.

    Raises:
        ImportError: matplotlib is missing (pip install cnnlab[viz]).
        FileNotFoundError, ValueError: see `read_history`.

    >>> from cnnlab import viz
    >>> run = {"epoch": [1, 2, 3], "train_loss": [1.2, 0.7, 0.5], "val_loss": [1.0, 0.8, 0.7],
    ...        "train_acc": [0.6, 0.8, 0.85], "val_acc": [0.65, 0.75, 0.8]}
    >>> [ax.get_title() for ax in viz.history(run).axes]
    ['loss', 'accuracy']
    """
    h = read_history(run_dir)
    fig = new_figure(1, 1)  # checks for matplotlib before importing from it
    from matplotlib.ticker import MaxNLocator
    epoch = np.asarray(h["epoch"])
    panels = [("loss", "train_loss", "val_loss"), ("accuracy", "train_acc", "val_acc")]
    panels = [p for p in panels if p[1] in h or p[2] in h]
    lr = np.asarray(h.get("lr", []))
    if lr.size and np.nanmax(lr) > np.nanmin(lr):
        panels.append(("learning rate", "lr", None))
    if not panels:
        raise ValueError(f"history: nothing to draw: no loss, accuracy or lr column. Got columns {list(h)}.")
    fig.set_size_inches(4.2 * len(panels), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (title, train, val) in zip(axes, panels):
        for key, style, label in ((train, "-", "training"), (val, "--", "validation")):
            if key in h:
                ax.plot(epoch, h[key], style, marker="o", markersize=3, label=label if val else None)
        if title == "accuracy" and "val_acc" in h and np.isfinite(h["val_acc"]).any():
            best = int(np.nanargmax(h["val_acc"]))
            # The label leans inwards at the ends so that it stays inside the panel.
            side = "right" if best == len(epoch) - 1 and len(epoch) > 1 else "left" if best == 0 else "center"
            ax.annotate(f"best {h['val_acc'][best]:.3f}", (epoch[best], h["val_acc"][best]), fontsize=8,
                        xytext=(0, -18), textcoords="offset points", ha=side,
                        arrowprops={"arrowstyle": "->", "lw": 0.8})
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(epoch.min() - 0.5, epoch.max() + 0.5)  # whole-epoch ticks even for a one-epoch run
        ax.grid(alpha=0.3)
        if val:
            ax.legend(fontsize=8)
        if title == "learning rate":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    fig.suptitle(f"training history ({len(epoch)} epoch{'' if len(epoch) == 1 else 's'})", fontsize=10)
    return finish(fig, path)
