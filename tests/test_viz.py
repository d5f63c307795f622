"""cnnlab.viz: every picture is a Figure, saved as a real PNG of the figure's size that is not blank, and draws
what it claims (the captured maps equal SciPy's correlation, the curves the CSV, the cells the counts); a
clear message when matplotlib is missing."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
from cnnlab import filters as kernels

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

from cnnlab import viz  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def check_png(path, fig, colour=0.0, ink=0.02):
    """A PNG of the figure's size (100 dpi) with something drawn on it: more than `ink` of its pixels not near
    white (curves draw little, image grids much) and more than `colour` of them clearly coloured (red and blue
    apart), not gray. Returns its pixels (H, W, 3)."""
    Image = pytest.importorskip("PIL.Image")
    assert path.read_bytes()[:8] == PNG
    with Image.open(path) as img:
        assert img.format == "PNG"
        w, h = fig.get_size_inches() * 100
        assert img.size == (round(w), round(h))
        pixels = np.asarray(img.convert("RGB"), dtype=np.float64)
    assert pixels.std() > 20  # not blank
    assert (pixels.min(axis=2) < 200).mean() > ink
    assert (np.abs(pixels[..., 0] - pixels[..., 2]) > 60).mean() >= colour
    return pixels


def _title(fig):
    return fig.get_suptitle().replace("\n", " ")  # long titles are wrapped to the figure's width


def _digit():
    from cnnlab.data import MNISTSample
    ds = MNISTSample(train=False)
    image = ds.data[3].numpy().astype(np.float64) / 255  # a real handwritten 3
    return image


def _edge_lenet():
    """LeNet-5 whose first layer holds the notes' edge detectors (a trained first layer learns similar ones)."""
    from cnnlab.models import LeNet5
    model = LeNet5()
    names = ["vertical_edge", "horizontal_edge", "sobel_vertical", "sobel_horizontal", "edge_8", "sharpen"]
    w = np.zeros((6, 1, 5, 5), dtype=np.float32)
    for i, name in enumerate(names):
        w[i, 0, 1:4, 1:4] = kernels.kernel(name).numpy()
    with cnnlab.no_grad():
        model.features[0].weight.copy_(cnnlab.tensor(w))
        model.features[0].bias.zero_()
    return model, names


# ---- feature maps ---------------------------------------------------------------------------------------------
def test_capture_gives_what_the_layers_output_and_leaves_the_model_as_it_was():
    ndimage = pytest.importorskip("scipy.ndimage")
    model, names = _edge_lenet()
    digit = _digit()
    model.train()
    outputs = viz.capture(model, cnnlab.tensor(digit[None, None], dtype=cnnlab.float32))
    assert [(p, tuple(o.shape)) for p, _, o in outputs] == [("features.0", (1, 6, 28, 28)),
                                                            ("features.3", (1, 16, 10, 10))]
    assert model.training and all(not m._forward_hooks for m in model.modules())
    for c, name in enumerate(names):  # the maps are the kernels' responses to the digit (zero padding 2)
        ref = ndimage.correlate(digit, kernels.kernel(name, dtype=cnnlab.float64).numpy(), mode="constant")
        np.testing.assert_allclose(outputs[0][2].numpy()[0, c], ref, atol=1e-5)
    relu = viz.capture(model, cnnlab.tensor(digit[None, None], dtype=cnnlab.float32), layers=["features.1"])
    assert relu[0][0] == "features.1" and float(relu[0][2].min()) == 0.0


def test_feature_maps_of_a_digit(tmp_path):
    model, _ = _edge_lenet()
    x = cnnlab.tensor(((_digit() - 0.1307) / 0.3081)[None, None], dtype=cnnlab.float32)
    fig = viz.feature_maps(model, x, path=tmp_path / "deep" / "maps.png")
    assert isinstance(fig, Figure)
    titles = [sub.get_suptitle() for sub in fig.subfigs]
    assert titles[0] == "input (1, 1, 28, 28)"
    assert titles[1].startswith("features.0: Conv2d(1, 6, kernel_size=(5, 5)") and titles[1].endswith("(1, 6, 28, 28)")
    assert titles[2].startswith("features.3: Conv2d(6, 16") and titles[2].endswith("(1, 16, 10, 10)")
    images = [ax.get_images()[0].get_array() for ax in fig.subfigs[1].axes if ax.get_images()]
    assert len(images) == 6
    np.testing.assert_allclose(images[0], viz.capture(model, x)[0][2].numpy()[0, 0], rtol=1e-6)
    check_png(tmp_path / "deep" / "maps.png", fig, ink=0.3)


def test_feature_maps_batch_layers_and_limits():
    net = nn.Sequential(nn.Conv2d(3, 40, 3), nn.ReLU(), nn.Conv2d(40, 2, 3))
    fig = viz.feature_maps(net, cnnlab.randn(4, 3, 12, 12), layers="0", max_maps=10)
    assert [s.get_suptitle() for s in fig.subfigs][0] == "input (3, 12, 12) (image 0 of the batch)"
    assert len(fig.subfigs) == 2 and sum(bool(ax.get_images()) for ax in fig.subfigs[1].axes) == 10
    assert "first 10 of 40 channels" in [t.get_text() for t in fig.subfigs[1].texts]
    fig = viz.feature_maps(net, cnnlab.randn(3, 12, 12), layers=["2", "1"])  # drawn in the order they ran
    assert [s.get_suptitle().split(":")[0] for s in fig.subfigs] == ["input (1, 3, 12, 12)", "1", "2"]


@pytest.mark.parametrize("call,message,kind", [
    (lambda: viz.feature_maps(nn.Sequential(nn.Conv2d(1, 2, 3)), cnnlab.randn(1, 1, 5, 5), layers=["conv1"]),
     "feature_maps: layers must name modules of the model (as named_modules() does). Got layers=['conv1']; the "
     "convolutions are 0.", ValueError),
    (lambda: viz.feature_maps(nn.Sequential(nn.Linear(2, 2)), cnnlab.randn(1, 2)), "the model has no Conv2d layer",
     ValueError),
    (lambda: viz.feature_maps(nn.Sequential(nn.Conv2d(1, 2, 3)), np.zeros((1, 1, 5, 5))), "x must be a Tensor",
     TypeError),
    (lambda: viz.filters(nn.Linear(2, 3)), "filters: the module has no Conv2d layer. Got a Linear.", ValueError),
    (lambda: viz.filters(np.zeros(5)), "Got weight.shape=(5,).", ValueError),
    (lambda: viz.history({"loss": [1.0]}), "history: the history needs an 'epoch' column.", ValueError),
    (lambda: viz.confusion_matrix([[1, 2, 3]]), "the matrix must be square (K, K) with K >= 1. Got shape (1, 3).",
     ValueError),
    (lambda: viz.confusion_matrix(np.zeros((0, 0))), "Got shape (0, 0).", ValueError),
    (lambda: viz.filter_response(np.zeros((5, 5)), []), "give at least one kernel", ValueError),
    (lambda: viz.confusion_matrix([[1, 2], [3, 4]], classes=["a"]), "Got 1 names for a 2x2 matrix.", ValueError),
    (lambda: viz.filter_response(np.zeros((5, 5)), "blurr"), "Got name='blurr'.", ValueError),
    (lambda: viz.filter_response(np.zeros((2, 5, 5)), "sharpen"), "must have 1, 3 or 4 channels", ValueError),
    (lambda: viz.filter_response("gone.png", "sharpen"), "no such image file: gone.png", FileNotFoundError),
])
def test_errors(call, message, kind):
    with pytest.raises(kind) as e:
        call()
    assert message in str(e.value)


# ---- filters --------------------------------------------------------------------------------------------------
def test_first_layer_rgb_filters_in_colour(tmp_path):
    from cnnlab.models import alexnet
    model = alexnet()
    fig = viz.filters(model, max_filters=16, path=tmp_path / "rgb.png")
    assert _title(fig).startswith("Conv2d(3, 64, kernel_size=(11, 11)") and "first 16 of 64 filters" in \
        _title(fig)
    shown = [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]
    assert len(shown) == 16 and shown[0].shape == (11, 11, 3)
    w = model.features[0].weight.detach().numpy()[0].transpose(1, 2, 0)
    np.testing.assert_allclose(shown[0], (w - w.min()) / (w.max() - w.min()), rtol=1e-5, atol=1e-6)
    check_png(tmp_path / "rgb.png", fig, colour=0.1, ink=0.3)


def test_one_channel_and_deeper_filters(tmp_path):
    model, _ = _edge_lenet()
    fig = viz.filters(model.features[0], path=tmp_path / "first.png")
    shown = [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]
    assert len(shown) == 6
    np.testing.assert_array_equal(shown[2][1:4, 1:4], kernels.kernel("sobel_vertical").numpy())
    check_png(tmp_path / "first.png", fig, colour=0.01)  # red positive, blue negative
    fig = viz.filters(model.features[3], max_filters=4, max_channels=3, path=tmp_path / "deep.png")
    assert "first 4 of 16 filters, first 3 of 6 input channels" in _title(fig)
    assert sum(bool(ax.get_images()) for ax in fig.axes) == 12
    check_png(tmp_path / "deep.png", fig)
    for weight in (np.ones((3, 3)), cnnlab.randn(4, 5, 5), cnnlab.randn(2, 2, 3, 3)):
        assert isinstance(viz.filters(weight), Figure)
    t = viz.filters(nn.ConvTranspose2d(4, 3, 3))  # (in, out, ...) read as 3 filters of 4 channels
    assert "weight (3, 4, 3, 3)" in _title(t)


# ---- history and confusion matrix -----------------------------------------------------------------------------
@pytest.fixture
def run_dir(tmp_path):
    rows = [(1, 1.9, 0.36, 0.60, 0.79, 0.05), (2, 0.61, 0.80, 0.24, 0.93, 0.04), (3, 0.37, 0.89, "", "", 0.03),
            (4, 0.27, 0.92, 0.14, 0.95, 0.02)]
    with open(tmp_path / "history.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time"])
        w.writerows([r + (1.5,) for r in rows])
    matrix = [[50, 2, 0], [3, 40, 7], [0, 1, 47]]
    (tmp_path / "metrics.json").write_text(json.dumps({"confusion_matrix": matrix}))
    (tmp_path / "config.json").write_text(json.dumps({"data_info": {"classes": ["cat", "dog", "bird"]}}))
    return tmp_path


def test_history_draws_the_csv(run_dir):
    fig = viz.history(run_dir, path=run_dir / "curves.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "learning rate"]
    loss = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    np.testing.assert_allclose(loss["training"], [1.9, 0.61, 0.37, 0.27])
    np.testing.assert_allclose(loss["validation"], [0.60, 0.24, np.nan, 0.14])
    assert "best 0.950" in [t.get_text() for t in fig.axes[1].texts]
    check_png(run_dir / "curves.png", fig, colour=0.005)
    assert [ax.get_title() for ax in viz.history(run_dir / "history.csv").axes][:2] == ["loss", "accuracy"]


def test_history_of_fit(tmp_path):
    from cnnlab.data import DataLoader, TensorDataset
    from cnnlab.train import fit
    cnnlab.manual_seed(0)
    data = TensorDataset(cnnlab.randn(32, 1, 8, 8), cnnlab.randint(0, 3, (32,)))
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 3))
    optimizer = cnnlab.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, DataLoader(data, batch_size=8), nn.CrossEntropyLoss(), optimizer, 3,
                  val_loader=DataLoader(data, batch_size=16), progress=False)
    fig = viz.history(history, path=tmp_path / "history.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]  # constant lr: no lr panel
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), history["val_loss"])
    check_png(tmp_path / "history.png", fig, colour=0.005)


def test_history_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no history.csv in the run folder"):
        viz.history(tmp_path)
    (tmp_path / "history.csv").write_text("epoch,train_loss\n1,abc\n")
    with pytest.raises(ValueError, match="Got 'abc' in column 'train_loss', line 2"):
        viz.history(tmp_path)


def test_confusion_matrix_of_a_run(run_dir):
    fig = viz.confusion_matrix(run_dir, path=run_dir / "cm.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    assert [t.get_text() for t in ax.texts] == ["50", "2", "0", "3", "40", "7", "0", "1", "47"]
    assert ax.get_title() == "confusion matrix: accuracy 137/150 = 91.3%"
    check_png(run_dir / "cm.png", fig, colour=0.02)
    fig = viz.confusion_matrix(cnnlab.tensor([[3, 1], [0, 4]]), normalize=True)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.75", "0.25", "0.00", "1.00"]
    with pytest.raises(FileNotFoundError, match="no metrics.json"):
        viz.confusion_matrix(run_dir / "nowhere")


# ---- filter_response -------------------------------------------------------------------------------------------
def test_filter_response_on_a_real_photo(tmp_path):
    skdata = pytest.importorskip("skimage.data")
    photo = skdata.astronaut()[::4, ::4]  # (128, 128, 3) uint8
    fig = viz.filter_response(photo, ["sobel_vertical", "gaussian_blur_5"], path=tmp_path / "edges.png")
    axes = fig.axes
    assert [axes[i].get_title() for i in (0, 1, 2)] == ["image (128, 128)", "sobel_vertical", "result (128, 128)"]
    gray = (0.299 * photo[..., 0] + 0.587 * photo[..., 1] + 0.114 * photo[..., 2]) / 255
    np.testing.assert_allclose(axes[0].get_images()[0].get_array(), gray)
    np.testing.assert_allclose(axes[2].get_images()[0].get_array(),
                               kernels.apply(gray, "sobel_vertical", padding_mode="replicate"))
    assert [t.get_text() for t in axes[1].texts] == ["1", "0", "-1", "2", "0", "-2", "1", "0", "-1"]
    check_png(tmp_path / "edges.png", fig, colour=0.02, ink=0.3)
    fig = viz.filter_response(cnnlab.tensor(gray[None]), [np.eye(3), np.ones((5, 5)), "sharpen"], abs=True)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["image (128, 128)", "kernel", "result (128, 128)"]
    assert len(fig.axes) == 3 * 3 + 3  # three rows of image, kernel, result (and a colour bar each)
    for kernel in ([[0, 1], [1, 0]], cnnlab.ones(2, 2), np.ones((2, 2))):  # one kernel of your own
        assert [ax.get_title() for ax in viz.filter_response(gray, kernel).axes[:2]][1] == "kernel"


def test_filter_response_reads_a_file(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    step = np.zeros((20, 30), dtype=np.uint8)
    step[:, :15] = 200
    Image.fromarray(step).save(tmp_path / "step.png")
    fig = viz.filter_response(tmp_path / "step.png", "vertical_edge", abs=True)
    result = fig.axes[2].get_images()[0].get_array()
    assert fig.axes[2].get_title() == "|result| (20, 30)"
    assert np.argmax(np.abs(result[10])) in (14, 15) and np.abs(result).max() == pytest.approx(3 * 200 / 255)


# ---- matplotlib: optional, outside pyplot ---------------------------------------------------------------------
def test_a_missing_matplotlib_is_named_with_the_install_command(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    calls = [lambda: viz.feature_maps(nn.Sequential(nn.Conv2d(1, 2, 3)), cnnlab.randn(1, 1, 5, 5)),
             lambda: viz.filters(nn.Conv2d(3, 2, 3)), lambda: viz.history({"epoch": [1], "train_loss": [1.0]}),
             lambda: viz.confusion_matrix([[1]]), lambda: viz.filter_response(np.zeros((5, 5)))]
    for call in calls:
        with pytest.raises(ImportError, match=r"matplotlib, which is not installed: pip install cnnlab\[viz\]"):
            call()


def test_importing_viz_needs_no_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import cnnlab.viz\n"
            "try:\n    cnnlab.viz.confusion_matrix([[1]])\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install cnnlab[viz]" in out.stdout


def test_path_may_be_a_file_object():
    import io
    buffer = io.BytesIO()
    fig = viz.confusion_matrix([[3, 1], [0, 4]], path=buffer)
    assert buffer.getvalue()[:8] == PNG and isinstance(fig, Figure)


def test_require_matplotlib(monkeypatch):
    assert viz.require_matplotlib() is matplotlib
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install cnnlab\[viz\]"):
        viz.require_matplotlib()


def test_figures_stay_out_of_pyplot(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    viz.confusion_matrix([[1, 0], [0, 1]], path=tmp_path / "a.png")
    assert plt.get_fignums() == before


def test_history_of_one_epoch_has_whole_epoch_ticks():
    # A one-epoch run used to get ticks 0.95, 0.975, ... and the title "(1 epochs)".
    h = {"epoch": [1], "train_loss": [1.0], "val_loss": [1.1], "train_acc": [0.8], "val_acc": [0.82]}
    fig = viz.history(h)
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks == [1.0]
    assert fig._suptitle.get_text() == "training history (1 epoch)"
