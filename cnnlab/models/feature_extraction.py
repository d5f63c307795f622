"""Intermediate feature maps by module path: feature_extractor(model, return_nodes), like torchvision's
create_feature_extractor for nodes that are modules ("layer1", "features.3", "layer1.0.relu").

torchvision traces the forward into a graph; here forward hooks on the named modules collect their outputs
while the model's own forward runs, and the forward stops as soon as the last one is in hand. A module called
more than once in a forward (ResNet's shared `relu`) is named as torchvision names its calls: "layer1.0.relu"
for the first call, "layer1.0.relu_1" for the second.
"""
import collections
import re

from .. import nn

__all__ = ["feature_extractor", "create_feature_extractor", "FeatureExtractor"]

_CALL_SUFFIX = re.compile(r"^(.*)_(\d+)$")


class _Collected(Exception):
    """Raised by the last hook: every requested output is in hand, the rest of the forward is not needed."""


class FeatureExtractor(nn.Module):
    """Runs `model` and returns {output name: tensor} for the requested modules' outputs (in return_nodes'
    order). The model's children are this module's children, so state_dict keys are the model's."""

    def __init__(self, model, return_nodes):
        super().__init__()
        for name, child in model.named_children():
            self.add_module(name, child)
        object.__setattr__(self, "_model", model)  # not a child: its parameters are already registered above
        self.return_nodes = collections.OrderedDict(return_nodes)
        self._wanted = {}  # module -> {call index: output name}
        modules = dict(model.named_modules())
        for node, out_name in self.return_nodes.items():
            path, call = node, 0
            if path not in modules:
                match = _CALL_SUFFIX.match(node)
                if match and match.group(1) in modules:
                    path, call = match.group(1), int(match.group(2))
                else:
                    available = [n for n in modules if n]
                    shown = ", ".join(available[:12]) + (", ..." if len(available) > 12 else "")
                    raise ValueError(f"feature_extractor: return_nodes must name modules of the model (a path "
                                     f"such as 'layer1.0.conv1', '_1' for a second call). Got node={node!r}; "
                                     f"modules: {shown}.")
            self._wanted.setdefault(modules[path], {})[call] = out_name
        for module in self._wanted:
            module.register_forward_hook(self._hook)
        self._run = None

    def _hook(self, module, inputs, output):
        run = self._run
        if run is None:  # the model running on its own, outside this extractor
            return
        call = run["calls"][id(module)] = run["calls"].get(id(module), -1) + 1
        name = self._wanted[module].get(call)
        if name is not None:
            run["out"][name] = output
            if len(run["out"]) == len(self.return_nodes):
                raise _Collected

    def forward(self, *args, **kwargs):
        self._run = {"calls": {}, "out": {}}
        try:
            self._model(*args, **kwargs)
        except _Collected:
            pass
        finally:
            run, self._run = self._run, None
        missing = [n for n in self.return_nodes.values() if n not in run["out"]]
        if missing:
            raise ValueError(f"feature_extractor: these nodes were not reached by the forward pass. Got "
                             f"missing={missing}.")
        return collections.OrderedDict((name, run["out"][name]) for name in self.return_nodes.values())


def feature_extractor(model, return_nodes):
    """A module returning the outputs of named submodules of `model` as a dict. Matches
    torchvision.models.feature_extraction.create_feature_extractor for nodes that are modules.

    Args:
        model (nn.Module): the network (its modules are shared, not copied).
        return_nodes (list of str, or dict {module path: output name}): the modules whose outputs to return;
            'name_1' is the second call of a module used twice in one forward.

    Returns:
        FeatureExtractor: calling it returns an OrderedDict {output name: tensor}.

    Raises:
        ValueError: a node names no module of the model.

    >>> import cnnlab
    >>> from cnnlab import models
    >>> net = models.resnet18()
    >>> body = feature_extractor(net, {"layer2": "c3", "layer4": "c5"})
    >>> {k: tuple(v.shape) for k, v in body(cnnlab.zeros(1, 3, 64, 64)).items()}
    {'c3': (1, 128, 8, 8), 'c5': (1, 512, 2, 2)}
    """
    if isinstance(return_nodes, (list, tuple)):
        return_nodes = [(n, n) for n in return_nodes]
    elif isinstance(return_nodes, dict):
        return_nodes = list(return_nodes.items())
    else:
        raise TypeError(f"feature_extractor: return_nodes must be a list of module paths or a dict {{path: name}}. "
                        f"Got {type(return_nodes).__name__}.")
    return FeatureExtractor(model, return_nodes)


def create_feature_extractor(model, return_nodes=None, train_return_nodes=None, eval_return_nodes=None, **kwargs):
    """torchvision's name for feature_extractor (one set of nodes for train and eval mode)."""
    nodes = return_nodes if return_nodes is not None else (train_return_nodes or eval_return_nodes)
    return feature_extractor(model, nodes)
