"""A registry of model builders: list_models(), get_model(name, **kwargs), describe(name), input_shape(name)."""
_BUILDERS = {}


def register_model(name, description, input_shape=None):
    """Decorator: make a builder function available as get_model(name).

    Args:
        name (str): the registry name (lower case, words joined by '_'; '-' is accepted when looking up).
        description (str): one line for `cnnlab models`.
        input_shape (tuple (C, H, W), default None): the input the model is built for with default arguments.
    """
    def wrap(fn):
        _BUILDERS[name] = (fn, description, None if input_shape is None else tuple(input_shape))
        return fn
    return wrap


def list_models():
    """The names get_model accepts, sorted."""
    return sorted(_BUILDERS)


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
