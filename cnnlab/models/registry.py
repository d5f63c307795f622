"""A registry of model builders: list_models(), get_model(name, **kwargs), describe(name)."""
_BUILDERS = {}


def register_model(name, description):
    """Decorator: make a builder function available as get_model(name)."""
    def wrap(fn):
        _BUILDERS[name] = (fn, description)
        return fn
    return wrap


def list_models():
    """The names get_model accepts, sorted."""
    return sorted(_BUILDERS)


def describe(name):
    return _lookup(name)[1]


def get_model(name, **kwargs):
    """Build a registered model by name; keyword arguments go to its builder.

    >>> from cnnlab import models
    >>> model = models.get_model("lenet5", num_classes=10)
    >>> sum(p.numel() for p in model.parameters())
    61706
    """
    return _lookup(name)[0](**kwargs)


def _lookup(name):
    if name not in _BUILDERS:
        raise ValueError(f"get_model: unknown model. Got name={name!r}; available: {', '.join(list_models())}.")
    return _BUILDERS[name]
