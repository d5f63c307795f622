"""cnnlab.io.atomic: an interrupted or killed save never loses the previous checkpoint and never leaves
temporaries behind for good; new files get open()'s permissions."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import cnnlab
from cnnlab.io import atomic
from cnnlab.io.atomic import atomic_open, remove_stale_temps


def _temps(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _backdate(path, seconds=3 * atomic.STALE_AFTER_S):
    t = time.time() - seconds
    os.utime(path, (t, t))


@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError, SystemExit])
def test_any_exception_removes_the_temporary_and_keeps_the_old_file(tmp_path, error):
    path = tmp_path / "checkpoint.pth"
    cnnlab.save({"w": cnnlab.ones(3)}, str(path))
    with pytest.raises(error):
        with atomic_open(path) as f:
            f.write(b"half a checkpoint")
            raise error()
    assert _temps(tmp_path) == [] and cnnlab.load(str(path))["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.skipif(os.name == "nt", reason="umask and SIGKILL are POSIX")
@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_respect_the_umask_like_open(tmp_path, umask, expected):
    old = os.umask(umask)
    try:
        cnnlab.save({"w": cnnlab.ones(1)}, str(tmp_path / "a.pth"))
        cnnlab.save({"w": cnnlab.ones(1)}, str(tmp_path / "a.safetensors"))
        with open(tmp_path / "plain", "wb"):
            pass
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "plain").st_mode & 0o777 == expected  # what a plain open() gives
    assert os.stat(tmp_path / "a.pth").st_mode & 0o777 == expected
    assert os.stat(tmp_path / "a.safetensors").st_mode & 0o777 == expected


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_overwriting_keeps_the_files_mode(tmp_path):
    path = tmp_path / "c.pth"
    cnnlab.save({"w": cnnlab.ones(1)}, str(path))
    os.chmod(path, 0o640)
    cnnlab.save({"w": cnnlab.zeros(1)}, str(path))
    assert os.stat(path).st_mode & 0o777 == 0o640 and cnnlab.load(str(path))["w"].tolist() == [0.0]


# atomic.py needs nothing from cnnlab: load it alone, so the writer starts fast and whatever the package is doing
_KILLED_WRITER = r"""
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("atomic", sys.argv[2])
atomic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(atomic)
with atomic.atomic_open(sys.argv[1]) as f:
    f.write(b"PK\x03\x04 half of a new checkpoint")
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sigkill_mid_save_keeps_the_old_checkpoint_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "checkpoint.pth"
    cnnlab.save({"w": cnnlab.arange(4).float()}, str(path))
    before = path.read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), atomic.__file__], stdout=subprocess.PIPE)
    try:
        assert writer.stdout.readline() == b"writing\n"
        (temp,) = _temps(tmp_path)
        assert temp.startswith(".checkpoint.pth.")
        assert remove_stale_temps(path) == []  # its writer is alive: a save in progress is never touched
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    assert path.read_bytes() == before and cnnlab.load(str(path))["w"].tolist() == [0, 1, 2, 3]
    assert _temps(tmp_path) == [temp]
    assert remove_stale_temps(path) == []  # the writer is gone, but the file was written a moment ago
    _backdate(tmp_path / temp)
    cnnlab.save({"w": cnnlab.ones(2)}, str(path))  # the next save of the same target removes it
    assert _temps(tmp_path) == [] and cnnlab.load(str(path))["w"].tolist() == [1.0, 1.0]


@pytest.mark.skipif(os.name == "nt", reason="pids and POSIX kill")
def test_stale_temporaries_are_removed_only_when_their_writer_is_gone(tmp_path):
    path = tmp_path / "model.pth"
    dead, alive = _dead_pid(), os.getppid()
    names = {
        f".model.pth.{dead}-0a1b2c3d.tmp": True,      # killed writer, old file
        ".model.pth.k3j_x9Qz.tmp": True,              # mkstemp's name before this fix, over an hour old
        f".model.pth.{alive}-0a1b2c3d.tmp": False,    # a writer that is still running
        f".model.pth.{os.getpid()}-00ff00ff.tmp": False,  # this process's own write in another thread
        f".other.pth.{dead}-0a1b2c3d.tmp": False,     # another target's temporary
        "model.pth.bak": False, f".model.pth.{dead}-0a1b2c3d.tmp.keep": False, "model.pth": False,
    }
    for name in names:
        (tmp_path / name).write_bytes(b"x")
        _backdate(tmp_path / name, 7200)
    fresh = f".model.pth.{dead}-99999999.tmp"  # killed writer, but written just now: left alone
    (tmp_path / fresh).write_bytes(b"x")
    removed = remove_stale_temps(path)
    assert sorted(removed) == sorted(n for n, stale in names.items() if stale)
    assert sorted(os.listdir(tmp_path)) == sorted([n for n, stale in names.items() if not stale] + [fresh])


def test_atomic_write_of_a_large_array_round_trips(tmp_path):
    x = np.random.default_rng(0).standard_normal((300, 300))
    path = tmp_path / "big.pth"
    cnnlab.save({"x": cnnlab.from_numpy(x)}, str(path))
    np.testing.assert_array_equal(cnnlab.load(str(path))["x"].numpy(), x)
    assert _temps(tmp_path) == []
