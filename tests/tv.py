"""torchvision.models as a test oracle, imported without torchvision's compiled operators.

torchvision 0.28.0 ships `_C.so` built against a CUDA build of torch; against the CPU build it fails to load
(silently: extension._load_library catches the OSError). `import torchvision` then dies in
`torchvision._meta_registrations`, which registers Meta kernels for `torchvision::nms`, `roi_align`, ... and
torch.library refuses to register a kernel for an operator that was never defined ("operator torchvision::nms
does not exist"). `_autograd_registrations` does the same for autograd kernels. The classification models
use only torch.nn, so we put empty modules under those two names in sys.modules before the first import:
torchvision's `from torchvision import _autograd_registrations, _meta_registrations` then binds the stubs and
nothing tries to register a kernel. Only the detection/ops code needs the real operators, and no test here
uses it.

Usage (tests skip themselves when torch or torchvision is missing):

    from tv import tvm                # torchvision.models (tests/ is on sys.path, see conftest.py)
    ref = tvm.resnet18()
"""
import sys
import types

import pytest

torch = pytest.importorskip("torch")


def _import_torchvision_models():
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(name, types.ModuleType(name))
    try:
        import torchvision.models as models
    except ImportError:  # not installed: skip the tests that need it
        return None
    return models


tvm = _import_torchvision_models()
if tvm is None:
    pytest.skip("torchvision is not installed (pip install --no-deps torchvision==0.28.0)", allow_module_level=True)
