"""The examples a student runs (examples/*.py), each in its reduced form (--quick), in a fresh process as a
student would run it: they finish, and every picture they promise is a real, non-blank image."""
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, out):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script), "--quick", "--out", str(out)],
                       capture_output=True, text=True, timeout=300, env=env, cwd=str(out.parent))
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def _picture(path, frames=None):
    with Image.open(path) as im:
        assert im.format == ("GIF" if str(path).endswith(".gif") else "PNG"), path
        if frames is not None:
            assert im.n_frames == frames, path
        a = np.asarray(im.convert("L"), dtype=np.float64)
    assert min(a.shape) >= 100 and a.std() > 15, path  # a picture, not a blank page
    return a


def test_edge_detection(tmp_path):
    pytest.importorskip("skimage")
    out = _run("edge_detection.py", tmp_path / "pics")
    assert "scharr_vertical:\n([[3, 0, -3], [10, 0, -10], [3, 0, -3]], 1)" in out
    for name in ("edges.png", "image_kernels.png"):
        _picture(tmp_path / "pics" / name)
    magnitude = _picture(tmp_path / "pics" / "gradient_magnitude.png")
    assert magnitude.shape == (128, 128) and (magnitude > 128).mean() > 0.01  # edges show as white lines on black


def test_conv_arithmetic(tmp_path):
    out = _run("conv_arithmetic.py", tmp_path / "pics")
    assert "ResNet stem    input 224, kernel 7, stride 2, padding 3 -> 112" in out
    assert "F.conv2d(7x7, 3x3, stride=2, padding='same') -> (4, 4)" in out
    _picture(tmp_path / "pics" / "padding.gif", frames=25)  # one frame per output cell: 5x5
    _picture(tmp_path / "pics" / "stride.gif", frames=9)


def test_lenet_digits(tmp_path):
    out = _run("lenet_digits.py", tmp_path / "pics")
    assert "epoch 1: loss" in out and "the first validation digit is a " in out
    for name in ("curves.png", "filters.png", "feature_maps.png"):
        _picture(tmp_path / "pics" / name)


def test_examples_index_lists_every_script():
    index = open(os.path.join(ROOT, "examples", "README.md"), encoding="utf-8").read()
    for name in ("edge_detection.py", "conv_arithmetic.py", "lenet_digits.py", "transfer_learning.py",
                 "unet_segmentation.py"):
        assert f"`{name}`" in index, name
