"""Stateless neural-network ops with PyTorch's signatures: `import cnnlab.nn.functional as F`.

Each op checks its arguments, computes its forward pass in NumPy, and records a backward closure beside it.
"""
from .activation import *  # noqa: F401,F403
from .activation_param import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .loss_elementwise import *  # noqa: F401,F403
from .loss_margin import *  # noqa: F401,F403
from .loss_likelihood import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .encoding import *  # noqa: F401,F403
from .pixel_shuffle import *  # noqa: F401,F403
from .channel_shuffle import *  # noqa: F401,F403
from .stochastic_depth import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .adaptive_pooling import *  # noqa: F401,F403
from .resize import *  # noqa: F401,F403
from .affine_grid import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403

from . import tensor_methods  # noqa: E402,F401  (binds x.relu(), x.softmax(1), ... to Tensor)
