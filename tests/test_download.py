"""cnnlab.data.datasets.download.fetch against a local HTTP server on 127.0.0.1 (no network needed)."""
import contextlib
import functools
import hashlib
import http.server
import os
import socket
import threading

import pytest

from cnnlab.data.datasets import download
from cnnlab.data.datasets.download import ChecksumError, DownloadError, fetch

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: more than one read block


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _server(folder):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "server"
    root.mkdir()
    (root / "weights.bin").write_bytes(PAYLOAD)
    with _server(root) as url:
        yield url


def _leftovers(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_fetch_downloads_and_checks_md5_and_sha256(served, tmp_path):
    target = tmp_path / "out" / "weights.bin"
    md5, sha = hashlib.md5(PAYLOAD).hexdigest(), hashlib.sha256(PAYLOAD).hexdigest()
    assert fetch(served + "weights.bin", str(target), md5=md5, sha256_prefix=sha[:8], progress=False) == str(target)
    assert target.read_bytes() == PAYLOAD
    assert _leftovers(target.parent) == ["weights.bin"]  # no temporary left behind


def test_fetch_shows_a_tqdm_bar_when_asked(served, tmp_path, capsys):
    pytest.importorskip("tqdm")
    fetch(served + "weights.bin", str(tmp_path / "w.bin"), what="resnet18 weights", progress=True)
    assert "resnet18 weights" in capsys.readouterr().err
    fetch(served + "weights.bin", str(tmp_path / "w2.bin"), progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kind", ["md5", "sha256_prefix"])
def test_fetch_refuses_a_wrong_checksum_and_leaves_nothing(served, tmp_path, kind):
    target = tmp_path / "out" / "weights.bin"
    with pytest.raises(ChecksumError, match=r"^mnist: the download of http://127\.0\.0\.1:\d+/weights\.bin is corrupt "
                                            r"or not the expected file \((MD5|SHA-256) [0-9a-f]+; expected .*0000"):
        fetch(served + "weights.bin", str(target), **{kind: "0" * (32 if kind == "md5" else 8)}, what="mnist",
              progress=False)
    assert _leftovers(target.parent) == []
    # a good file already there is not touched by a failed download
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):  # torch.hub raises RuntimeError for a hash mismatch
        fetch(served + "weights.bin", str(target), md5="0" * 32, progress=False)
    assert target.read_bytes() == b"old" and _leftovers(target.parent) == ["weights.bin"]


def test_fetch_without_a_server_says_where_to_put_the_file(tmp_path):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = tmp_path / "data" / "MNIST" / "raw" / "train.gz"
    with pytest.raises(DownloadError) as info:
        fetch(f"http://127.0.0.1:{port}/train.gz", str(target), md5="0" * 32, what="MNIST", progress=False)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"MNIST: could not download http://127.0.0.1:{port}/train.gz (")
    assert f"put it here: {target} (the folder {target.parent}/)" in message
    assert isinstance(info.value, OSError) and isinstance(info.value, RuntimeError)
    assert _leftovers(target.parent) == []


def test_fetch_http_error_and_manual_hint(served, tmp_path):
    with pytest.raises(DownloadError, match=r"^CIFAR10: could not download .*missing\.tar\.gz \(HTTP 404 File not found\)"
                                            r"\. Without a network, download the file elsewhere and put it here: "
                                            r"/data/ \(the file x\.tar\.gz\)$"):
        fetch(served + "missing.tar.gz", str(tmp_path / "x.tar.gz"), what="CIFAR10",
              manual_hint="/data/ (the file x.tar.gz)", progress=False)


@pytest.mark.parametrize("kwargs", [dict(md5="abc"), dict(md5="z" * 32), dict(sha256_prefix=""),
                                    dict(sha256_prefix="0" * 65), dict(sha256_prefix=12)])
def test_fetch_checks_its_checksum_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError, match=r"^fetch: (md5|sha256_prefix) must be"):
        fetch("http://127.0.0.1:9/x", str(tmp_path / "x"), **kwargs)


def test_dataset_callers_use_fetch(monkeypatch, tmp_path):
    """MNIST and CIFAR10 download through fetch with their published MD5 and a hint naming their folder."""
    from cnnlab.data import CIFAR10, MNIST
    calls = []

    def fake_fetch(url, path, **kwargs):
        calls.append((url, path, kwargs))
        raise DownloadError("offline")

    monkeypatch.setattr("cnnlab.data.datasets.mnist.fetch", fake_fetch)
    monkeypatch.setattr("cnnlab.data.datasets.cifar.fetch", fake_fetch)
    for cls in (MNIST, CIFAR10):
        with pytest.raises(DownloadError):
            cls(str(tmp_path), download=True)
    (mnist_url, mnist_path, mnist_kw), (cifar_url, _, cifar_kw) = calls
    assert mnist_url.endswith("train-images-idx3-ubyte.gz") and mnist_kw["md5"] == MNIST.resources[0][1]
    assert mnist_kw["what"] == "MNIST" and os.path.join("MNIST", "raw") in mnist_kw["manual_hint"]
    assert cifar_url == CIFAR10.url and cifar_kw["md5"] == CIFAR10.md5 and cifar_kw["what"] == "CIFAR10"
    assert download.md5sum  # still exported for callers that check files already on disk
