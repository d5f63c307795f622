"""Atomic file writes: write to a temporary file beside the target, flush it to disk, then rename it over
the target. A crash or an exception mid-write leaves the previous file as it was."""
import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_open(path, mode="wb", newline=None):
    """Open a temporary file in path's folder; on success it replaces path in one rename, on error it is
    removed and path is untouched. `newline` is open()'s, for text modes (the csv module wants "").

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.bin")
    >>> with atomic_open(p) as f:
    ...     _ = f.write(b"new")
    >>> open(p, "rb").read()
    b'new'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
