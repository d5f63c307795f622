"""Pretrained weights the torchvision way: `Weights`, the enum-like `*_Weights` classes, the torch hub cache.

Each builder takes `weights=None | "IMAGENET1K_V1" | "DEFAULT" | ResNet18_Weights.IMAGENET1K_V1`. A weights
value carries the URL torchvision downloads from, the metadata torchvision publishes (num_params, _ops,
_file_size, min_size, the ImageNet categories, accuracies) and `transforms()`, the preprocessing the weights
expect. The metadata come from `weights_meta.json` (rebuilt from torchvision by tools/make_weights_meta.py).

Files live in torch hub's cache, `$TORCH_HOME/hub/checkpoints` (default `~/.cache/torch/hub/checkpoints`), so a
file torchvision already downloaded is reused. A download checks the SHA-256 prefix in the file name
(`resnet18-f37072fd.pth`); files are read by `cnnlab.load`, which never runs code from a file.
"""
import enum
import functools
import inspect
import json
import os
import re
import warnings

from ..data.datasets.download import fetch
from ..io import load
from ._presets import ImageClassification, imagenet_categories
from .registry import register_model

__all__ = ["Weights", "WeightsEnum", "weights_enum", "get_weight", "hub_dir", "load_state_dict_from_url",
           "handle_legacy_interface", "overwrite_named_param", "define_builder"]

_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")  # torch.hub's rule: 'resnet18-f37072fd.pth' -> 'f37072fd'


class Weights:
    """One set of pretrained weights: where the file is, the preprocessing it expects, and its metadata.

    Attributes:
        url (str): the file torchvision downloads (its name is the cache file name).
        transforms (callable): builds the preprocessing, e.g. ImageClassification(crop_size=224).
        meta (dict): num_params, _ops (GFLOPs), _file_size (MB), min_size, categories, _metrics, recipe, ...
    """

    def __init__(self, url, transforms, meta):
        self.url, self.transforms, self.meta = url, transforms, meta

    @property
    def file_name(self):
        """The file's name in the cache, e.g. 'resnet18-f37072fd.pth'."""
        return os.path.basename(self.url)

    def __eq__(self, other):
        if not isinstance(other, Weights):
            return NotImplemented
        return self.url == other.url and self.meta == other.meta

    def __hash__(self):
        return hash(self.url)

    def __repr__(self):
        return f"Weights(url={self.url!r}, transforms={self.transforms!r}, meta={{...}})"


class WeightsEnum(enum.Enum):
    """The base of every `*_Weights` class: members are Weights values, `DEFAULT` is an alias of the best one.

    >>> ResNet18_Weights = weights_enum("ResNet18_Weights")
    >>> ResNet18_Weights.DEFAULT, ResNet18_Weights["IMAGENET1K_V1"].meta["num_params"]
    (ResNet18_Weights.IMAGENET1K_V1, 11689512)
    >>> ResNet18_Weights.IMAGENET1K_V1.file_name
    'resnet18-f37072fd.pth'
    """

    @classmethod
    def verify(cls, obj):
        """None, a member, or a member's name ('DEFAULT', 'IMAGENET1K_V1', 'ResNet18_Weights.DEFAULT') -> member."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj[len(cls.__name__) + 1:] if obj.startswith(cls.__name__ + ".") else obj
            if name in cls.__members__:
                return cls[name]
            raise ValueError(f"{cls.__name__}: unknown weights. Got weights={obj!r}; available: "
                             f"{', '.join(cls.__members__)}.")
        raise TypeError(f"{cls.__name__}: weights must be None, a {cls.__name__} member or its name. "
                        f"Got weights of type {type(obj).__name__}.")

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta

    @property
    def file_name(self):
        return self.value.file_name

    def get_state_dict(self, progress=True, model_dir=None, check_hash=True, **kwargs):
        """The weights' state_dict, from the hub cache (downloading the file once if it is not there)."""
        return load_state_dict_from_url(self.url, model_dir=model_dir, progress=progress, check_hash=check_hash,
                                        what=repr(self))

    def __repr__(self):
        return f"{type(self).__name__}.{self.name}"


_ENUMS = {}


@functools.lru_cache(maxsize=None)
def _table():
    with open(os.path.join(os.path.dirname(__file__), "weights_meta.json"), encoding="utf-8") as f:
        return json.load(f)


def _weights_from_entry(entry):
    meta = dict(entry["meta"])
    if meta.get("categories") == "imagenet1k":
        meta["categories"] = imagenet_categories()
    if "min_size" in meta:
        meta["min_size"] = tuple(meta["min_size"])
    spec = dict(entry["transforms"])
    if spec.pop("name") != "ImageClassification":
        raise ValueError(f"weights_enum: unknown preset {entry['transforms']['name']!r}.")
    return Weights(entry["url"], functools.partial(ImageClassification, **spec), meta)


def weights_enum(name, module=None):
    """The `*_Weights` class `name` ('ResNet18_Weights'), built once from the metadata table.

    >>> weights_enum("AlexNet_Weights").IMAGENET1K_V1.meta["_ops"]
    0.714
    """
    if name not in _ENUMS:
        table = _table()
        if name not in table:
            raise ValueError(f"weights_enum: no such weights. Got name={name!r}.")
        entries = table[name]
        members = [(k, _weights_from_entry(v)) for k, v in entries.items() if isinstance(v, dict)]
        by_name = dict(members)
        members += [(k, by_name[v]) for k, v in entries.items() if isinstance(v, str)]  # equal value: an alias
        cls = WeightsEnum(name, members, module=module or __name__, qualname=name)
        _ENUMS[name] = cls
    return _ENUMS[name]


def get_weight(name):
    """A weights member by its full name, as torchvision.models.get_weight.

    >>> get_weight("ResNet18_Weights.IMAGENET1K_V1").url
    'https://download.pytorch.org/models/resnet18-f37072fd.pth'
    """
    enum_name, _, member = str(name).partition(".")
    if not member or enum_name not in _table():
        raise ValueError(f"get_weight: expected '<Model>_Weights.<NAME>' naming known weights, e.g. "
                         f"'ResNet18_Weights.IMAGENET1K_V1'. Got name={name!r}.")
    return weights_enum(enum_name).verify(member)


def hub_dir():
    """torch hub's folder: $TORCH_HOME/hub, else $XDG_CACHE_HOME/torch/hub, else ~/.cache/torch/hub."""
    home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    return os.path.join(os.path.expanduser(home), "hub")


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=True, *, what=None):
    """Read the weights file `url` names from the hub cache, downloading it there first if it is missing.
    Matches torch.hub.load_state_dict_from_url, except that loading is always weights-only.

    Args:
        url (str): the file's URL; its base name (or file_name) is the cache file's name.
        model_dir (str, default None): the cache folder; default hub_dir()/checkpoints.
        progress (bool, default True): a tqdm progress bar while downloading, when tqdm is installed.
        check_hash (bool, default False): check a download against the SHA-256 prefix in the file name
            ('resnet18-f37072fd.pth' -> 'f37072fd').

    Raises:
        DownloadError: the file is not in the cache and cannot be downloaded (the message names the file and
            the folder to put it in).
        ChecksumError: the download's SHA-256 does not start with the prefix in its name (nothing is written).
        CheckpointError: the file is not a weights file, or refers to code.
    """
    folder = model_dir if model_dir is not None else os.path.join(hub_dir(), "checkpoints")
    name = file_name or os.path.basename(url.split("?")[0])
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        match = _HASH_IN_NAME.search(name) if check_hash else None
        fetch(url, path, sha256_prefix=match.group(1) if match and match.group(1) else None,
              what=what or name, progress=progress,
              manual_hint=f"{name} in the folder {folder}")
    return load(path, map_location=map_location)


def overwrite_named_param(kwargs, param, new_value, builder="model"):
    """Set kwargs[param] to what the weights need, refusing a different value the caller asked for."""
    if param in kwargs and kwargs[param] != new_value:
        raise ValueError(f"{builder}: these weights need {param}={new_value!r}. Got {param}={kwargs[param]!r}.")
    kwargs[param] = new_value


def _sequence_to_str(names):
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def handle_legacy_interface(**weights):
    """Decorator: let a builder take torchvision's deprecated `pretrained=True/False` (and its keyword-only
    arguments positionally), with torchvision's warnings. `weights=("pretrained", default)` where default is a
    member or a function of the keyword arguments returning one."""
    def outer(builder):
        params = inspect.signature(builder).parameters
        kw_only = [n for n, p in params.items() if p.kind == p.KEYWORD_ONLY]
        n_positional = len(params) - len(kw_only) - sum(p.kind == p.VAR_KEYWORD for p in params.values())

        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            args, extra = args[:n_positional], args[n_positional:]
            if extra:
                named = dict(zip(kw_only, extra))
                warnings.warn(f"Using {_sequence_to_str(tuple(named))} as positional parameter(s) is deprecated "
                              "since 0.13 and may be removed in the future. Please use keyword parameter(s) instead.")
                kwargs.update(named)
            for weights_param, (pretrained_param, default) in weights.items():
                value = kwargs.get(weights_param, _MISSING)
                if ((weights_param not in kwargs and pretrained_param not in kwargs) or value is None
                        or isinstance(value, WeightsEnum) or (isinstance(value, str) and value != "legacy")):
                    continue
                positional = value is not _MISSING  # pretrained passed positionally lands on `weights`
                pretrained = kwargs.pop(weights_param) if positional else kwargs[pretrained_param]
                kwargs[pretrained_param] = pretrained
                chosen = (default(kwargs) if callable(default) and not isinstance(default, WeightsEnum)
                          else default) if pretrained else None
                if pretrained and not isinstance(chosen, WeightsEnum):
                    raise ValueError(f"No weights available for model {builder.__name__}")
                if not positional:
                    warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed "
                                  f"in the future, please use '{weights_param}' instead.")
                msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 "
                       f"and may be removed in the future. The current behavior is equivalent to passing "
                       f"`{weights_param}={chosen}`.")
                if pretrained:
                    msg += (f" You can also use `{weights_param}={type(chosen).__name__}.DEFAULT` to get the most "
                            "up-to-date weights.")
                warnings.warn(msg)
                del kwargs[pretrained_param]
                kwargs[weights_param] = chosen
            return builder(*args, **kwargs)
        return wrapper
    return outer


_MISSING = object()


def define_builder(name, title, weights_cls, construct, module, kwargs_doc, input_shape=(3, 224, 224)):
    """A registered builder `name(*, weights=None, progress=True, **kwargs)` as torchvision's: it accepts weights
    as a member or its name, the legacy `pretrained=` keyword, and calls construct(weights, progress, **kwargs)."""
    def builder(*, weights=None, progress=True, **kwargs):
        return construct(weights_cls.verify(weights), progress, **kwargs)

    builder.__name__ = builder.__qualname__ = name
    builder.__module__ = module
    builder.__doc__ = (f"{title}. Matches torchvision.models.{name}.\n\n    Args:\n        weights "
                       f"({weights_cls.__name__}, a member's name such as 'DEFAULT', or None; default None): "
                       f"pretrained weights.\n        progress (bool, default True): a progress bar while "
                       f"downloading.\n        **kwargs: {kwargs_doc}\n")
    legacy = handle_legacy_interface(weights=("pretrained", weights_cls.IMAGENET1K_V1))(builder)
    params = weights_cls.DEFAULT.meta["num_params"]
    shape = "x".join(map(str, input_shape))
    return register_model(name, f"{title} for {shape} ImageNet images ({params:,} parameters)", input_shape,
                          weights=weights_cls)(legacy)
