"""Running a snippet in a new interpreter: for what one test process cannot show (first imports, import-time
settings, a cold cache), since the suite's own process has imported everything already."""
import os
import subprocess
import sys

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, timeout=120, **env):
    """stdout.split() of `python -c code` run from the project root with os.environ plus env; fails the test with
    the child's stderr when it exits non-zero."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                            cwd=PROJECT, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.split()
