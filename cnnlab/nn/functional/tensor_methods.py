"""The Tensor methods whose op lives in nn.functional (x.relu(), x.softmax(1), ...), bound here because
nn.functional sits above tensor.py and cnnlab/_methods.py (x.relu_() comes from _methods' in-place family, which
calls x.relu())."""
from ...tensor import Tensor
from .activation import relu, sigmoid, tanh
from .softmax import log_softmax, softmax

for _name, _fn in (("relu", relu), ("sigmoid", sigmoid), ("tanh", tanh), ("softmax", softmax),
                   ("log_softmax", log_softmax)):
    setattr(Tensor, _name, _fn)
