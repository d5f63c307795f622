"""Transfer learning on the command line: `cnnlab train --weights ... --freeze ...` and
`cnnlab predict --model NAME --weights ...`.

`--weights` is a name of the model's pretrained weights ('IMAGENET1K_V1', 'DEFAULT', read from torch hub's
cache as torchvision does) or the path of a weights file (a state_dict, or a checkpoint holding one under
'model' or 'state_dict'). The run's model is built for the data's classes; every pretrained tensor whose
shape fits is copied into it, and the tensors whose shape differs (the classifier head: fc,
classifier[-1], ...) keep their fresh initialisation: the head is replaced.

>>> split_prefixes("features, classifier.0")
['features', 'classifier.0']
"""
import os
import sys

from . import io as cio
from .cli_common import CLIError, one_line
from .data import TransformedDataset
from .data.datasets.folder import open_image, rgb_image
from .train import predict


def split_prefixes(text):
    """--freeze's comma-separated module path prefixes, blanks dropped."""
    return [p.strip() for p in str(text or "").split(",") if p.strip()]


def named_weights(model_name, spec):
    """The weights member `spec` names for the model (None when spec is a file path). A spec that is neither
    a member's name nor an existing file is a CLIError listing the names."""
    from . import models
    if os.path.isfile(os.path.expanduser(spec)):
        return None
    try:
        enum = models.get_model_weights(model_name)
    except ValueError:
        raise CLIError(f"--weights: {model_name} has no pretrained weights and {spec} is not a file; give the path "
                       f"of a weights file.") from None
    names = [m for m in enum.__members__] + ["DEFAULT"]
    if spec not in names:
        raise CLIError(f"--weights: expected one of {', '.join(dict.fromkeys(names))} or the path of a weights file. "
                       f"Got {spec!r} (no such file).")
    return enum.verify(spec)


def default_transforms(model_name, weights):
    """The preprocessing the weights expect: their own transforms(), or for a weights file the model's DEFAULT
    weights' (a file for a zoo model is most likely those weights, or fine-tuned from them); None if neither."""
    from . import models
    if weights is not None:
        return weights.transforms()
    try:
        return models.get_model_weights(model_name).DEFAULT.transforms()
    except ValueError:
        return None


def pretrained_state(model_name, spec, weights):
    """The state_dict of the weights (from the hub cache) or of the file spec."""
    if weights is not None:
        return weights.get_state_dict(progress=True)  # no network: one line naming the file and the folder
    path = os.path.expanduser(spec)
    try:
        state = cio.load(path)
    except (ValueError, TypeError, OSError, RuntimeError, KeyError) as e:
        raise CLIError(f"--weights: cannot read {path} ({one_line(e).rstrip('.')}).") from None
    for key in ("model", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state:
        raise CLIError(f"--weights: {path} holds no state_dict (a dict of tensors, or a checkpoint with one under "
                       f"'model' or 'state_dict'). Got {type(state).__name__}.")
    return state


def load_pretrained(model, state, what):
    """Copy every tensor of state whose name and shape fit into model; return the names kept fresh (the head).
    A model tensor the state lacks is a CLIError (those weights are for another architecture)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise CLIError(f"--weights: {what} does not fit this model: it lacks {len(missing)} of its "
                       f"{len(own)} tensors ({', '.join(missing[:3])}{', ...' * (len(missing) > 3)}).")
    head = [k for k in own if tuple(state[k].shape) != tuple(own[k].shape)]
    kept = {k: v for k, v in state.items() if k in own and k not in head}
    if len(head) > 4:  # more than a weight and bias or two: not a head, another architecture
        raise CLIError(f"--weights: {what} does not fit this model: {len(head)} tensors differ in shape "
                       f"({', '.join(head[:3])}, ...).")
    model.load_state_dict({**own, **kept})
    return head


def head_names(model_name, model):
    """The names of model's parameters that differ in shape from the model built with its default classes
    (the head a transfer run replaced)."""
    from . import models
    default = dict(models.get_model(model_name).named_parameters())
    return [n for n, p in model.named_parameters() if n not in default or tuple(default[n].shape) != tuple(p.shape)]


def freeze(model, prefixes, head=()):
    """Turn off requires_grad for the parameters under each module path prefix; return their names. 'features'
    on a model without a `features` module (ResNet, GoogLeNet) means every parameter but the head's. A prefix
    that names no parameter is a CLIError listing the model's top-level modules."""
    names = [n for n, _ in model.named_parameters()]
    frozen = []
    for prefix in prefixes:
        hit = [n for n in names if n == prefix or n.startswith(prefix + ".")]
        if not hit and prefix == "features" and head:
            hit = [n for n in names if n not in head]
        if not hit:
            tops = ", ".join(dict.fromkeys(n.split(".")[0] for n in names))
            raise CLIError(f"--freeze: no parameters under {prefix!r}; the model's modules are {tops}.")
        frozen += [n for n in hit if n not in frozen]
    for name, p in model.named_parameters():
        if name in frozen:
            p.requires_grad_(False)
    return frozen


def renormalised(train, val, info, preset):
    """Datasets whose images are normalised with the preset's mean and std instead of info's (the folder
    loader's 0.5/0.5): x' = (x * std + mean - mean') / std', per channel. info is updated for predict."""
    import numpy as np

    old_m, old_s = (np.asarray(info[k], np.float32).reshape(-1, 1, 1) for k in ("mean", "std"))
    new_m, new_s = (np.asarray(v, np.float32).reshape(-1, 1, 1) for v in (preset.mean, preset.std))
    scale, shift = old_s / new_s, (old_m - new_m) / new_s

    def fn(x):
        return x * scale + shift

    info["mean"], info["std"] = list(preset.mean), list(preset.std)
    return TransformedDataset(train, fn), TransformedDataset(val, fn)


def setup_transfer(args, model, n_classes):
    """Load --weights into the run's freshly built model (its head fitted to n_classes) and apply --freeze;
    returns a one-line summary."""
    weights = named_weights(args.model, args.weights)
    what = repr(weights) if weights is not None else os.path.expanduser(args.weights)
    head = load_pretrained(model, pretrained_state(args.model, args.weights, weights), what)
    frozen = freeze(model, split_prefixes(args.freeze), head) if args.freeze else []
    heads = sorted({k.rsplit(".", 1)[0] for k in head})
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return (f"weights {what}; new head {', '.join(heads) or '(none: the pretrained head fits)'} for {n_classes} "
            f"classes; {len(frozen)} frozen tensors, {trainable:,} of {total:,} parameters trained")


def cmd_predict_pretrained(args, say):
    """cnnlab predict --model NAME --weights W IMAGE...: the top-k classes of each image by the weights'
    categories (ImageNet's 1,000 names), prepared with the weights' transforms()."""
    from . import models
    try:
        name = models.canonical_name(args.model)
    except ValueError:
        raise CLIError(f"--model: unknown model {args.model!r}; 'cnnlab models' lists them.") from None
    if not args.weights:
        raise CLIError("--model needs --weights (a weights name such as IMAGENET1K_V1, or a file); or give "
                       "--checkpoint RUN instead.")
    weights = named_weights(name, args.weights)
    try:
        source = weights if weights is not None else models.get_model_weights(name).DEFAULT
    except ValueError:
        raise CLIError(f"--model: {name} has no published weights, so no class names or preprocessing to predict "
                       f"with; train it with 'cnnlab train' and use --checkpoint RUN.") from None
    preset = source.transforms()
    categories = source.meta["categories"]
    model = models.get_model(name, num_classes=len(categories))
    what = repr(weights) if weights is not None else args.weights
    if load_pretrained(model, pretrained_state(name, args.weights, weights), what):
        raise CLIError(f"--weights: {what} is not a {len(categories)}-class {name}: its head does not fit "
                       f"{source!r}'s categories; for a run trained by 'cnnlab train' use --checkpoint RUN.")
    model.eval()
    k = min(args.top_k, len(categories))
    failed = 0
    for path in args.images:
        try:
            x = preset(rgb_image(open_image(path, "predict")))[None]
        except (FileNotFoundError, ValueError) as e:
            print(f"cnnlab predict: {one_line(e)}", flush=True, file=sys.stderr)  # this file only; go on
            failed += 1
            continue
        _, top, top_p = predict(model, x, k=k)
        say(f"{path}: " + ", ".join(f"{categories[c]} {100 * p:.1f}%" for c, p in zip(top[0], top_p[0])))
    return 2 if failed else 0
