"""torch.nn.utils.fusion's functions: fold an eval-mode batch norm into the conv or linear layer before it (the code
is in cnnlab/nn/modules/fusion.py, beside the layers, where nn.Sequential also folds on the fly in inference)."""
from ..modules.fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]
