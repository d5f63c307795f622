"""Fetching dataset files: download with a checksum check, or a clear message saying where to put them."""
import hashlib
import os
import urllib.error
import urllib.request

from ...io.atomic import atomic_open


def md5sum(path, chunk=1 << 20):
    h = hashlib.md5()  # the published checksums are MD5: this checks integrity, not authenticity
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url, path, md5, dataset, manual_hint):
    """Download url to path (atomically) and check its MD5; on failure raise with where to put the file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=30) as response, atomic_open(path) as out:
            while True:
                block = response.read(1 << 20)
                if not block:
                    break
                out.write(block)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise RuntimeError(f"{dataset}: could not download {url} ({e}). Without a network, download the files "
                           f"elsewhere and put them here: {manual_hint}") from None
    got = md5sum(path)
    if got != md5:
        os.remove(path)
        raise RuntimeError(f"{dataset}: the download of {url} is corrupt (MD5 {got}, expected {md5}); it was "
                           "removed. Try again.")
