"""Teaching errors: a model whose shapes do not fit fails before the layer runs, naming the layer by its path,
what it expects, what it got from which layer, and how to fix it.

    Linear 'classifier.1' expects in_features=9216 but the flattened output of 'features.12' has
    6 x 12 x 12 = 864 values; set in_features=864 or use nn.LazyLinear.

`shape_checks(model)` installs the checks for one or more forward passes (summary uses it; a trainer wraps its
first batch in it); `check_model(model, inputs)` runs one forward under no_grad with them.
"""
import contextlib

from .. import nn
from ..autograd import no_grad
from ..errors import ShapeError
from ..tensor import Tensor

__all__ = ["shape_checks", "check_model", "checked_forward"]


def _fmt(shape):
    return " x ".join(str(s) for s in shape)


class _Watcher:
    """Forward pre-hooks that check Linear, Conv and BatchNorm inputs, and forward hooks that remember the last
    outputs (to say which layer produced a wrong-sized input)."""

    def __init__(self, model):
        self.names = {}
        for name, m in model.named_modules():
            self.names.setdefault(id(m), name or type(m).__name__)
        self.last = []  # (name, output shape) of the layers that finished, most recent last

    def pre(self, module, args):
        x = args[0] if args else None
        if isinstance(x, Tensor):
            problem = _problem(module, x, self)
            if problem:
                raise ShapeError(problem)

    def post(self, module, args, output):
        if isinstance(output, Tensor) and not module._modules:  # a leaf layer: 'features.12', not 'features'
            self.last.append((self.names.get(id(module), type(module).__name__), tuple(output.shape)))
            del self.last[:-64]

    def source(self, x, flattened):
        """'the flattened output of 'features.12' has 6 x 12 x 12 = 864 values' or a plainer description."""
        want = tuple(x.shape)
        for name, shape in reversed(self.last):
            if flattened and len(shape) >= 3 and len(want) >= 1 and _prod(shape[1:]) == want[-1]:
                return f"the flattened output of '{name}' has {_fmt(shape[1:])} = {want[-1]} values"
            if not flattened and shape == want:
                return f"the output of '{name}' has {want[1] if len(want) > 1 else want[0]} channels"
        if flattened:
            return f"its input has {want[-1]} features (input shape {want})"
        return f"its input has {want[1] if len(want) > 1 else want[0]} channels (input shape {want})"


def _prod(shape):
    out = 1
    for s in shape:
        out *= s
    return out


def _problem(module, x, watcher):
    name = watcher.names.get(id(module), type(module).__name__)
    cls = type(module).__name__
    if isinstance(module, nn.Linear) and not _lazy(module):
        if x.ndim >= 1 and x.shape[-1] != module.in_features:
            src = watcher.source(x, flattened=True)
            return (f"{cls} '{name}' expects in_features={module.in_features} but {src}; set "
                    f"in_features={x.shape[-1]} or use nn.LazyLinear.")
    elif isinstance(module, nn.modules.conv._ConvNd) and not _lazy(module):
        n = module._n
        if x.ndim in (n + 1, n + 2):
            channels = x.shape[-n - 1]
            if channels != module.in_channels:
                src = watcher.source(x, flattened=False)
                return (f"{cls} '{name}' expects in_channels={module.in_channels} but {src}; set "
                        f"in_channels={channels} or use nn.Lazy{cls}.")
        else:
            return (f"{cls} '{name}' expects a {n + 2}-d (N, C, {', '.join('DHW'[3 - n:])}) input but got shape "
                    f"{tuple(x.shape)}" + (f" from '{watcher.last[-1][0]}'" if watcher.last else "") + ".")
    elif isinstance(module, nn.modules.batchnorm._NormBase) and not _lazy(module) and x.ndim >= 2:
        if x.shape[1] != module.num_features and (module.affine or module.track_running_stats):
            src = watcher.source(x, flattened=False)
            return (f"{cls} '{name}' expects num_features={module.num_features} but {src}; set "
                    f"num_features={x.shape[1]} or use nn.Lazy{cls}.")
    return None


def _lazy(module):
    return hasattr(module, "cls_to_become") and hasattr(module, "has_uninitialized_params") and \
        module.has_uninitialized_params()


@contextlib.contextmanager
def shape_checks(model):
    """Within the block, every Linear, Conv and BatchNorm layer of model checks its input before it runs and
    raises a ShapeError that names the layer by its path and says how to fix it.

    >>> import cnnlab, cnnlab.nn as nn
    >>> from cnnlab.inspect import shape_checks
    >>> net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.Linear(100, 10))
    >>> with shape_checks(net):
    ...     net(cnnlab.zeros(1, 1, 16, 16))
    Traceback (most recent call last):
    ...
    cnnlab.errors.ShapeError: Linear '2' expects in_features=100 but the flattened output of '0' has 6 x 12 x 12 = ...
    """
    watcher = _Watcher(model)
    handles = []
    try:
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(watcher.pre))
            handles.append(m.register_forward_hook(watcher.post))
        yield watcher
    finally:
        for h in handles:
            h.remove()


def check_model(model, inputs):
    """Run model(inputs) once under no_grad with shape_checks (for a trainer's first batch); returns the output.

    >>> import cnnlab, cnnlab.nn as nn
    >>> from cnnlab.inspect import check_model
    >>> check_model(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), cnnlab.zeros(3, 2, 2)).shape
    cnnlab.Size([3, 2])
    """
    with shape_checks(model), no_grad():
        return model(inputs)


def checked_forward(model, inputs, check=True):
    """model(inputs), with shape_checks when check is true: the call a trainer makes for its first batch, so that
    a model that does not fit fails naming the layer, and every other batch runs without hooks.

    >>> import cnnlab, cnnlab.nn as nn
    >>> from cnnlab.inspect import checked_forward
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(5, 2))
    >>> checked_forward(net, cnnlab.zeros(3, 4))
    Traceback (most recent call last):
    ...
    cnnlab.errors.ShapeError: Linear '1' expects in_features=5 but its input has 4 features (input shape (3, 4)); ...
    """
    if not check:
        return model(inputs)
    with shape_checks(model):
        return model(inputs)
