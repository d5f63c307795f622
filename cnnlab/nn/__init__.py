"""Neural-network building blocks: layers as modules (`nn.Conv2d`, `nn.Sequential`, ...), `nn.init`, and the
stateless ops in `cnnlab.nn.functional`.

>>> import cnnlab, cnnlab.nn as nn
>>> model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
...                       nn.Linear(8, 2))
>>> model(cnnlab.randn(4, 3, 16, 16)).shape
cnnlab.Size([4, 2])
"""
from . import functional  # noqa: F401
from . import init  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from .modules import *  # noqa: F401,F403
from . import utils  # noqa: F401
