"""A registry of model builders, as torchvision.models': list_models(), get_model(name, **kwargs),
get_model_builder(name), get_model_weights(name), plus describe(name) and input_shape(name) for the CLI."""
import fnmatch

_BUILDERS = {}


def register_model(name, description, input_shape=None, weights=None):
    """Decorator: make a builder function available as get_model(name).

    Args:
        name (str): the registry name (lower case, words joined by '_'; '-' is accepted when looking up).
        description (str): one line for `cnnlab models`.
        input_shape (tuple (C, H, W), default None): the input the model is built for with default arguments.
        weights (a WeightsEnum class, default None): the pretrained weights the builder's `weights=` takes.
    """
    def wrap(fn):
        _BUILDERS[name] = (fn, description, None if input_shape is None else tuple(input_shape), weights)
        return fn
    return wrap


def list_models(module=None, include=None, exclude=None):
    """The names get_model accepts, sorted. Matches torchvision.models.list_models: `module` keeps the models
    defined in that module (or package), `include`/`exclude` are shell-style patterns (a string or a list).

    >>> list_models(include="le*")
    ['lecture_cnn', 'lenet5']
    """
    names = {k for k, v in _BUILDERS.items()
             if module is None or v[0].__module__ == module.__name__
             or v[0].__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        patterns = [include] if isinstance(include, str) else include
        names = {n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)}
    if exclude:
        patterns = [exclude] if isinstance(exclude, str) else exclude
        names = {n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)}
    return sorted(names)


def get_model_builder(name):
    """The builder function registered as `name`."""
    return _lookup(name)[0]


def get_model_weights(name):
    """The weights class (e.g. ResNet18_Weights) of a registered model, by name or builder."""
    if callable(name):
        found = [v[3] for v in _BUILDERS.values() if v[0] is name]
        if not found:
            raise ValueError(f"get_model_weights: {getattr(name, '__name__', name)!r} is not a registered builder.")
        weights = found[0]
    else:
        weights = _lookup(name)[3]
    if weights is None:
        raise ValueError(f"get_model_weights: this model has no pretrained weights. Got name={name!r}.")
    return weights


def describe(name):
    """The one-line description of a registered model.

    >>> describe("lenet5")
    'LeNet-5 for 1x28x28 digits (ReLU, max pooling; 61,706 parameters)'
    """
    return _lookup(name)[1]


def input_shape(name):
    """The (C, H, W) input a registered model is built for with default arguments (None if not declared).

    >>> input_shape("lecture-cnn")
    (3, 32, 32)
    """
    return _lookup(name)[2]


def canonical_name(name):
    """The registry's spelling of a model name: case and '-' versus '_' do not matter.

    >>> canonical_name("Lecture-CNN")
    'lecture_cnn'
    """
    _lookup(name)
    return _normalise(name)


def get_model(name, **kwargs):
    """Build a registered model by name; keyword arguments go to its builder.

    >>> from cnnlab import models
    >>> model = models.get_model("lenet5", num_classes=10)
    >>> sum(p.numel() for p in model.parameters())
    61706
    """
    return _lookup(name)[0](**kwargs)


def _normalise(name):
    return str(name).strip().lower().replace("-", "_")


def _lookup(name):
    key = _normalise(name)
    if key not in _BUILDERS:
        raise ValueError(f"get_model: unknown model. Got name={name!r}; available: {', '.join(list_models())}.")
    return _BUILDERS[key]


def builder_parameters(name):
    """The keyword arguments a registered model's builder accepts (a tuple of names).

    >>> "input_size" in builder_parameters("lenet5")
    True
    """
    import inspect
    return tuple(inspect.signature(_lookup(name)[0]).parameters)
