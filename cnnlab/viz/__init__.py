"""Pictures of what a CNN does, drawn with matplotlib (the optional extra: pip install cnnlab[viz]).

Every function returns a matplotlib Figure (shown inline in Jupyter) and with `path=` (a file name or a binary
file object) also saves it as a PNG, rendered with Agg: no display is needed. Importing cnnlab.viz needs no
matplotlib; drawing does, and says so (`require_matplotlib()` checks first: an ImportError naming
`pip install cnnlab[viz]`).

- `feature_maps(model, x)`: what every convolution layer outputs for an image.
- `filters(conv_or_weight)`: the kernels a layer has learned (colour for RGB first layers).
- `history(run_dir)`: loss and accuracy curves of a run, training against validation.
- `confusion_matrix(run_dir)`: the run's confusion matrix.
- `filter_response(image, names)`: the classical kernels of `cnnlab.filters` at work on an image.
"""
from ._figure import matplotlib as require_matplotlib
from .confusion import confusion_matrix
from .curves import history, read_history
from .maps import capture, feature_maps
from .response import filter_response
from .weights import filters

__all__ = ["feature_maps", "capture", "filters", "history", "read_history", "confusion_matrix",
           "filter_response", "require_matplotlib"]
