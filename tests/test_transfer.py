"""Transfer learning on the command line: `cnnlab train --weights ... --freeze ...` replaces the head, keeps
frozen parameters fixed and trains the rest; `cnnlab predict --model ... --weights ...` prints the top-5
ImageNet classes as torchvision's model with the same weights ranks them. Weights files are written into a
temporary torch hub cache (no network) or given as a path."""
import urllib.error
import urllib.request

import numpy as np
import pytest

import cnnlab
from cnnlab import models
from cnnlab.cli import main


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache, and no network: a download attempt fails at once."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def _folder(root, classes=("circle", "cross", "square"), per_class=6, size=32):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 80, (size, size, 3), dtype=np.uint8)
            pixels[..., c] += 150  # each class its own colour: learnable in one epoch or not, it must run
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def _params(state):
    return {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in state.items()}


def _cache_resnet18(hub):
    cnnlab.manual_seed(1)
    state = models.resnet18().state_dict()  # random weights under the real file name
    cnnlab.save(state, hub / models.ResNet18_Weights.IMAGENET1K_V1.file_name)
    return _params(state)


def _train(tmp_path, *extra):
    data = _folder(tmp_path / "shapes")
    run = tmp_path / "run"
    code = main(["train", "--model", "resnet18", "--data", f"folder:{data}", "--image-size", "32", "--epochs", "1",
                 "--batch-size", "8", "--no-augment", "--quiet", "--out", str(run), *extra])
    return code, run


def test_train_from_cached_weights_replaces_the_head_and_freezes_the_features(hub, tmp_path, capsys):
    pretrained = _cache_resnet18(hub)
    code, run = _train(tmp_path, "--weights", "IMAGENET1K_V1", "--freeze", "features")
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "new head fc for 3 classes" in out and "1,539 of 11,178,051 parameters trained" in out, out
    trained = _params(cnnlab.load(run / "checkpoint.pth")["model"])
    assert trained["fc.weight"].shape == (3, 512) and trained["fc.bias"].shape == (3,)
    names = [n for n, _ in models.resnet18(num_classes=3).named_parameters()]
    for name in names:
        if not name.startswith("fc."):  # frozen: exactly the pretrained values
            np.testing.assert_array_equal(trained[name], pretrained[name], err_msg=name)
    cnnlab.manual_seed(0)  # the run's --seed: its fresh head before training
    fresh = models.resnet18(num_classes=3).fc.weight.detach().numpy()
    assert np.abs(trained["fc.weight"] - fresh).max() > 1e-4  # the head trained
    # evaluate rebuilds the run's model (3-class head) from config.json
    assert main(["evaluate", "--checkpoint", str(run)]) == 0


def test_train_from_a_weights_file_trains_what_is_not_frozen(hub, tmp_path, capsys):
    from tv import torch, tvm
    torch.manual_seed(0)
    path = tmp_path / "mine.pth"
    ref = tvm.resnet18()
    torch.save({"model": ref.state_dict(), "epoch": 3}, path)  # a checkpoint holding the state_dict
    pretrained = {k: v.numpy() for k, v in ref.state_dict().items()}
    code, run = _train(tmp_path, "--weights", str(path), "--freeze", "conv1,bn1,layer1")
    assert code == 0, capsys.readouterr().err
    trained = _params(cnnlab.load(run / "checkpoint.pth")["model"])
    for name in ("conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.1.bn2.bias"):
        np.testing.assert_array_equal(trained[name], pretrained[name], err_msg=name)
    for name in ("layer2.0.conv1.weight", "layer4.1.conv2.weight"):  # trained from the pretrained values
        assert not np.array_equal(trained[name], pretrained[name]), name
        assert np.abs(trained[name] - pretrained[name]).max() < 0.1, name
    assert trained["fc.weight"].shape == (3, 512)


def test_missing_weights_file_is_one_line_naming_file_and_folder(hub, tmp_path, capsys):
    code, run = _train(tmp_path, "--weights", "DEFAULT")
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "resnet18-f37072fd.pth" in err and str(hub) in err
    assert not run.exists()


@pytest.mark.parametrize("argv, words", [
    (["--weights", "IMAGENET1K_V9"], ["expected one of IMAGENET1K_V1, DEFAULT", "IMAGENET1K_V9"]),
    (["--freeze", "features"], ["--freeze applies with --weights"]),
    (["--weights", "IMAGENET1K_V1", "--freeze", "trunk"], ["no parameters under 'trunk'", "conv1, bn1, layer1"]),
])
def test_bad_transfer_arguments_are_one_line(hub, tmp_path, capsys, argv, words):
    _cache_resnet18(hub)
    code, _ = _train(tmp_path, *argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)


def test_predict_prints_the_top5_imagenet_classes_as_torchvision_ranks_them(hub, tmp_path, capsys):
    from tv import torch, tvm
    Image = pytest.importorskip("PIL.Image")
    torch.manual_seed(0)
    ref = tvm.resnet18().eval()
    with torch.no_grad():  # a sharper head, so that the ranking is clear of float32 noise
        ref.fc.weight.mul_(40)
    torch.save(ref.state_dict(), hub / models.ResNet18_Weights.IMAGENET1K_V1.file_name)
    rng = np.random.default_rng(0)
    photo = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (240, 300, 3), dtype=np.uint8)).save(photo)
    assert main(["predict", "--model", "resnet18", "--weights", "IMAGENET1K_V1", str(photo)]) == 0
    line = capsys.readouterr().out.strip()
    x = models.ResNet18_Weights.IMAGENET1K_V1.transforms()(Image.open(photo).convert("RGB"))
    with torch.no_grad():
        probs = torch.softmax(ref(torch.tensor(x.numpy()[None])), 1)[0]
    p, idx = probs.topk(5)
    names = models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    assert line == f"{photo}: " + ", ".join(f"{names[i]} {100 * v:.1f}%" for i, v in zip(idx.tolist(), p.tolist()))


def test_predict_needs_a_checkpoint_or_a_model(capsys, tmp_path):
    assert main(["predict", str(tmp_path / "x.png")]) == 2
    assert "give --checkpoint RUN" in capsys.readouterr().err
    assert main(["predict", "--model", "resnet18", str(tmp_path / "x.png")]) == 2
    assert "--model needs --weights" in capsys.readouterr().err


def test_a_resumed_transfer_run_keeps_its_frozen_parameters(hub, tmp_path, capsys):
    pretrained = _cache_resnet18(hub)
    code, run = _train(tmp_path, "--weights", "IMAGENET1K_V1", "--freeze", "features", "--epochs", "1")
    assert code == 0, capsys.readouterr().err
    after_one = _params(cnnlab.load(run / "checkpoint.pth")["model"])
    assert main(["train", "--out", str(run), "--resume", "--epochs", "2", "--quiet"]) == 0, capsys.readouterr().err
    after_two = _params(cnnlab.load(run / "checkpoint.pth")["model"])
    np.testing.assert_array_equal(after_two["layer4.1.conv2.weight"], pretrained["layer4.1.conv2.weight"])
    np.testing.assert_array_equal(after_two["conv1.weight"], pretrained["conv1.weight"])
    assert not np.array_equal(after_two["fc.weight"], after_one["fc.weight"])  # the head went on training
    assert main(["train", "--out", str(run), "--resume", "--epochs", "3", "--freeze", "layer4"]) == 2
    assert "--freeze features" in capsys.readouterr().err  # a resumed run keeps what it froze
