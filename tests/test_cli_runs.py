"""The cnnlab command's runs over time: resuming with changed settings, runs killed before their first
checkpoint, damaged checkpoints, empty class folders, strict JSON, evaluate's report, --download, and the
command it tells the user to type next."""
import csv
import gzip
import hashlib
import http.server
import json
import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import cnnlab
from cnnlab.cli import main
from cli_helpers import one_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = ["--subset", "128", "--quiet"]


def _lrs(run):
    return [float(r["lr"]) for r in csv.DictReader(open(run / "history.csv"))]


def _strict_json(path):
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}, which is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


# ---- resume with other settings ------------------------------------------------------------------------------
def test_extending_a_cosine_run_rebuilds_the_schedule_and_says_so(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "--epochs", "2", *QUICK, "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", "--epochs", "4", "--out", str(run), "--resume", "--quiet"]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("--resume")]
    assert said == [f"--resume: continuing {run} after epoch 2 with --epochs 2 -> 4; the cosine schedule is rebuilt "
                    "for 4 epochs from lr 0.05: epoch 3 trains at lr 0.025, as a run started with these settings "
                    "would."]
    cosine = [0.05 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]  # a 4-epoch run's epochs 3 and 4
    np.testing.assert_allclose(_lrs(run), [0.05, 0.025] + cosine[2:], rtol=1e-12)  # the old T_max gave 0, 0.025
    config = _strict_json(run / "config.json")
    assert config["epochs"] == 4 and config["resumed"] == [{"after_epoch": 2, "changed": {"epochs": [2, 4]}}]
    assert config["subset"] == 128  # taken from the run, not the command's default


def test_a_resume_that_stops_before_its_first_epoch_still_gets_the_new_schedule(tmp_path, monkeypatch, capsys):
    import cnnlab.train as train
    real = train.train_one_epoch

    def stop_at_epoch_3(model, loader, loss_fn, optimizer, epoch=1, progress=None):
        if epoch == 3:
            raise KeyboardInterrupt
        return real(model, loader, loss_fn, optimizer, epoch, progress)

    run = tmp_path / "r"
    assert main(["train", "--epochs", "2", *QUICK, "--out", str(run)]) == 0
    monkeypatch.setattr(train, "train_one_epoch", stop_at_epoch_3)
    assert main(["train", "--epochs", "4", "--out", str(run), "--resume", "--quiet"]) == 130
    monkeypatch.setattr(train, "train_one_epoch", real)
    capsys.readouterr()
    assert main(["train", "--out", str(run), "--resume", "--quiet"]) == 0  # config.json says 4 epochs already
    assert "does not carry the run's settings yet" in capsys.readouterr().out
    cosine = [0.05 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    np.testing.assert_allclose(_lrs(run), [0.05, 0.025] + cosine[2:], rtol=1e-12)  # not the 2-epoch schedule's


def test_resume_with_another_lr_applies_it_and_config_json_says_so(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "--epochs", "2", "--scheduler", "none", *QUICK, "--out", str(run)]) == 0
    assert main(["train", "--epochs", "3", "--lr", "0.01", "--out", str(run), "--resume", "--quiet"]) == 0
    assert "--lr 0.05 -> 0.01, from epoch 3 on." in capsys.readouterr().out
    assert _lrs(run) == [0.05, 0.05, 0.01]  # was 0.05 three times while config.json said 0.01
    config = _strict_json(run / "config.json")
    assert config["lr"] == 0.01
    assert config["resumed"] == [{"after_epoch": 2, "changed": {"epochs": [2, 3], "lr": [0.05, 0.01]}}]
    ckpt = cnnlab.load(str(run / "checkpoint.pth"))
    assert ckpt["optimizer"]["param_groups"][0]["lr"] == 0.01


@pytest.mark.parametrize("argv, words", [
    (["--optimizer", "adam"], "was trained with --optimizer sgd, not adam; pass --optimizer sgd"),
    (["--no-augment"], "was trained with --augment, not --no-augment"),
    (["--scheduler", "step"], "was trained with --scheduler cosine, not step"),
    (["--seed", "3"], "was trained with --seed 0, not 3"),
])
def test_resume_refuses_what_a_run_cannot_change(tmp_path, capsys, argv, words):
    run = tmp_path / "r"
    assert main(["train", "--epochs", "1", "--subset", "64", "--quiet", "--out", str(run)]) == 0
    before = (run / "config.json").read_text()
    assert main(["train", "--epochs", "2", "--out", str(run), "--resume", *argv]) == 2
    one_line(capsys, "cnnlab train: --resume: the run in", words)
    assert (run / "config.json").read_text() == before


def test_momentum_with_adam_is_refused(tmp_path, capsys):
    assert main(["train", "--optimizer", "adam", "--momentum", "0.5", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "--momentum applies to sgd and rmsprop; adam has none")


# ---- a run killed before its first checkpoint ----------------------------------------------------------------
def test_a_run_killed_before_its_first_epoch_can_be_started_again(tmp_path, capsys):
    run = tmp_path / "r"
    run.mkdir()
    (run / "config.json").write_text('{"model": "lenet5"}')  # what a kill during epoch 1 leaves
    (run / ".checkpoint.pth.4242-0a1b.tmp").write_bytes(b"half a checkpoint")
    assert main(["train", "--epochs", "1", "--out", str(run), "--resume"]) == 2
    one_line(capsys, f"--resume: the run in {run} stopped before its first epoch ended (it has no checkpoint.pth); "
                      "start it again without --resume.")
    assert main(["train", "--epochs", "1", "--subset", "64", "--quiet", "--out", str(run)]) == 0
    assert "stopped before its first epoch ended (no checkpoint.pth); starting it afresh" in capsys.readouterr().out
    assert _strict_json(run / "config.json")["epochs"] == 1
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "config.json").write_text("{}")
    (tmp_path / "mine" / "notes.txt").write_text("not a run's")
    assert main(["train", "--out", str(tmp_path / "mine")]) == 2  # someone else's files: never replaced
    one_line(capsys, "already holds a run; pass --resume to continue it, --overwrite to replace it")


# ---- damaged checkpoints -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "small"
    assert main(["train", "--epochs", "1", "--subset", "64", "--quiet", "--out", str(run)]) == 0
    return run


@pytest.mark.parametrize("field, damage, words", [
    ("rng", lambda c: c.pop("rng"), "the field 'rng' must be present"),
    ("seed", lambda c: c["rng"].pop("seed"), "the field 'rng' must be a random-generator state"),
    ("bit_generator", lambda c: c["rng"]["bit_generator"].pop("bit_generator"),
     "the field 'rng' must be a random-generator state (a dict with 'seed' and 'bit_generator') NumPy accepts"),
    ("momentum", lambda c: c["optimizer"]["state"][0].__setitem__("momentum_buffer", cnnlab.zeros(7)),
     "the field 'optimizer.state[0].momentum_buffer' must be a tensor of shape (6, 1, 5, 5)"),
    ("epoch", lambda c: c.__setitem__("epoch", -1), "the field 'epoch' must be an int >= 0. Got epoch=-1 (int)"),
    ("weights", lambda c: c["model"].__setitem__("features.0.weight", cnnlab.zeros(2, 2)),
     "size mismatch for features.0.weight"),
])
def test_resume_from_a_damaged_checkpoint_names_the_field(small_run, tmp_path, capsys, field, damage, words):
    import shutil
    run = tmp_path / "r"
    shutil.copytree(small_run, run)
    ckpt = cnnlab.load(str(run / "checkpoint.pth"))
    damage(ckpt)
    cnnlab.save(ckpt, str(run / "checkpoint.pth"))
    before = {f: (run / f).read_bytes() for f in os.listdir(run)}
    assert main(["train", "--epochs", "2", "--out", str(run), "--resume"]) == 2
    one_line(capsys, f"cnnlab train: --resume: cannot continue from {run / 'checkpoint.pth'} (", words)
    assert {f: (run / f).read_bytes() for f in os.listdir(run)} == before  # nothing written


# ---- evaluate ------------------------------------------------------------------------------------------------
def test_evaluate_prints_the_confusion_matrix(small_run, capsys):
    assert main(["evaluate", "--checkpoint", str(small_run)]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("confusion matrix (rows: true class, columns: predicted):")
    header, rows = out[at + 1].split(), [line.split() for line in out[at + 2:at + 12]]
    assert header == [str(i) for i in range(10)] and [r[0] for r in rows] == header
    counts = np.array([[int(v) for v in r[1:]] for r in rows])
    metrics = _strict_json(small_run / "metrics.json")
    assert counts.tolist() == metrics["confusion_matrix"] and counts.sum() == 1000
    assert np.trace(counts) / 1000 == pytest.approx(metrics["val_accuracy"])


def test_evaluate_shows_every_state_dict_problem(small_run, tmp_path, capsys):
    import shutil
    run = tmp_path / "r"
    shutil.copytree(small_run, run)
    ckpt = cnnlab.load(str(run / "checkpoint.pth"))
    ckpt["model"]["extra.weight"] = ckpt["model"].pop("classifier.5.bias")
    ckpt["model"]["features.0.weight"] = cnnlab.zeros(6, 1, 3, 3)
    cnnlab.save(ckpt, str(run / "checkpoint.pth"))
    assert main(["evaluate", "--checkpoint", str(run)]) == 2
    one_line(capsys, "Error(s) in loading state_dict for LeNet5:", 'Missing key(s) in state_dict: "classifier.5.bias"',
              'Unexpected key(s) in state_dict: "extra.weight"', "size mismatch for features.0.weight: copying a param "
              "with shape cnnlab.Size([6, 1, 3, 3]) from checkpoint, the shape in current model is "
              "cnnlab.Size([6, 1, 5, 5])")


# ---- folder data ---------------------------------------------------------------------------------------------
def _images(root, counts, size=8):
    Image = pytest.importorskip("PIL.Image")
    for c, n in counts.items():
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.new("RGB", (size, size), (40 * i % 255, 0, 0)).save(root / c / f"{i}.png")
    return root


def _torchvision_image_folder():
    """torchvision.datasets.ImageFolder without torchvision's compiled operators (see tests/tv.py)."""
    pytest.importorskip("torch")
    import types
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(name, types.ModuleType(name))
    try:
        from torchvision.datasets import ImageFolder
    except Exception as e:  # noqa: BLE001 (any failure to import the oracle skips the comparison)
        pytest.skip(f"torchvision unavailable: {e}")
    return ImageFolder


def test_an_empty_class_folder_is_refused_as_torchvision_does(tmp_path, capsys):
    from cnnlab.data import ImageFolder
    root = _images(tmp_path / "d", {"cat": 3, "dog": 3, "empty": 0})
    (root / "empty" / "notes.txt").write_text("no image here")
    with pytest.raises(FileNotFoundError) as ours:
        ImageFolder(str(root))
    with pytest.raises(FileNotFoundError) as theirs:
        _torchvision_image_folder()(str(root))
    assert str(ours.value).startswith(str(theirs.value).split(" Supported extensions")[0])
    assert str(ours.value).startswith("Found no valid file for the classes empty. Supported extensions are: .jpg")
    assert main(["train", "--data", f"folder:{root}", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "cnnlab train: Found no valid file for the classes empty.")
    assert not (tmp_path / "r").exists()


def test_a_class_without_validation_images_is_null_in_metrics_json(tmp_path):
    root = _images(tmp_path / "d", {"a": 12, "b": 1})  # the 80/20 split (seed 0) keeps b's one image in training
    run = tmp_path / "r"
    assert main(["train", "--data", f"folder:{root}", "--image-size", "28", "--epochs", "1", "--quiet",
                 "--out", str(run)]) == 0
    metrics = _strict_json(run / "metrics.json")  # it held NaN, which no strict JSON reader accepts
    assert metrics["per_class_accuracy"]["b"] is None and sum(metrics["confusion_matrix"][1]) == 0


# ---- --download ----------------------------------------------------------------------------------------------
def _idx(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist_server(tmp_path, monkeypatch):
    """A local http server with a tiny MNIST (the four .gz files), MNIST's mirror and checksums pointed at it."""
    from cnnlab.data.datasets import MNIST
    rng = np.random.default_rng(0)
    served = tmp_path / "served"
    served.mkdir()
    files = {"train-images-idx3-ubyte.gz": _idx(rng.integers(0, 256, (40, 28, 28)), 2051),
             "train-labels-idx1-ubyte.gz": _idx(np.arange(40) % 10, 2049),
             "t10k-images-idx3-ubyte.gz": _idx(rng.integers(0, 256, (20, 28, 28)), 2051),
             "t10k-labels-idx1-ubyte.gz": _idx(np.arange(20) % 10, 2049)}
    for name, data in files.items():
        (served / name).write_bytes(data)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **k)  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(MNIST, "mirror", f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.setattr(MNIST, "resources", [(n, hashlib.md5(d).hexdigest()) for n, d in files.items()])
    yield server
    server.shutdown()
    server.server_close()


def test_train_download_fetches_mnist(tiny_mnist_server, tmp_path, capsys):
    from cnnlab.data.datasets import MNIST
    data = tmp_path / "data"
    assert main(["train", "--data", f"mnist:{data}", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, f"--data: no such folder '{data}'", "Pass --download to fetch the files into it.")
    data.mkdir()
    assert main(["train", "--data", f"mnist:{data}", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "not found. Pass --download, or put the files in")  # was: "Pass download=True"
    data.rmdir()
    assert main(["train", "--data", f"mnist:{data}", "--download", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "r")]) == 0
    assert sorted(os.listdir(data / "MNIST" / "raw")) == sorted(n for n, _ in MNIST.resources)
    assert "40 training, 20 validation images" in capsys.readouterr().out


def test_train_download_offline_isone_line(tmp_path, monkeypatch, capsys):
    from cnnlab.data.datasets import MNIST
    monkeypatch.setattr(MNIST, "mirror", "http://127.0.0.1:9/")  # the discard port: nothing listens there
    assert main(["train", "--data", f"mnist:{tmp_path / 'data'}", "--download", "--out", str(tmp_path / "r")]) == 1
    one_line(capsys, "cnnlab train: ", "127.0.0.1:9")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("spec", ["mnist-sample", "folder:."])
def test_download_applies_to_downloadable_data_only(tmp_path, capsys, spec):
    assert main(["train", "--data", spec, "--download", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "--download applies to mnist:DIR, fashion-mnist:DIR, cifar10:DIR")


# ---- what to type next ---------------------------------------------------------------------------------------
def test_next_hint_is_the_command_as_the_user_typed_it(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--subset", "64", "--quiet", "--out", str(tmp_path / "a")]) == 0
    assert f"next: cnnlab evaluate --checkpoint {tmp_path / 'a'}   or   cnnlab predict" in capsys.readouterr().out
    proc = subprocess.run([sys.executable, "-m", "cnnlab", "train", "--epochs", "1", "--subset", "64", "--quiet",
                           "--out", str(tmp_path / "b")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert f"next: python -m cnnlab evaluate --checkpoint {tmp_path / 'b'}   or   python -m cnnlab predict" in \
        proc.stdout  # was: '<venv>/bin/python3 -m cnnlab', the interpreter's path cut short


def test_a_zoo_model_that_takes_three_channels_gets_no_in_channels():
    from cnnlab.cli_common import check_fits, model_kwargs
    info = {"channels": 3, "size": [32, 32], "classes": ["a", "b"]}
    assert model_kwargs("resnet18", info) == {"num_classes": 2}  # in_channels made ResNet's builder fail
    assert model_kwargs("lenet5", info) == {"num_classes": 2, "in_channels": 3, "input_size": 32}
    check_fits({"model": "resnet18", "data": "folder:x", "data_info": info,
                "model_kwargs": model_kwargs("resnet18", info)})


@pytest.mark.parametrize("edit, words", [
    (lambda c: c["data_info"].pop("mean"), "is not a cnnlab run's config: it needs 'model', 'data' and 'data_info'"),
    (lambda c: c.__setitem__("model", 3), "is not a cnnlab run's config"),
    (lambda c: c.__setitem__("model", "nosuchnet"), "cannot build the model 'nosuchnet' that"),
])
def test_a_damaged_config_json_isone_line(small_run, tmp_path, capsys, edit, words):
    import shutil
    run = tmp_path / "r"
    shutil.copytree(small_run, run)
    config = json.loads((run / "config.json").read_text())
    edit(config)
    (run / "config.json").write_text(json.dumps(config))
    assert main(["predict", "--checkpoint", str(run), str(run / "config.json")]) == 2  # was KeyError 'mean', exit 1
    one_line(capsys, "cnnlab predict: ", words)
