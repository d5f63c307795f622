"""Layers that inherit __init__ report their own name in argument errors: `nn.Conv2d(3, 8, kernel=3)` says
"Conv2d.__init__() got an unexpected keyword argument 'kernel'" as in PyTorch, not "_Conv.__init__() ...", and
nn.MaxPool2d, nn.MSELoss, nn.Tanh, ... likewise name themselves (PyTorch names their private base, or Module, for
some). Python builds that message from the function's __qualname__, so such a class gets its own renamed copy of
the inherited function."""
import types


def own_init(cls):
    """Give cls a renamed copy of __init__ when cls is public and its __init__ carries another name (inherited,
    or made by a factory function).

    >>> class _Base:
    ...     def __init__(self, size):
    ...         self.size = size
    >>> class Layer(_Base):
    ...     pass
    >>> own_init(Layer)
    >>> Layer(kernel=3)
    Traceback (most recent call last):
    TypeError: Layer.__init__() got an unexpected keyword argument 'kernel'
    """
    name = f"{cls.__qualname__}.__init__"
    owner = next(c for c in cls.__mro__ if "__init__" in c.__dict__)  # object has one
    fn = owner.__dict__["__init__"]
    if cls.__name__.startswith("_") or not isinstance(fn, types.FunctionType) or fn.__qualname__ == name:
        return
    # the same code, globals, defaults and closure (so a zero-argument super() still means the base's class)
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__dict__.update(fn.__dict__)
    copy.__doc__, copy.__module__ = fn.__doc__, fn.__module__
    copy.__qualname__ = name
    copy.__wrapped__ = fn
    cls.__init__ = copy
