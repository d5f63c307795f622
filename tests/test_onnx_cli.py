"""`cnnlab export`: a trained run and a zoo model written as ONNX, checked by ONNX Runtime in the same run."""
import re

import numpy as np
import pytest

import cnnlab
from cnnlab.cli import main
from tests.onnx_helpers import session

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lenet"
    assert main(["train", "--model", "lenet5", "--data", "mnist-sample", "--epochs", "1", "--subset", "128",
                 "--out", str(out), "--quiet"]) == 0
    return out


def _diff(text):
    return float(re.search(r"max \|difference\| = (\S+) ", text).group(1))


def test_export_checkpoint_runs_in_onnx_runtime(run_dir, tmp_path, capsys):
    out = tmp_path / "lenet.onnx"
    assert main(["export", "--checkpoint", str(run_dir), "--format", "onnx", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "input Nx1x28x28" in text and _diff(text) < 1e-4
    # the file holds the checkpoint's weights: its output is the trained model's, at any batch size
    config, model = __import__("cnnlab.cli_common", fromlist=["load_run"]).load_run(str(run_dir))
    x = np.random.default_rng(3).standard_normal((5, 1, 28, 28)).astype(np.float32)
    with cnnlab.no_grad():
        want = model.eval()(cnnlab.tensor(x)).numpy()
    np.testing.assert_allclose(session(out.read_bytes()).run(None, {"input": x})[0], want, rtol=1e-4, atol=1e-5)


def test_export_zoo_model_static_batch(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", "--model", "mobilenet-v3-small", "--image-size", "64", "--static-batch",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "input 1x3x64x64" in text and _diff(text) < 1e-4
    assert session(out.read_bytes()).get_inputs()[0].shape == [1, 3, 64, 64]


def test_export_errors_are_one_line(tmp_path, capsys):
    assert main(["export", "--model", "nosuch", "--out", str(tmp_path / "x.onnx")]) == 2
    assert "cnnlab export: --model: get_model: unknown model" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(tmp_path / "none"), "--out", str(tmp_path / "x.onnx")]) == 2
    assert "no such run folder" in capsys.readouterr().err
