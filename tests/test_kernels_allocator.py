"""kernels/allocator.py: glibc's allocator keeps freed memory mapped, unless CNNLAB_MALLOC=system."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = ("import ctypes, numpy as np, cnnlab; from cnnlab.kernels import allocator; "
         "print(allocator.configure()); libc = ctypes.CDLL(None); "
         "a = np.ones(20 << 18, np.float32); addr = a.ctypes.data; del a; "          # 20 MB: above glibc's default
         "b = np.empty(20 << 18, np.float32); print(b.ctypes.data == addr)")         # a reused heap block


def _probe(**env):
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, "PYTHONPATH": ROOT, **env}).stdout.split()
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt only")
def test_configured_on_import_and_opt_out():
    import ctypes
    if not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"):
        pytest.skip("not glibc")
    assert _probe() == ["True", "True"]                            # the freed 20 MB block is handed out again
    assert _probe(CNNLAB_MALLOC="system")[0] == "False"
