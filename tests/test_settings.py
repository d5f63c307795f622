"""Settings are read once: every CNNLAB_* environment variable is read in cnnlab/_settings.py (at import) and
listed in the README's table; no other module reads the environment for a CNNLAB_* name."""
import ast
import pathlib
import re

from cnnlab import _settings

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnnlab"


def _names_in_source():
    names = {}
    for path in PACKAGE.rglob("*.py"):
        for name in set(re.findall(r"\bCNNLAB_[A-Z0-9_]+", path.read_text())):
            names.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    return names


def _environment_reads(path):
    """(line, text) of each os.environ / os.getenv use in a file."""
    tree = ast.parse(path.read_text())
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                isinstance(node.value, ast.Name) and node.value.id == "os":
            hits.append(node.lineno)
    return hits


def test_every_cnnlab_variable_is_in_the_settings_table_and_the_readme():
    table = dict(_settings.TABLE)
    readme = (ROOT / "README.md").read_text()
    for name, files in _names_in_source().items():
        assert name in table, f"{name} (used in {files}) is missing from cnnlab/_settings.py's TABLE"
    for name, text in table.items():
        assert re.search(rf"^\| `{name}` \|", readme, re.M), f"README's settings table has no row for {name}"


def test_only_settings_reads_cnnlab_variables_from_the_environment():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_settings.py":
            continue
        source = path.read_text().splitlines()
        for line in _environment_reads(path):
            if "CNNLAB_" in source[line - 1]:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {source[line - 1].strip()}")
    assert offenders == []


def test_values_follow_the_environment_at_import(monkeypatch):
    import importlib
    monkeypatch.setenv("CNNLAB_WINOGRAD4", "0")
    monkeypatch.setenv("CNNLAB_NUM_THREADS", " 3 ")
    fresh = importlib.reload(_settings)
    try:
        assert fresh.WINOGRAD4 is False and fresh.NUM_THREADS == "3"
    finally:
        monkeypatch.undo()
        importlib.reload(_settings)
