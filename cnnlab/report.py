"""The report of a training run as one self-contained HTML page: the model's layer table, the training curves,
the per-class accuracy and confusion matrix, the first layer's filters, the feature maps of every convolution
layer for one image, and the model's prediction for it. Pictures are inlined as data: URIs and the page loads
nothing else, so it can be mailed, archived or opened offline. Drawing needs matplotlib (cnnlab[viz]).

`cnnlab report --checkpoint runs/lenet5 [--image digit.png] --out report.html` is the command-line form.
"""
import base64
import html
import io
import json
import os

from . import nn, viz
from .cli_common import METRICS, load_data, load_run
from .data.specs import prepare_image
from .inspect import summary
from .inspect.model_summary import COLUMNS
from .train import predict

__all__ = ["build_report", "write_report"]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 64em;
       padding: 0 1em; color: #1a1a1a; background: #ffffff; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.8em;
     border-bottom: 1px solid #d0d0d0; padding-bottom: 0.2em; }
.facts { color: #444; } .note { color: #555; font-style: italic; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { padding: 0.2em 0.7em; border-bottom: 1px solid #e4e4e4; }
th { text-align: left; background: #f3f5f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 0.8em; background: #2f6fb0; vertical-align: middle; }
img { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
.row { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; } .row img { max-width: 40em; }
"""


def _png_uri(fig, dpi=90):
    """A matplotlib Figure as a data: URI of its PNG (rendered with Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(uri, alt):
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _pct(v):
    return "n/a" if v is None else f"{100 * v:.2f}%"


def _summary_table(model, shape):
    s = summary(model, (1,) + tuple(shape), depth=3)
    cols = s.col_names
    head = "".join(f"<th>{html.escape(COLUMNS[c])}</th>" for c in cols)
    rows = []
    for r in s.summary_list:
        if r.depth > s.depth:
            continue
        name = "&nbsp;&nbsp;" * r.depth + html.escape(f"{r.class_name} ({r.path})" if r.path else r.class_name)
        cells = "".join(f'<td class="num">{html.escape(s._cell(r, c))}</td>' for c in cols)
        rows.append(f"<tr><td>{name}</td>{cells}</tr>")
    totals = (f"Total params: {s.total_params:,} (trainable {s.trainable_params:,}); mult-adds per image: "
              f"{s.total_mult_adds:,}")
    return (f"<table><tr><th>Layer (path)</th>{head}</tr>{''.join(rows)}</table>"
            f'<p class="facts">{html.escape(totals)}</p>')


def _per_class_table(metrics, classes):
    per = metrics.get("per_class_accuracy") or {}
    rows = []
    for c in classes:
        v = per.get(str(c))
        bar = f'<span class="bar" style="width:{100 * v:.1f}px"></span>' if v is not None else ""
        rows.append(f'<tr><td>{html.escape(str(c))}</td><td class="num">{_pct(v)}</td><td>{bar}</td></tr>')
    return f"<table><tr><th>class</th><th>accuracy</th><th></th></tr>{''.join(rows)}</table>"


def _first_conv(model):
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


def _pick_image(config, image):
    """(x (1, C, H, W), a description, the true class or None, a note when no image could be had)."""
    info = config["data_info"]
    if image is not None:
        return prepare_image(os.fspath(image), info), os.path.basename(os.fspath(image)), None, None
    try:
        size = config["data_info"]["size"][0] if config["data"].startswith("folder:") else None
        _, val_ds, _ = load_data(config["data"], seed=config.get("seed", 0), image_size=size)
        x, label = val_ds[0]
    except Exception as e:  # the run's data may live on another machine; the page says so and goes on
        return None, None, None, f"No image given (--image) and the run's data {config['data']} is not readable " \
                                 f"here ({type(e).__name__}: {e})."
    return x.unsqueeze(0), f"the first validation image of {config['data']}", int(label), None


def build_report(run, image=None, top_k=3):
    """The HTML of a run's report (see the module docstring).

    Args:
        run (str): a run folder written by `cnnlab train --out` (or its checkpoint.pth).
        image (str, optional): a picture to run through the model (prepared as `cnnlab predict` prepares it);
            default: the first validation image of the run's data, when that data is readable here.
        top_k (int, default 3): how many classes the prediction lists.

    Returns:
        str: one HTML page, every picture inlined.

    Raises:
        FileNotFoundError: no such run folder or image. ImportError: matplotlib missing (pip install cnnlab[viz]).

    >>> import os, cnnlab.report
    >>> os.path.exists("no/such/run") or cnnlab.report.build_report("no/such/run")
    Traceback (most recent call last):
    ...
    FileNotFoundError: report: no such run folder or checkpoint file. Got run='no/such/run'.
    """
    try:  # the clear ImportError before anything is loaded
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("report: the pictures are drawn with matplotlib, which is not installed: "
                          "pip install cnnlab[viz] (or pip install matplotlib)") from None
    if not os.path.exists(os.fspath(run)):
        raise FileNotFoundError(f"report: no such run folder or checkpoint file. Got run={os.fspath(run)!r}.")
    if image is not None and not os.path.isfile(os.fspath(image)):
        raise FileNotFoundError(f"report: no such image file. Got image={os.fspath(image)!r}.")
    config, model = load_run(os.fspath(run))
    model.eval()
    folder = run if os.path.isdir(run) else os.path.dirname(run) or "."
    info = config["data_info"]
    classes = info["classes"]
    metrics = {}
    if os.path.exists(os.path.join(folder, METRICS)):
        with open(os.path.join(folder, METRICS), encoding="utf-8") as f:
            metrics = json.load(f)
    parts = [f"<h1>Run {html.escape(os.path.abspath(folder))}</h1>",
             f'<p class="facts">{html.escape(config["model"])} trained on {html.escape(config["data"])} for '
             f'{config.get("epochs")} epoch(s): {html.escape(str(config.get("optimizer")))} lr {config.get("lr")}, '
             f'batch {config.get("batch_size")}. Validation accuracy {_pct(metrics.get("val_accuracy"))}, loss '
             f'{metrics.get("val_loss", float("nan")):.4f}.</p>']
    shape = (info["channels"],) + tuple(info["size"])
    parts += ["<h2>The model</h2>", _summary_table(model, shape)]
    parts += ["<h2>Training curves</h2>", _img(_png_uri(viz.history(folder)), "loss and accuracy per epoch")]
    parts += ["<h2>Accuracy per class and confusion matrix</h2>", '<div class="row">',
              _per_class_table(metrics, classes)]
    if metrics.get("confusion_matrix"):
        fig = viz.confusion_matrix(folder)
        parts.append(_img(_png_uri(fig), "confusion matrix"))
    parts.append("</div>")
    conv = _first_conv(model)
    parts.append("<h2>First-layer filters</h2>")
    if conv is not None:
        parts.append(_img(_png_uri(viz.filters(conv)), "first-layer filters"))
    else:
        parts.append('<p class="note">The model has no Conv2d layer.</p>')
    x, what, label, note = _pick_image(config, image)
    parts.append("<h2>Prediction and feature maps</h2>")
    if x is None:
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    else:
        _, top, top_p = predict(model, x, k=min(top_k, len(classes)))
        truth = f" (its true class: {html.escape(str(classes[label]))})" if label is not None else ""
        rows = "".join(f'<tr><td>{html.escape(str(classes[c]))}</td><td class="num">{100 * p:.1f}%</td></tr>'
                       for c, p in zip(top[0], top_p[0]))
        parts += [f"<p>Input: {html.escape(what)}{truth}. The model says:</p>",
                  f"<table><tr><th>class</th><th>probability</th></tr>{rows}</table>"]
        if conv is not None:
            parts += ["<p>What every convolution layer outputs for this image (each map on its own scale):</p>",
                      _img(_png_uri(viz.feature_maps(model, x)), "feature maps of every convolution layer")]
    title = f"cnnlab report: {os.path.basename(os.path.abspath(folder))}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def write_report(run, path, image=None, top_k=3):
    """Write build_report's page to `path` (folders created); returns the path."""
    text = build_report(run, image, top_k)
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
