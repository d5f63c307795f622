"""The cnnlab command end to end on tiny runs, as a new user would type it."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cnnlab.cli import main


def test_models_lists_the_registry(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "lenet5" in out and "lecture_cnn" in out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lenet"
    assert main(["train", "--model", "lenet5", "--data", "mnist-sample", "--epochs", "2", "--subset", "1024",
                 "--optimizer", "adam", "--lr", "0.003", "--out", str(out), "--quiet"]) == 0
    return out


def test_train_writes_checkpoint_history_metrics(run_dir):
    assert sorted(os.listdir(run_dir)) == ["checkpoint.pth", "config.json", "history.csv", "metrics.json"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.6 < metrics["val_accuracy"] <= 1.0  # two epochs on 1,024 digits: far above chance (0.1)
    assert set(metrics["per_class_accuracy"]) == {str(i) for i in range(10)}
    lines = (run_dir / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,train_acc") and len(lines) == 3


def test_resume_continues_and_refuses_to_clobber(run_dir, capsys):
    assert main(["train", "--data", "mnist-sample", "--epochs", "1", "--out", str(run_dir)]) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    assert main(["train", "--data", "mnist-sample", "--epochs", "3", "--subset", "1024", "--out", str(run_dir),
                 "--resume", "--quiet", "--optimizer", "adam", "--lr", "0.003"]) == 0
    assert len((run_dir / "history.csv").read_text().splitlines()) == 4


def test_evaluate(run_dir, capsys):
    assert main(["evaluate", "--checkpoint", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "validation accuracy:" in out and "per-class accuracy:" in out


def test_predict_a_digit_drawn_black_on_white(run_dir, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    from cnnlab.data import MNISTSample
    ds = MNISTSample(train=False)
    i = int(np.flatnonzero(ds.targets.numpy() == 1)[0])
    digit = 255 - ds.data.numpy()[i]  # as a person draws it: dark ink on white paper
    Image.fromarray(digit).resize((56, 56)).save(tmp_path / "one.png")
    assert main(["predict", "--checkpoint", str(run_dir), "--top-k", "2", str(tmp_path / "one.png")]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(str(tmp_path / "one.png") + ": 1 ")  # top class first, with its probability
    assert line.count("%") == 2


def test_errors_are_one_line_and_nonzero(tmp_path, capsys):
    assert main(["evaluate", "--checkpoint", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no config.json" in err
    assert main(["train", "--data", "nonsense", "--out", str(tmp_path / "x")]) == 1
    assert "unknown data spec 'nonsense'" in capsys.readouterr().err
    assert main(["train", "--data", f"mnist:{tmp_path}", "--out", str(tmp_path / "y")]) == 2
    assert "not found" in capsys.readouterr().err


def test_python_dash_m_and_bad_arguments():
    proc = subprocess.run([sys.executable, "-m", "cnnlab", "train", "--epochs", "ten"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "invalid int value: 'ten'" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "cnnlab", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "train" in proc.stdout and "predict" in proc.stdout
