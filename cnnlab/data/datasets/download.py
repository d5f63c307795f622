"""The project's one downloader: datasets and pretrained weights come through `fetch`, which checks a
checksum while it streams, writes atomically, shows progress with tqdm when it is installed, and, without a
network, says which file to put in which folder."""
import hashlib
import os
import urllib.error
import urllib.request

from ...errors import DataError
from ...io.atomic import atomic_open


class DownloadError(OSError, RuntimeError):
    """A download that could not happen (no network, server gone, HTTP error). An OSError like urllib's own
    errors, and a RuntimeError like the rest of cnnlab's download failures."""


class ChecksumError(DataError, RuntimeError):
    """A downloaded file whose checksum is not the published one (torch.hub raises RuntimeError for it)."""


def md5sum(path, chunk=1 << 20):
    """The MD5 hex digest of a file (the published dataset checksums are MD5: integrity, not authenticity)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _progress_bar(total, desc, enabled):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def _check_hashes(md5, sha256_prefix):
    for name, value, length in (("md5", md5, 32), ("sha256_prefix", sha256_prefix, 64)):
        if value is None:
            continue
        if (not isinstance(value, str) or not 0 < len(value) <= length
                or any(c not in "0123456789abcdefABCDEF" for c in value)):
            raise ValueError(f"fetch: {name} must be a hex string of at most {length} digits. Got {name}={value!r}.")
        if name == "md5" and len(value) != 32:
            raise ValueError(f"fetch: md5 must be the full 32 hex digits. Got md5={value!r}.")


def fetch(url, path, *, md5=None, sha256_prefix=None, what="download", manual_hint=None, progress=True,
          timeout=30):
    """Download `url` to `path`, check its checksum, and write it atomically; return `path`.

    Args:
        url (str): where to download from (http, https or file).
        path (str): where the file goes; its folder is created.
        md5 (str, default None): the expected MD5 hex digest.
        sha256_prefix (str, default None): the expected start of the SHA-256 hex digest (as torch.hub names
            weight files: `resnet18-f37072fd.pth`).
        what (str, default "download"): who is downloading, for messages ("MNIST", "resnet18 weights").
        manual_hint (str, default None): where to put the file by hand, for the offline message; default the
            path itself.
        progress (bool, default True): a progress bar on stderr when tqdm is installed.
        timeout (float, default 30): seconds to wait for the server.

    Raises:
        DownloadError (an OSError and RuntimeError): the file could not be downloaded (no network, HTTP error).
        ChecksumError (a ValueError and RuntimeError): the downloaded bytes do not match md5 / sha256_prefix;
            nothing is left at path (a file already there stays as it was).

    >>> import os, pathlib, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> source = pathlib.Path(folder, "source.bin")
    >>> _ = source.write_bytes(b"weights")
    >>> target = os.path.join(folder, "copy", "weights.bin")
    >>> fetch(source.as_uri(), target, md5="63f4f1e9b725370f459720575cd5f953", progress=False) == target
    True
    >>> fetch(source.as_uri(), target, sha256_prefix="00000000", what="demo", progress=False)
    Traceback (most recent call last):
    ...
    cnnlab.data.datasets.download.ChecksumError: demo: the download of ... is corrupt or not the expected \
file (SHA-256 ...; expected one starting with 00000000); nothing was written. Try again.
    """
    _check_hashes(md5, sha256_prefix)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if manual_hint is None:
        manual_hint = f"{path} (the folder {folder}/)"
    os.makedirs(folder, exist_ok=True)
    hashes = {"MD5": (hashlib.md5(), md5), "SHA-256": (hashlib.sha256(), sha256_prefix)}
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_open(path) as out:
            length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            bar = _progress_bar(int(length) if length and length.isdigit() else None,
                                what if what != "download" else os.path.basename(path), progress)
            try:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    for h, _ in hashes.values():
                        h.update(block)
                    if bar is not None:
                        bar.update(len(block))
            finally:
                if bar is not None:
                    bar.close()
            for name, (h, expected) in hashes.items():
                got = h.hexdigest()
                if expected is not None and not got.startswith(expected.lower()):
                    wanted = expected if name == "MD5" else f"one starting with {expected}"
                    # raised inside atomic_open: the temporary is removed and path is left as it was
                    raise ChecksumError(f"{what}: the download of {url} is corrupt or not the expected file "
                                        f"({name} {got}; expected {wanted}); nothing was written. Try again.")
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as e:
        if isinstance(e, ChecksumError):
            raise
        reason = (f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError)
                  else f"{type(e).__name__}: {getattr(e, 'reason', None) or e}")
        raise DownloadError(f"{what}: could not download {url} ({reason}). Without a "
                            f"network, download the file elsewhere and put it here: {manual_hint}") from None
    return path
