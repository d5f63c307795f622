"""Atomic file writes: write to a temporary file beside the target, flush it to disk, then rename it over
the target. A crash, an exception or a kill mid-write leaves the previous file as it was.

The temporary file is `.<name>.<pid>-<random>.tmp` in the target's folder. It is removed on any exception
(KeyboardInterrupt included); a process killed outright (SIGKILL, SIGTERM without a handler, power loss) cannot
remove it, so the next atomic write of the same target removes the temporaries whose writer is gone.
"""
import contextlib
import os
import re
import secrets
import time

# a temporary is stale once its writer's process is gone and it has not been written for this long (a writer on
# another machine sharing the folder keeps its file's mtime fresh while it writes)
STALE_AFTER_S = 60.0


def _temp_pattern(base):
    # our names, and the names mkstemp gave before the pid was in them (".<name>.<8 random chars>.tmp")
    return re.compile(re.escape("." + base + ".") + r"(?:(\d+)-[0-9a-f]+|[A-Za-z0-9_]{8})\.tmp")


def _process_alive(pid):
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there; age alone decides
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to another user
        return True
    return True


def remove_stale_temps(path, now=None):
    """Remove the temporaries that killed writes of `path` left behind; return the names removed.

    A temporary is removed when its writer's process no longer exists (or, for names without a pid, and on
    Windows, when it is over an hour old) and it has not been modified for STALE_AFTER_S seconds, so a save in
    progress in another process is never disturbed.
    """
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    pattern, now = _temp_pattern(base), time.time() if now is None else now
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        full = os.path.join(folder, name)
        try:
            age = now - os.stat(full).st_mtime
        except OSError:
            continue
        pid = match.group(1)
        if pid is not None and int(pid) == os.getpid():
            continue  # one of this process's own writes (another thread) in progress
        gone = age > 3600.0 if pid is None or os.name == "nt" else not _process_alive(int(pid))
        if gone and age > STALE_AFTER_S:
            with contextlib.suppress(OSError):
                os.remove(full)
                removed.append(name)
    return removed


def _create_temp(folder, base):
    """A new file opened for writing, created with mode 0o666 so that the umask applies as for open()."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(folder, f".{base}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _sync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode="wb", newline=None):
    """Open a temporary file in path's folder; on success it replaces path in one rename, on error it is
    removed and path is untouched. `newline` is open()'s, for text modes (the csv module wants "").

    The new file gets the permissions a plain open() would give: those of the file it replaces, else
    0o666 minus the umask. Temporaries left by earlier killed writes of the same path are removed first.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.bin")
    >>> with atomic_open(p) as f:
    ...     _ = f.write(b"new")
    >>> open(p, "rb").read()
    b'new'
    """
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    remove_stale_temps(path)
    fd, tmp = _create_temp(folder, base)
    try:
        with contextlib.suppress(OSError, AttributeError):  # keep the replaced file's mode, as open() does
            os.fchmod(fd, os.stat(path).st_mode & 0o7777)
        with os.fdopen(fd, mode, newline=newline) as f:
            fd = None  # the file object owns it now
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _sync_folder(folder)
