"""Module, the containers and every layer (`cnnlab.nn.Conv2d`, ...): thin classes over cnnlab.nn.functional."""
from .hooks import RemovableHandle  # noqa: F401
from .module import Module  # noqa: F401
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .lazy import *  # noqa: F401,F403
from .channelshuffle import *  # noqa: F401,F403
from .ops_misc import *  # noqa: F401,F403

from . import (activation, batchnorm, channelshuffle, container, conv, distance, dropout, flatten, fold,  # noqa: E402
               lazy, linear, loss, normalization, ops_misc, padding, pixelshuffle, pooling, upsampling)

__all__ = ["Module", "RemovableHandle"] + [
    name for mod in (container, linear, conv, pooling, activation, dropout, batchnorm, normalization, flatten,
                     padding, upsampling, fold, loss, pixelshuffle, distance, channelshuffle, ops_misc, lazy)
    for name in mod.__all__]
