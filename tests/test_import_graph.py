"""The import graph of cnnlab is a DAG, and imports inside functions are the listed lazy loads (issue 13 item 3).

The graph is read from the source by tests/import_graph.py (ast, nothing is imported); its docstring says what
counts as an edge. A package importing its own children is not a cycle: cnnlab/__init__.py imports every layer,
and the modules it imports take their siblings directly (`from ..tensor import Tensor`); `import cnnlab` at module
level in one of them would show here as a cycle (the CLI, which the package does not import, may use it).
"""
import import_graph

# Why an import of a cnnlab module may stay inside a function. Anything else is an import loop patched by a late
# import: break the loop (move the shared piece down a layer) instead of adding an entry.
MODEL_ZOO = ("lazy loading: the model zoo takes ~0.2 s to import, so the CLI loads it only in the commands that "
             "build a model (cnnlab/__init__.py loads cnnlab.models on first use for the same reason)")
OPTIONAL_ONNX = "optional dependency: these modules import the onnx package, needed only when exporting or loading"
OPTIONAL_NUMBA = ("optional dependency: the compiled kernels import numba (~0.5 s), only at their first use (a "
                  "depthwise convolution, ConvNeXt's fused block) where it is installed (the fast extra)")

# (module, function) -> (the cnnlab modules imported inside that function, reason). This list may only shrink
# (155 imports of cnnlab modules inside functions when the test was written; 16 now).
ALLOWED = {
    ('cnnlab.cli', 'cmd_models'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_args', 'build_parser'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_common', 'build_model'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_common', 'check_fits'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_common', 'model_kwargs'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_export', '_model_and_shape'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_inspect', '_load_model'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_train', 'cmd_train'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_transfer', 'cmd_predict_pretrained'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_transfer', 'default_transforms'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_transfer', 'head_names'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.cli_transfer', 'named_weights'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.demo', 'walkthrough'): (('cnnlab.models',), MODEL_ZOO),
    ('cnnlab.kernels.compiled', 'kernels'): (('cnnlab.kernels.jit.activation', 'cnnlab.kernels.jit.depthwise',
                                              'cnnlab.kernels.jit.epilogue', 'cnnlab.kernels.jit.norm'),
                                             OPTIONAL_NUMBA),
    ('cnnlab.onnx', '__getattr__'): (('cnnlab.onnx.graph',), OPTIONAL_ONNX),
    ('cnnlab.onnx', 'export'): (('cnnlab.onnx.exporter',), OPTIONAL_ONNX),
    ('cnnlab.onnx', 'load'): (('cnnlab.onnx.loader',), OPTIONAL_ONNX),
}


def test_module_level_imports_form_a_dag():
    graph, _ = import_graph.analyse()
    found = import_graph.cycles(graph)
    assert not found, "import cycles among cnnlab modules (module level):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in found)


def test_function_level_imports_are_the_allowed_lazy_loads():
    _, function_imports = import_graph.analyse()
    found = {}
    for module, function, target in function_imports:
        found.setdefault((module, function), []).append(target)
    allowed = {key: tuple(targets) for key, (targets, _) in ALLOWED.items()}
    actual = {key: tuple(targets) for key, targets in found.items()}
    new = sorted(f"{key}: {targets}" for key, targets in actual.items() if allowed.get(key) != targets)
    gone = sorted(f"{key}: {targets}" for key, targets in allowed.items() if actual.get(key) != targets)
    assert not new and not gone, (
        "imports of cnnlab modules inside functions differ from ALLOWED.\n"
        "Not allowed (import at module level, or break the loop):\n  " + "\n  ".join(new) +
        "\nListed but no longer there (remove or update the entry; the list only shrinks):\n  " + "\n  ".join(gone))


def test_every_allowed_entry_has_a_reason():
    assert all(isinstance(reason, str) and reason for _, reason in ALLOWED.values())


def _package(tmp_path, files):
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_analysis_finds_a_cycle_and_late_imports(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "from . import a, sub\nfrom .sub.c import f\n",
        "a.py": "import os\nfrom .b import g\n\n\ndef late():\n    from . import sub\n",
        "b.py": "from .sub import c\n\n\nclass K:\n    def m(self):\n        import pkg.a\n",
        "sub/__init__.py": "",
        "sub/c.py": "try:\n    from ..a import late\nexcept ImportError:\n    pass\n",
    })
    graph, function_imports = import_graph.analyse(root)
    assert graph["pkg.b"] == {"pkg.sub", "pkg.sub.c"}  # importing pkg.sub.c runs the package pkg.sub first
    assert graph["pkg.sub.c"] == {"pkg.a"}  # (pkg.sub, its own package, is not an edge back)
    assert graph["pkg"] == {"pkg.a", "pkg.sub", "pkg.sub.c"}
    assert import_graph.cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]
    assert function_imports == [("pkg.a", "late", "pkg.sub"), ("pkg.b", "K.m", "pkg.a")]


def test_a_child_importing_its_package_back_is_a_cycle(tmp_path):
    root = _package(tmp_path, {"__init__.py": "from .a import x\n", "a.py": "from . import y\nx = 1\n"})
    graph, _ = import_graph.analyse(root)
    assert import_graph.cycles(graph) == [["pkg", "pkg.a", "pkg"]]
