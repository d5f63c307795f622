"""What the `cnnlab` commands share: the one-line CLIError, run folders (config.json + checkpoint.pth), data
given by name, the model check against the data, and strict JSON output.

>>> import io
>>> buf = io.StringIO()
>>> write_json({"acc": float("nan"), "per_class": [1.0, float("inf")]}, buf)
>>> buf.getvalue().replace("\\n", "").replace(" ", "")
'{"acc":null,"per_class":[1.0,null]}'
"""
import json
import math
import os

import cnnlab
from .data import specs
from .train import load_checkpoint

CHECKPOINT, HISTORY, METRICS, CONFIG = "checkpoint.pth", "history.csv", "metrics.json", "config.json"
RUN_FILES = (CONFIG, CHECKPOINT, HISTORY, METRICS)
DOWNLOADABLE = ("mnist", "fashion-mnist", "cifar10")


class CLIError(Exception):
    """An error to report as one line and exit code 2: a bad argument or a missing file."""


def say(*parts):
    print(*parts, flush=True)


def one_line(error):
    """An exception's message on one line (a multi-line message, such as load_state_dict's, joined with spaces)."""
    text = str(error) if str(error) else type(error).__name__
    if isinstance(error, KeyError) and len(error.args) == 1:
        text = f"missing key {error.args[0]!r}"
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


# ---- strict JSON: NaN and infinity are not JSON, they are written as null ------------------------------------
def json_safe(value):
    """value with every non-finite float replaced by None, and NumPy scalars and arrays as plain Python."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(value, f):
    """json.dump into the open file f, strict: NaN/inf written as null (allow_nan=False guards the rest)."""
    json.dump(json_safe(value), f, indent=2, allow_nan=False)


# ---- models and run folders -----------------------------------------------------------------------------------
def model_kwargs(name, info):
    """The builder arguments that fit a model to the data: channels, classes, and the image size where the
    builder takes one (lenet5 on 32x32 images becomes the unpadded 1998 layout)."""
    from . import models
    takes = models.builder_parameters(name)
    kwargs = {"num_classes": len(info["classes"])}
    if "in_channels" in takes or info["channels"] != 3:  # the zoo's ImageNet models take 3 channels only
        kwargs["in_channels"] = info["channels"]
    h, w = info["size"]
    if h == w and "input_size" in takes:
        kwargs["input_size"] = h
    return kwargs


def build_model(config):
    from . import models
    return models.get_model(config["model"], **config.get("model_kwargs", model_kwargs(config["model"],
                                                                                       config["data_info"])))


def check_fits(config, data_info=None, data=None):
    """Build the run's model and push two zero images of the data's shape through it (eval mode, no
    gradients); a model that does not fit the data is a CLIError naming both shapes. Returns the model."""
    from . import models
    name, info = config["model"], data_info or config["data_info"]
    c, (h, w), n = info["channels"], info["size"], len(info["classes"])
    expected = models.input_shape(name)
    wants = "x".join(map(str, expected)) if expected else "another shape"
    where = f"{data or config['data']} has {c}x{h}x{w} images"
    try:
        model = build_model(config)
        model.eval()
        with cnnlab.no_grad():
            out = model(cnnlab.zeros(2, c, h, w))
        model.train()
    except (ValueError, TypeError, RuntimeError, IndexError) as e:
        why = (str(e).splitlines()[0] if str(e) else type(e).__name__).rstrip(".")
        raise CLIError(f"model {name} does not fit the data: it expects {wants} input and {where} "
                       f"({why}). 'cnnlab models' lists each model's input.") from None
    if tuple(out.shape) != (2, n):
        raise CLIError(f"model {name} does not fit the data: it gives {tuple(out.shape)[1:]} outputs per image and "
                       f"{data or config['data']} has {n} classes.")
    return model


def read_config(folder, info_keys=("channels", "size", "classes")):
    """The run's config.json, checked to hold what the commands read (model, data, data_info's info_keys)."""
    path = os.path.join(folder, CONFIG)
    try:
        with open(path) as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise CLIError(f"cannot read {path} ({type(e).__name__}: {one_line(e)}).") from None
    info = config.get("data_info") if isinstance(config, dict) else None
    if not isinstance(config, dict) or not isinstance(config.get("model"), str) or \
            not isinstance(config.get("data"), str) or not isinstance(info, dict) or \
            not set(info_keys) <= set(info):
        raise CLIError(f"{path} is not a cnnlab run's config: it needs 'model', 'data' and 'data_info' "
                       f"({', '.join(info_keys)}), as 'cnnlab train' writes it.")
    return config


def load_run(path, info_keys=("channels", "size", "classes")):
    """(config, model with the checkpoint's weights) from a run folder or the checkpoint file in it; config's
    data_info must hold info_keys."""
    if not os.path.exists(path):
        raise CLIError(f"--checkpoint: no such run folder or checkpoint file: {path}")
    folder, ckpt = (path, os.path.join(path, CHECKPOINT)) if os.path.isdir(path) else (os.path.dirname(path) or ".",
                                                                                        path)
    for p in (os.path.join(folder, CONFIG), ckpt):
        if not os.path.exists(p):
            raise CLIError(f"--checkpoint: no {os.path.basename(p)} in {folder}; give a folder written by "
                           f"'cnnlab train --out'.")
    config = read_config(folder, info_keys)
    try:
        model = build_model(config)
    except (ValueError, TypeError, KeyError) as e:
        raise CLIError(f"--checkpoint: cannot build the model {config['model']!r} that {os.path.join(folder, CONFIG)} "
                       f"names ({one_line(e).rstrip('.')}).") from None
    try:
        load_checkpoint(ckpt, model, restore_rng=False)
    except (ValueError, KeyError, TypeError, OSError, RuntimeError) as e:  # load_state_dict's lists every key
        raise CLIError(f"--checkpoint: cannot load {ckpt} ({one_line(e).rstrip('.')}).") from None
    return config, model


def expand_spec(spec):
    """A data spec with '~' in its folder expanded (the shell leaves 'mnist:~/data' as it is).

    >>> expand_spec("mnist-sample")
    'mnist-sample'
    """
    kind, sep, folder = str(spec).partition(":")
    return kind + sep + (os.path.expanduser(folder) if folder else "")


def load_data(spec, download=False, **kwargs):
    """load_spec with the spec checked first: a bad spec or a missing folder or file is a CLIError; files the
    user can fetch with --download say so."""
    try:
        kind, _, folder = spec.partition(":")
        if download and kind in specs.KINDS and kind not in DOWNLOADABLE:
            raise CLIError(f"--download applies to {', '.join(k + ':DIR' for k in DOWNLOADABLE)}; {spec} is "
                           f"{'bundled with cnnlab' if kind == 'mnist-sample' else 'your own images'}.")
        if download and kind in DOWNLOADABLE and folder and not os.path.exists(folder):
            os.makedirs(folder)  # the place to download into
        specs.parse_spec(spec)
        return specs.load_spec(spec, download=download, **kwargs)
    except (FileNotFoundError, ValueError) as e:
        text = one_line(e)
        if text.startswith("data:"):
            if kind in DOWNLOADABLE and text.startswith("data: no such folder"):
                text += " Pass --download to fetch the files into it."
            raise CLIError(f"--data: {text[6:]}") from None
        if isinstance(e, FileNotFoundError):
            if "download=True" in text:  # the Python argument, said as the command line's option
                text = text.replace("Pass download=True", "Pass --download").replace("download=True", "--download")
            raise CLIError(text) from None
        raise


def report(result, classes, confusion=True):
    """Print evaluate()'s result: accuracy and loss, accuracy per class, and (confusion=True) the confusion
    matrix, rows the true class and columns the predicted one."""
    say(f"validation accuracy: {100 * result['accuracy']:.2f}% on {result['count']} images"
        + (f", loss {result['loss']:.4f}" if result["loss"] is not None else ""))
    say("per-class accuracy:")
    width = max(12, *(len(str(c)) for c in classes))
    for name, acc in zip(classes, result["per_class_accuracy"]):
        say(f"  {name:<{width}} {'n/a' if acc != acc else f'{100 * acc:6.2f}%'}")
    if confusion:  # columns numbered, rows too (and named where the name is not the number)
        matrix = result["confusion_matrix"]
        rows = [str(name) if str(name) == str(i) else f"{i} {name}" for i, name in enumerate(classes)]
        first = max(len(r) for r in rows)
        cell = max(4, len(str(int(matrix.max(initial=0))))) + 1
        say("confusion matrix (rows: true class, columns: predicted):")
        say("  " + " " * first + "".join(f"{i:>{cell}}" for i in range(len(classes))))
        for row, counts in zip(rows, matrix):
            say(f"  {row:<{first}}" + "".join(f"{int(v):>{cell}}" for v in counts))
