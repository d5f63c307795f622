"""Tutorial-style PyTorch scripts run unchanged through cnnlab (only the imports are rewritten).

Each file in tests/tutorials/ is plain PyTorch code in the style of CNN lecture notes and tutorials. The harness
runs it twice, once as written (PyTorch) and once with `import torch` rewritten to `import cnnlab as torch`
(`torch.nn` -> `cnnlab.nn`, `from torch.utils.data import ...` -> `from cnnlab.utils.data import ...`), and
compares what the script put into its `CHECK` dict: arrays with allclose, text (reprs, printed models) exactly
after writing `cnnlab` as `torch`, numbers and shapes exactly.

The scripts keep their work under `if __name__ == "__main__":` so that the doctest collector can import them
without running anything. Two names are provided by the harness rather than imported, because they must build
the same weights and data in both libraries: `det_init(model)` (parameters drawn from a fixed NumPy seed) and
`TMP` (a temporary directory for torch.save).
"""
import pathlib
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

HERE = pathlib.Path(__file__).parent / "tutorials"

# Scripts that fail on cnnlab today, with the missing feature. strict=True: they flip to failures once fixed,
# so this list must be trimmed as the features land.
XFAIL = {}


def rewrite_imports(src):
    """PyTorch imports -> cnnlab imports, the way a user ports a script by hand."""
    src = re.sub(r"^(\s*)import torch\s*$", r"\1import cnnlab as torch", src, flags=re.M)
    src = re.sub(r"^(\s*)import torch((?:\.\w+)+) as (\w+)", r"\1import cnnlab\2 as \3", src, flags=re.M)
    src = re.sub(r"^(\s*)from torch((?:\.\w+)*) import", r"\1from cnnlab\2 import", src, flags=re.M)
    return src


def make_det_init(lib):
    """Overwrite every parameter with values from a fixed NumPy seed (the same in both libraries)."""
    def det_init(model, scale=0.2, seed=0):
        rng = np.random.default_rng(seed)
        with lib.no_grad():
            for _, p in model.named_parameters():
                arr = rng.uniform(-scale, scale, size=tuple(p.shape)).astype(np.float32)
                p.copy_(lib.tensor(arr).to(p.dtype))
        return model
    return det_init


def run_script(path, lib_name, tmp_path):
    src = path.read_text()
    if lib_name == "cnnlab":
        src = rewrite_imports(src)
        import cnnlab as lib
    else:
        lib = torch
    tmp = tmp_path / lib_name
    tmp.mkdir()
    ns = {"__name__": "__main__", "__file__": str(path), "det_init": make_det_init(lib), "TMP": str(tmp)}
    exec(compile(src, f"{path.name}[{lib_name}]", "exec"), ns)
    return ns["CHECK"]


def normalise(value):
    """Tensors -> arrays, Size -> tuple, text with cnnlab's name -> torch's."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return np.asarray(value.detach().numpy())
    if isinstance(value, str):
        return value.replace("cnnlab", "torch")
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(normalise(v) for v in value) if type(value) in (list, tuple) else tuple(
            normalise(v) for v in value)
    if isinstance(value, (bool, int, float, type(None), np.generic)):
        return value
    return str(value).replace("cnnlab", "torch")


def compare(key, want, got, rtol=1e-4, atol=1e-5):
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        want, got = np.asarray(want), np.asarray(got)
        assert want.shape == got.shape, f"{key}: shape {got.shape} != torch {want.shape}"
        if want.dtype == bool or got.dtype == bool or np.issubdtype(want.dtype, np.integer):
            assert np.array_equal(want, got), f"{key}: {got} != torch {want}"
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=key)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(want) == list(got), f"{key}: keys {list(got)} != torch {list(want)}"
        for k in want:
            compare(f"{key}.{k}", want[k], got[k], rtol, atol)
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(want) == len(got), f"{key}: {got!r} != torch {want!r}"
        for i, (w, g) in enumerate(zip(want, got)):
            compare(f"{key}[{i}]", w, g, rtol, atol)
    elif isinstance(want, float) and not isinstance(got, str):
        assert got == pytest.approx(want, rel=rtol, abs=atol), f"{key}: {got!r} != torch {want!r}"
    else:
        assert want == got, f"{key}:\n{got!r}\n!= torch\n{want!r}"
        assert type(want) is type(got) or isinstance(want, str), f"{key}: type {type(got)} != torch {type(want)}"


SCRIPTS = sorted(p for p in HERE.glob("tut_*.py"))


def test_rewrite_imports():
    src = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch import nn\n"
           "from torch.utils.data import DataLoader\n    import torch.optim as optim\n")
    assert rewrite_imports(src) == (
        "import cnnlab as torch\nimport cnnlab.nn as nn\nimport cnnlab.nn.functional as F\nfrom cnnlab import nn\n"
        "from cnnlab.utils.data import DataLoader\n    import cnnlab.optim as optim\n")


def test_compare_catches_differences():
    with pytest.raises(AssertionError):
        compare("x", np.zeros(3), np.ones(3))
    with pytest.raises(AssertionError):
        compare("s", "Conv2d(3, 5)", "Conv2d(3, 6)")
    with pytest.raises(AssertionError):
        compare("n", 3, 3.0)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # PyTorch's own tensors
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad:UserWarning")
@pytest.mark.filterwarnings("ignore:'pin_memory' argument:UserWarning")
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=[pytest.mark.xfail(strict=True, reason=XFAIL[p.stem])]
                                               if p.stem in XFAIL else []) for p in SCRIPTS])
def test_tutorial(path, tmp_path):
    want = {k: normalise(v) for k, v in run_script(path, "torch", tmp_path).items()}
    got = {k: normalise(v) for k, v in run_script(path, "cnnlab", tmp_path).items()}
    assert list(got) == list(want), f"CHECK keys {list(got)} != torch {list(want)}"
    for key in want:
        compare(key, want[key], got[key])
