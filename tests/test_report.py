"""cnnlab.report and `cnnlab report`: the HTML page of a real run (trained here by `cnnlab train`), every picture
inlined and decodable, nothing fetched from the network, rendered in headless Chromium without console errors."""
import base64
import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402

from cnnlab.cli import main  # noqa: E402
from cnnlab.report import build_report, write_report  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lenet5"
    assert main(["train", "--model", "lenet5", "--data", "mnist-sample", "--epochs", "2", "--subset", "300",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def digit(tmp_path_factory):
    """A hand-drawn '1': a white stroke on black, 28x28, as a person's PNG."""
    a = np.zeros((28, 28), np.uint8)
    a[5:23, 13:16] = 255
    path = tmp_path_factory.mktemp("img") / "one.png"
    Image.fromarray(a).save(path)
    return path


def _images(page):
    uris = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page)
    out = {}
    for data, alt in uris:
        with Image.open(io.BytesIO(base64.b64decode(data))) as im:
            out[alt] = np.asarray(im.convert("RGB"))
    return out


@pytest.fixture(scope="module")
def page(run, digit):
    return build_report(run, image=digit, top_k=10)


def test_page_has_every_part_inlined(page):
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"(src|href)=\"(?!data:)", page) and "http://" not in page and "https://" not in page
    images = _images(page)
    assert set(images) == {"loss and accuracy per epoch", "confusion matrix", "first-layer filters",
                           "feature maps of every convolution layer"}
    for alt, a in images.items():
        assert a.shape[0] > 100 and a.shape[1] > 100 and a.std() > 10, alt  # not blank
    assert "Conv2d (features.0)" in page and "Conv2d (features.3)" in page and "61,706" in page  # the layer table
    assert len(re.findall(r"<tr><td>\d</td><td class=\"num\">[\d.]+%</td><td>", page)) == 10  # per-class accuracy
    assert "Input: one.png" in page


def test_prediction_is_the_models(run, digit, page):
    from cnnlab.cli_common import load_run
    from cnnlab.data.specs import prepare_image
    from cnnlab.train import predict
    config, model = load_run(str(run))
    probs, top, _ = predict(model, prepare_image(str(digit), config["data_info"]), k=10)
    listed = re.findall(r'<tr><td>(\d)</td><td class="num">([\d.]+)%</td></tr>', page)
    assert [int(c) for c, _ in listed] == list(top[0])  # the model's own ranking of the digit
    np.testing.assert_allclose([float(p) for _, p in listed], 100 * probs[0][top[0]], atol=0.051)


def test_feature_maps_of_the_image_for_every_conv_layer(run, digit, monkeypatch):
    from cnnlab import viz
    from cnnlab.cli_common import load_run
    from cnnlab.data.specs import prepare_image
    calls = []
    real = viz.feature_maps
    monkeypatch.setattr(viz, "feature_maps",
                        lambda model, x, *a, **k: calls.append((x, a, k)) or real(model, x, *a, **k))
    build_report(run, image=digit)
    config, _ = load_run(str(run))
    (x, a, k), = calls
    assert a == () and k.get("layers") is None  # None: every Conv2d (viz's rule)
    np.testing.assert_array_equal(x.numpy(), prepare_image(str(digit), config["data_info"]).numpy())


def test_without_image_uses_a_validation_image(run):
    page = build_report(run)
    assert "the first validation image of mnist-sample (its true class: " in page
    assert "feature maps of every convolution layer" in page


def test_errors(run, tmp_path, capsys, monkeypatch):
    with pytest.raises(FileNotFoundError, match="report: no such run folder or checkpoint file. Got run="):
        build_report(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="report: no such image file"):
        build_report(run, image=tmp_path / "none.png")
    assert main(["report", "--checkpoint", str(tmp_path / "nothing"), "--out", str(tmp_path / "r.html")]) == 2
    assert main(["report", "--checkpoint", str(run), "--image", "none.png", "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"cnnlab report: --checkpoint: no such run folder or checkpoint file: {tmp_path / 'nothing'}",
                   "cnnlab report: --image: no such file: none.png"]
    assert not (tmp_path / "r.html").exists()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install cnnlab\[viz\]"):
        build_report(run)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium); "
                                             "the report is not rendered in a browser")
def test_renders_in_headless_chromium(run, digit, tmp_path):
    path = tmp_path / "report.html"
    assert main(["report", "--checkpoint", str(run), "--image", str(digit), "--out", str(path)]) == 0
    # the test (not the page) adds a script that counts the pictures the browser decoded
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text(encoding="utf-8").replace(
        "</body>", "<script>document.body.setAttribute('data-decoded', Array.from(document.images).filter("
                   "i => i.complete && i.naturalWidth > 0).length)</script></body>"), encoding="utf-8")
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    r = subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1100,2400", path.as_uri()],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not re.search(r"Uncaught|CONSOLE\(|ERR_", r.stderr), r.stderr[-2000:]
    with Image.open(shot) as im:
        a = np.asarray(im.convert("L"), dtype=np.float64)
    assert a.shape == (2400, 1100) and a.std() > 20 and (a < 200).mean() > 0.02  # text and pictures, not blank
    r = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=90)
    assert r.returncode == 0 and 'data-decoded="4"' in r.stdout, r.stderr[-2000:]
    assert not re.search(r"Uncaught|CONSOLE\(", r.stderr), r.stderr[-2000:]


def test_write_report_creates_folders(tmp_path, monkeypatch):
    import cnnlab.report
    monkeypatch.setattr(cnnlab.report, "build_report", lambda run, image, top_k: "<!DOCTYPE html><html></html>")
    path = write_report("run", tmp_path / "a" / "b" / "report.html")
    assert open(path, encoding="utf-8").read() == "<!DOCTYPE html><html></html>"
