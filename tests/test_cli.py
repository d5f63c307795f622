"""The cnnlab command end to end on tiny runs, as a new user would type it: results, files, and for every
mistake one clear line on stderr and the documented exit code (2 bad argument or missing file, 1 failure)."""
import json
import os
import subprocess
import re
import sys

import numpy as np
import pytest

from cnnlab.cli import build_parser, main
from cli_helpers import one_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_models_lists_the_registry_with_inputs(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "lenet5         1x28x28" in out and "lecture_cnn    3x32x32" in out


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
    one_line(capsys, "already holds a run; pass --resume")
    assert main(["train", "--epochs", "2", "--out", str(run_dir), "--resume"]) == 2
    one_line(capsys, "has already trained 2 epochs; pass --epochs larger than 2")
    assert main(["train", "--model", "lecture-cnn", "--epochs", "3", "--out", str(run_dir), "--resume"]) == 2
    one_line(capsys, "was trained with --model lenet5, not lecture_cnn")
    assert main(["train", "--epochs", "3", "--out", str(run_dir), "--resume", "--overwrite"]) == 2
    one_line(capsys, "--resume and --overwrite contradict each other")
    assert main(["train", "--data", "mnist-sample", "--epochs", "3", "--subset", "1024", "--out", str(run_dir),
                 "--resume", "--quiet", "--optimizer", "adam", "--lr", "0.003"]) == 0
    assert len((run_dir / "history.csv").read_text().splitlines()) == 4


def test_evaluate_a_folder_or_its_checkpoint_file(run_dir, capsys):
    for where in (run_dir, run_dir / "checkpoint.pth"):
        assert main(["evaluate", "--checkpoint", str(where)]) == 0
        out = capsys.readouterr().out
        assert "validation accuracy:" in out and "per-class accuracy:" in out


def _digit(label=1):
    from cnnlab.data import MNISTSample
    ds = MNISTSample(train=False)
    return ds.data.numpy()[int(np.flatnonzero(ds.targets.numpy() == label)[0])]


def test_predict_a_digit_drawn_black_on_white(run_dir, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    digit = 255 - _digit(1)  # as a person draws it: dark ink on white paper
    Image.fromarray(digit).resize((56, 56)).save(tmp_path / "one.png")
    assert main(["predict", "--checkpoint", str(run_dir), "--top-k", "2", str(tmp_path / "one.png")]) == 0
    line = one_line(capsys, stream="out").strip()
    assert line.startswith(str(tmp_path / "one.png") + ": 1 ")  # top class first, with its probability
    assert line.count("%") == 2


# ---- images as people make them -> the pixels the model was trained on ----------------------------------------
DIGIT_INFO = {"channels": 1, "size": [28, 28], "mean": [0.1307], "std": [0.3081], "classes": list("0123456789"),
              "invert_light_background": True, "fit": "digit"}


def _drawings(Image, digit):
    """The MNIST digit as people hand it over: big, off-centre, in the formats the predict command must read."""
    big = np.asarray(Image.fromarray(digit).resize((280, 280), Image.BILINEAR))
    ink = np.zeros((400, 600), np.uint8)
    ink[30:310, 250:530] = big
    paper = 255 - ink
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the viewer turns it 90 degrees clockwise, so the pixels are stored turned back
    return {
        "black ink on white": (Image.fromarray(paper), {}),
        "black ink on transparent": (Image.fromarray(np.dstack([np.zeros_like(ink)] * 3 + [ink]), "RGBA"), {}),
        "white ink on transparent": (Image.fromarray(np.dstack([np.full_like(ink, 255)] * 3 + [ink]), "RGBA"), {}),
        "gray ink on transparent (LA)": (Image.fromarray(np.dstack([np.full_like(ink, 40), ink]), "LA"), {}),
        "palette": (Image.fromarray(paper).convert("P"), {}),
        "16-bit gray": (Image.fromarray(paper.astype(np.uint16) * 257), {}),
        "blue pen on gray paper": (Image.fromarray(np.dstack([210 - ink * 0.8, 205 - ink * 0.7, 200 - ink * 0.2])
                                                   .astype(np.uint8)), {}),
        "phone photo, EXIF-rotated": (Image.fromarray(paper).convert("RGB").transpose(Image.ROTATE_90),
                                      {"exif": exif}),
    }


@pytest.mark.parametrize("label", [0, 1, 4, 7, 8])
def test_prepare_image_recovers_the_training_pixels(tmp_path, label):
    Image = pytest.importorskip("PIL.Image")
    from cnnlab.data.specs import prepare_image
    digit = _digit(label)
    want = (digit / 255.0 - 0.1307) / 0.3081
    for name, (img, save_kw) in _drawings(Image, digit).items():
        path = tmp_path / (name.replace(" ", "_") + ".png")
        img.save(path, **save_kw)
        x = prepare_image(str(path), DIGIT_INFO)
        assert x.shape == (1, 1, 28, 28) and str(x.dtype) == "cnnlab.float32"
        got = x.numpy()[0, 0]
        corr = np.corrcoef(got.ravel(), want.ravel())[0, 1]
        assert corr > 0.8, (name, corr)  # shifted by a pixel, or not inverted, it falls to ~0.3 or below 0


def test_prepare_image_of_a_large_photo_and_of_a_colour_model(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from cnnlab.data.specs import prepare_image
    rng = np.random.default_rng(0)
    photo = np.clip(180 + rng.normal(0, 6, (3000, 4000, 3)), 0, 255).astype(np.uint8)  # noisy gray paper
    big = np.asarray(Image.fromarray(_digit(3)).resize((1200, 1200), Image.BILINEAR))
    photo[900:2100, 1000:2200] -= (big[:, :, None] * 0.6).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.jpg", quality=90)
    got = prepare_image(str(tmp_path / "photo.jpg"), DIGIT_INFO).numpy()[0, 0]
    assert np.corrcoef(got.ravel(), _digit(3).ravel())[0, 1] > 0.8
    colour = {"channels": 3, "size": [32, 32], "mean": [0.5] * 3, "std": [0.5] * 3, "invert_light_background": False}
    rgba = np.zeros((64, 48, 4), np.uint8)
    rgba[:, :, 0], rgba[:32, :, 3] = 255, 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "half.png")
    x = prepare_image(str(tmp_path / "half.png"), colour).numpy()[0] * 0.5 + 0.5
    assert x.shape == (3, 32, 32)
    np.testing.assert_allclose(x[:, 2, 5], [1, 0, 0], atol=1 / 255)  # red stays red
    np.testing.assert_allclose(x[:, -3, 5], [1, 1, 1], atol=1 / 255)  # transparent becomes white


def test_a_thin_pen_drawing_gets_mnist_thick_strokes():
    Image = pytest.importorskip("PIL.Image")
    from PIL import ImageDraw
    from cnnlab.data.specs import _stroke_width, training_pixels
    prepared = {}
    for width in (3, 24):
        page = Image.new("L", (400, 400), 255)
        ImageDraw.Draw(page).line([(100, 80), (300, 80), (170, 330)], fill=0, width=width, joint="curve")  # a 7
        assert abs(_stroke_width(255.0 - np.asarray(page, np.float64)) - width) < 0.15 * width + 1
        prepared[width] = training_pixels(page, DIGIT_INFO)[:, :, 0].astype(np.float64)
        assert 40 <= (prepared[width] > 128).sum() <= 200, width  # MNIST digits: about 100 such pixels
    ink = {w: (x > 128).sum() for w, x in prepared.items()}
    assert abs(ink[3] - ink[24]) < 0.3 * ink[24], ink  # the hairline arrives as thick as the marker stroke


# ---- optional packages --------------------------------------------------------------------------------------
def test_predict_without_pillow_says_how_to_install_it(run_dir, tmp_path, monkeypatch, capsys):
    pyproject = open(os.path.join(ROOT, "pyproject.toml")).read()
    assert re.search(r'^images = \["Pillow', pyproject, re.M)  # the extra the message names installs Pillow
    (tmp_path / "x.png").write_bytes(b"\x89PNG")
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now fails as if it was not installed
    assert main(["predict", "--checkpoint", str(run_dir), str(tmp_path / "x.png")]) == 1
    line = one_line(capsys, "needs Pillow", "pip install 'cnnlab[images]'")
    assert line.startswith("cnnlab predict: reading images")


def test_train_on_the_bundled_sample_needs_only_numpy(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert main(["train", "--augment", "--epochs", "1", "--subset", "128", "--quiet",
                 "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "checkpoint.pth").exists()


# ---- a model that does not fit the data -----------------------------------------------------------------------
def test_a_model_that_does_not_fit_the_data_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "new"
    assert main(["train", "--model", "lecture-cnn", "--out", str(out)]) == 2
    one_line(capsys, "model lecture_cnn does not fit the data", "expects 3x32x32", "mnist-sample has 1x28x28")
    assert not out.exists()
    (tmp_path / "empty").mkdir()
    assert main(["train", "--model", "lecture_cnn", "--out", str(tmp_path / "empty")]) == 2
    assert os.listdir(tmp_path / "empty") == []


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """A tiny folder: data set, two classes of 64x64 colour images (squares and bars)."""
    Image = pytest.importorskip("PIL.Image")
    root = tmp_path_factory.mktemp("shapes")
    for c, draw in (("bar", lambda a, i: a.__setitem__((slice(None), slice(20 + i, 30 + i)), 255)),
                    ("square", lambda a, i: a.__setitem__((slice(10 + i, 40 + i), slice(10 + i, 40 + i)), 255))):
        (root / c).mkdir()
        for i in range(10):
            a = np.zeros((64, 64, 3), np.uint8)
            draw(a, i)
            Image.fromarray(a).save(root / c / f"{i}.png")
    return root


def test_lenet5_fits_32x32_images_and_is_refused_on_64x64(shapes, tmp_path, capsys):
    assert main(["train", "--data", f"folder:{shapes}", "--image-size", "32", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "ok")]) == 0
    assert json.loads((tmp_path / "ok" / "config.json").read_text())["model_kwargs"]["input_size"] == 32
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(tmp_path / "ok"), "--data", "mnist-sample"]) == 2
    one_line(capsys, "--data: mnist-sample does not match the run")
    assert main(["train", "--data", f"folder:{shapes}", "--image-size", "64", "--out", str(tmp_path / "no")]) == 2
    one_line(capsys, "model lenet5 does not fit the data", "expects 1x28x28", "has 3x64x64 images")
    assert not (tmp_path / "no").exists()


def test_a_diverging_run_ends_with_one_line_and_leaves_no_folder(tmp_path, capsys):
    assert main(["train", "--lr", "1e30", "--epochs", "1", "--subset", "256", "--quiet",
                 "--out", str(tmp_path / "r")]) == 1
    one_line(capsys, "the loss became nan at epoch 1, batch")
    assert not (tmp_path / "r").exists()


# ---- bad arguments --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, words", [
    (["train", "--epochs", "0"], ["argument --epochs: must be more than 0, got 0"]),
    (["train", "--epochs", "-1"], ["argument --epochs: must be more than 0, got -1"]),
    (["train", "--epochs", "ten"], ["argument --epochs: expected an integer, got 'ten'"]),
    (["train", "--batch-size", "0"], ["argument --batch-size: must be more than 0"]),
    (["train", "--lr", "0"], ["argument --lr: must be more than 0"]),
    (["train", "--lr", "-0.1"], ["argument --lr: must be more than 0"]),
    (["train", "--lr", "nan"], ["argument --lr: must be a finite number, got nan"]),
    (["train", "--lr", "inf"], ["argument --lr: must be a finite number, got inf"]),
    (["train", "--weight-decay", "1e999"], ["argument --weight-decay: must be a finite number, got 1e999"]),
    (["train", "--seed", "-1"], ["argument --seed: must be at least 0, got -1"]),
    (["train", "--no-augment", "--augment=x"], ["argument --augment/--no-augment: ignored explicit argument 'x'"]),
    (["evaluate"], ["the following arguments are required: --checkpoint"]),
    (["train", "--subset", "0"], ["argument --subset: must be more than 0"]),
    (["train", "--subset", "-5"], ["argument --subset: must be more than 0"]),
    (["train", "--momentum", "-1"], ["argument --momentum: must be at least 0"]),
    (["train", "--optimizer", "adagrad"], ["argument --optimizer: invalid choice: 'adagrad'"]),
    (["predict", "--checkpoint", "x", "--top-k", "0", "a.png"], ["argument --top-k: must be more than 0"]),
    (["predict", "--checkpoint", "x"], ["the following arguments are required: IMAGE"]),
    (["demo", "--epochs", "0"], ["argument --epochs: must be more than 0"]),
    (["bogus"], ["invalid choice: 'bogus'"]),
])
def test_bad_arguments_are_one_line_and_exit_2(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    one_line(capsys, *words, f"(see 'cnnlab {argv[0] + ' ' if argv[0] != 'bogus' else ''}--help')")


def test_missing_and_wrong_files_are_one_line_and_exit_2(run_dir, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "fake.png").write_text("not an image")
    cases = [
        (["evaluate", "--checkpoint", str(tmp_path / "nowhere")], "no such run folder or checkpoint file"),
        (["evaluate", "--checkpoint", str(run_dir / "nowhere.pth")], "no such run folder or checkpoint file"),
        (["evaluate", "--checkpoint", str(tmp_path)], "no config.json in"),
        (["evaluate", "--checkpoint", str(run_dir / "history.csv")], "cannot load"),
        (["predict", "--checkpoint", str(run_dir), str(tmp_path / "nowhere.png")], "no such image file"),
        (["predict", "--checkpoint", str(run_dir), str(tmp_path / "fake.png")], "not an image Pillow can read"),
        (["predict", "--checkpoint", str(run_dir), str(tmp_path)], "expected an image file, got the folder"),
        (["train", "--data", "nonsense"], "--data: unknown data spec 'nonsense'; expected one of mnist-sample"),
        (["train", "--data", "imagenet:/x"], "--data: unknown data spec 'imagenet:/x'"),
        (["train", "--data", "mnist"], "--data: mnist needs the folder that holds the files, as mnist:DIR"),
        (["train", "--data", f"cifar10:{tmp_path / 'nowhere'}"], "--data: no such folder"),
        (["train", "--data", "mnist-sample:/tmp"], "takes no folder"),
        (["train", "--data", f"mnist:{tmp_path}"], "not found"),
        (["train", "--model", "resnet999"], "--model: unknown model 'resnet999'. 'cnnlab models' lists all"),
        (["train", "--model", "LeNet"], "--model: unknown model 'LeNet'; did you mean lenet5"),
        (["train", "--out", str(tmp_path / "notes.txt")], "is a file; give a folder"),
        (["train", "--out", str(tmp_path / "notes.txt" / "run")], "--out: cannot create the folder"),
        (["train", "--out", ""], "--out: give the folder for the run's files. Got an empty name."),
        (["train", "--out", str(tmp_path)], "exists and is not empty; pass --resume"),
        (["train", "--out", str(tmp_path / "new"), "--resume"], "--resume: no run to resume in"),
        (["evaluate", "--checkpoint", str(run_dir), "--data", "nonsense"], "--data: unknown data spec"),
    ]
    if not _has_pillow():
        cases = [c for c in cases if c[0][0] != "predict"]
    for argv, words in cases:
        if argv[0] == "train" and "--out" not in argv:
            argv = argv + ["--out", str(tmp_path / "never")]
        assert main(argv) == 2, argv
        one_line(capsys, f"cnnlab {argv[0]}: ", words)
    assert sorted(os.listdir(tmp_path)) == ["fake.png", "notes.txt"]  # nothing written by the failed commands


def _has_pillow():
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def test_predict_reports_a_bad_image_and_goes_on_with_the_others(run_dir, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    Image.fromarray(255 - _digit(7)).save(tmp_path / "seven.png")
    assert main(["predict", "--checkpoint", str(run_dir), str(tmp_path / "gone.png"), str(tmp_path / "seven.png")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "gone.png" in captured.err
    assert captured.out.startswith(str(tmp_path / "seven.png") + ": ")


# ---- help ------------------------------------------------------------------------------------------------------
def test_every_option_is_explained_with_examples(capsys):
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "train" in a.choices).choices
    assert {"train", "evaluate", "predict", "models", "demo"} <= set(subparsers)  # and those others register
    assert {"summary", "explain", "filter"} <= set(subparsers)
    for name, sub in subparsers.items():
        for action in sub._actions:
            assert action.help, (name, action.dest)  # every option says what it does
        text = sub.format_help()
        assert "example" in text and f"cnnlab {name}" in text.split("example")[1], name
    train_help = subparsers["train"].format_help()
    for shown in ("(default: 20)", "(default: 64)", "(default: 0.05 for sgd", "(default: sgd)", "(default: runs/run)",
                  "(default: cosine)", "(default: 0.0005)", "--augment, --no-augment", "(default: 0)",
                  "mnist-sample", "mnist:DIR", "fashion-mnist:DIR", "cifar10:DIR", "folder:DIR"):
        assert shown in train_help, shown
    assert "(default: None)" not in train_help and "(default: False)" not in train_help


def test_python_dash_m_help_and_no_command():
    for argv in (["--help"], ["demo", "--help"], ["predict", "--help"]):
        proc = subprocess.run([sys.executable, "-m", "cnnlab", *argv], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0 and "usage: cnnlab" in proc.stdout and "examples:" in proc.stdout, argv
    proc = subprocess.run([sys.executable, "-m", "cnnlab", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and re.fullmatch(r"cnnlab \d+\.\d+\.\d+\n", proc.stdout)
    proc = subprocess.run([sys.executable, "-m", "cnnlab"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "train" in proc.stderr and "predict" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "cnnlab", "train", "--epochs", "ten"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and proc.stderr == ("cnnlab train: argument --epochs: expected an integer, got "
                                                    "'ten' (see 'cnnlab train --help')\n")


def test_an_interrupted_run_keeps_its_last_epoch_and_says_how_to_resume(tmp_path, monkeypatch, capsys):
    import cnnlab.train as train
    real = train.train_one_epoch

    def stop_in_epoch_2(model, loader, loss_fn, optimizer, epoch=1, progress=None):
        if epoch == 2:
            raise KeyboardInterrupt  # Ctrl-C
        return real(model, loader, loss_fn, optimizer, epoch, progress)

    monkeypatch.setattr(train, "train_one_epoch", stop_in_epoch_2)
    out = tmp_path / "r"
    assert main(["train", "--epochs", "3", "--subset", "128", "--quiet", "--out", str(out)]) == 130
    line = one_line(capsys, "interrupted; the last finished epoch is saved in")
    assert line.rstrip().endswith(f"Continue with: cnnlab train --out {out} --quiet --resume")  # config has the rest
    monkeypatch.setattr(train, "train_one_epoch", real)
    assert main(["train"] + line.rstrip().split(" train ", 1)[1].split()) == 0  # the command it suggests
    assert len((out / "history.csv").read_text().splitlines()) == 4
    # the resumed run (same epochs) is the uninterrupted one, weights and history, bit for bit
    whole = tmp_path / "whole"
    assert main(["train", "--epochs", "3", "--subset", "128", "--quiet", "--out", str(whole)]) == 0
    import csv
    import cnnlab
    rows = [[r[:-1] for r in csv.reader(open(d / "history.csv"))] for d in (out, whole)]  # all but the time column
    assert rows[0] == rows[1]
    a, b = (cnnlab.load(str(d / "checkpoint.pth"))["model"] for d in (out, whole))
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)


def test_image_size_and_folder_data_are_checked_first(tmp_path, monkeypatch, capsys):
    assert main(["train", "--image-size", "32", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "--image-size applies to folder:DIR data only")
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert main(["train", "--data", f"folder:{tmp_path}", "--out", str(tmp_path / "r")]) == 1
    one_line(capsys, "cnnlab train: --data folder:DIR: reading images needs Pillow", "pip install 'cnnlab[images]'")
    assert os.listdir(tmp_path) == []


def test_predict_prepares_a_folder_image_exactly_as_training_did(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from cnnlab.data.specs import load_spec, prepare_image
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (50, 70, 4), dtype=np.uint8)
    rgba[:25, :, 3] = 0  # the top half fully transparent: white, not the hidden colours
    images = {"a/rgba.png": Image.fromarray(rgba, "RGBA"),
              "b/sixteen.png": Image.fromarray(rng.integers(0, 65536, (40, 30), dtype=np.uint16)),
              "b/palette.png": Image.fromarray(rgba[:, :, :3]).convert("P"),
              "b/float.tif": Image.fromarray(rng.random((30, 30)).astype(np.float32)),  # values in [0, 1]
              "a/plain.jpg": Image.fromarray(rgba[:, :, :3])}
    for name, img in images.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        img.save(tmp_path / name)
    train, val, info = load_spec(f"folder:{tmp_path}", image_size=24)
    full = train.dataset  # random_split's Subset
    for path, _ in full.samples:
        trained = full[full.samples.index((path, _))][0].numpy()
        np.testing.assert_allclose(prepare_image(path, info).numpy()[0], trained, atol=1e-6)  # one level: 8e-3
    white = prepare_image(str(tmp_path / "a/rgba.png"), info).numpy()[0, :, :8]  # (C, 8 top rows, W)
    np.testing.assert_allclose(white, 1.0)  # (1 - 0.5) / 0.5
    for name in ("b/sixteen.png", "b/float.tif"):  # spread over the whole range, not clipped white or black
        assert abs(prepare_image(str(tmp_path / name), info).numpy().mean()) < 0.1, name


def test_folder_data_needs_matching_train_and_val_classes(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    for part, classes in (("train", ("cat", "dog")), ("val", ("cat", "cow"))):
        for c in classes:
            (tmp_path / "d" / part / c).mkdir(parents=True)
            Image.new("RGB", (8, 8)).save(tmp_path / "d" / part / c / "x.png")
    assert main(["train", "--data", f"folder:{tmp_path / 'd'}", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "--data: the training and validation folders", "['cat', 'dog'] and ['cat', 'cow']")
    (tmp_path / "one" / "cat").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "one" / "cat" / "x.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "one" / "cat" / "y.png")
    assert main(["train", "--data", f"folder:{tmp_path / 'one'}", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "--data: a classifier needs at least two classes")
    Image.new("RGB", (8, 8)).save(tmp_path / "one" / "x.png")
    (tmp_path / "one" / "dog").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "one" / "dog" / "x.png")  # 3 images: 80/20 leaves none to validate
    assert main(["train", "--data", f"folder:{tmp_path / 'one'}", "--out", str(tmp_path / "r")]) == 2
    one_line(capsys, "--data: no images left for validation", "(3 in all")
    assert not (tmp_path / "r").exists()
