"""The import graph of cnnlab is a DAG, and imports inside functions are the listed lazy loads (issue 13 item 3).

The graph is read from the source by tests/import_graph.py (ast, nothing is imported); its docstring says what
counts as an edge. A package importing its own children is not a cycle: cnnlab/__init__.py imports every layer,
and a child imports its siblings directly (`from ..tensor import Tensor`), never `from cnnlab import ...` at module
level (that would show here as a cycle).
"""
import import_graph

# Why an import of a cnnlab module may stay inside a function. Anything else is an import loop patched by a late
# import: break the loop (move the shared piece down a layer) instead of adding an entry.
CORE = "autograd core loop (tensor <-> autograd), being broken by issue 13 item 3 (engine owner)"
LOOP = "import loop, being broken by issue 13 item 3"

# (module, function) -> (the cnnlab modules imported inside that function, reason). This list may only shrink.
ALLOWED = {
    ('cnnlab', 'log_softmax'): (('cnnlab.nn.functional',), LOOP),
    ('cnnlab', 'relu'): (('cnnlab.nn.functional',), LOOP),
    ('cnnlab', 'sigmoid'): (('cnnlab.nn.functional',), LOOP),
    ('cnnlab', 'softmax'): (('cnnlab.nn.functional.softmax',), LOOP),
    ('cnnlab', 'tanh'): (('cnnlab.nn.functional',), LOOP),
    ('cnnlab._methods', '_functional.method'): (('cnnlab.nn.functional',), LOOP),
    ('cnnlab._methods', '_linalg'): (('cnnlab.linalg',), LOOP),
    ('cnnlab._methods', '_new.method'): (('cnnlab.creation',), LOOP),
    ('cnnlab._methods', '_new_full'): (('cnnlab.creation',), LOOP),
    ('cnnlab._methods', '_new_tensor'): (('cnnlab.creation',), LOOP),
    ('cnnlab._methods', '_shape_inplace.method'): (('cnnlab.ops.writes',), LOOP),
    ('cnnlab.cli', 'build_parser'): (('cnnlab.cli_args', 'cnnlab.cli_export', 'cnnlab.cli_inspect', 'cnnlab.cli_report', 'cnnlab.cli_viz'), LOOP),
    ('cnnlab.cli', 'cmd_demo'): (('cnnlab.demo',), LOOP),
    ('cnnlab.cli', 'cmd_evaluate'): (('cnnlab', 'cnnlab.data', 'cnnlab.train'), LOOP),
    ('cnnlab.cli', 'cmd_models'): (('cnnlab.models',), LOOP),
    ('cnnlab.cli', 'cmd_predict'): (('cnnlab.cli_transfer', 'cnnlab.data.specs', 'cnnlab.train'), LOOP),
    ('cnnlab.cli', 'main'): (('cnnlab.cli_args',), LOOP),
    ('cnnlab.cli_args', 'build_parser'): (('cnnlab', 'cnnlab.models'), LOOP),
    ('cnnlab.cli_common', 'build_model'): (('cnnlab.models',), LOOP),
    ('cnnlab.cli_common', 'check_fits'): (('cnnlab', 'cnnlab.models'), LOOP),
    ('cnnlab.cli_common', 'load_data'): (('cnnlab.data.specs',), LOOP),
    ('cnnlab.cli_common', 'load_run'): (('cnnlab.train',), LOOP),
    ('cnnlab.cli_common', 'model_kwargs'): (('cnnlab.models',), LOOP),
    ('cnnlab.cli_export', '_model_and_shape'): (('cnnlab.cli_transfer', 'cnnlab.models'), LOOP),
    ('cnnlab.cli_export', 'cmd_export'): (('cnnlab', 'cnnlab.onnx'), LOOP),
    ('cnnlab.cli_export', 'register'): (('cnnlab.cli_args',), LOOP),
    ('cnnlab.cli_inspect', '_from_file'): (('cnnlab.nn',), LOOP),
    ('cnnlab.cli_inspect', '_load_model'): (('cnnlab.cli_common', 'cnnlab.models'), LOOP),
    ('cnnlab.cli_inspect', 'cmd_explain'): (('cnnlab.inspect',), LOOP),
    ('cnnlab.cli_inspect', 'cmd_summary'): (('cnnlab.inspect', 'cnnlab.inspect.model_summary'), LOOP),
    ('cnnlab.cli_inspect', 'register'): (('cnnlab.cli_args',), LOOP),
    ('cnnlab.cli_report', 'cmd_animate'): (('cnnlab.animate',), LOOP),
    ('cnnlab.cli_report', 'cmd_report'): (('cnnlab.report',), LOOP),
    ('cnnlab.cli_report', 'register'): (('cnnlab.cli_args',), LOOP),
    ('cnnlab.cli_train', '_check_resumable'): (('cnnlab.io', 'cnnlab.train_checks'), LOOP),
    ('cnnlab.cli_train', '_run_training'): (('cnnlab', 'cnnlab.data', 'cnnlab.train'), LOOP),
    ('cnnlab.cli_train', '_schedule_at'): (('cnnlab', 'cnnlab.optim'), LOOP),
    ('cnnlab.cli_train', '_transfer_preset'): (('cnnlab.cli_transfer',), LOOP),
    ('cnnlab.cli_train', 'cmd_train'): (('cnnlab', 'cnnlab.cli_transfer', 'cnnlab.data', 'cnnlab.data.datasets.folder', 'cnnlab.models'), LOOP),
    ('cnnlab.cli_train', 'make_optimizer'): (('cnnlab.optim',), LOOP),
    ('cnnlab.cli_train', 'make_scheduler'): (('cnnlab.optim.lr_scheduler',), LOOP),
    ('cnnlab.cli_transfer', 'cmd_predict_pretrained'): (('cnnlab.data.datasets.folder', 'cnnlab.models', 'cnnlab.train'), LOOP),
    ('cnnlab.cli_transfer', 'default_transforms'): (('cnnlab.models',), LOOP),
    ('cnnlab.cli_transfer', 'head_names'): (('cnnlab.models',), LOOP),
    ('cnnlab.cli_transfer', 'named_weights'): (('cnnlab.models',), LOOP),
    ('cnnlab.cli_transfer', 'pretrained_state'): (('cnnlab.io',), LOOP),
    ('cnnlab.cli_transfer', 'renormalised'): (('cnnlab.data',), LOOP),
    ('cnnlab.cli_viz', 'cmd_filter'): (('cnnlab.data.datasets.folder', 'cnnlab.filters'), LOOP),
    ('cnnlab.cli_viz', 'contact_sheet'): (('cnnlab.filters',), LOOP),
    ('cnnlab.cli_viz', 'register'): (('cnnlab.cli_args', 'cnnlab.filters'), LOOP),
    ('cnnlab.cli_viz', 'to_pixels'): (('cnnlab.viz.response',), LOOP),
    ('cnnlab.data.specs', '_float_pixels'): (('cnnlab.data.datasets.folder',), LOOP),
    ('cnnlab.data.specs', '_folder'): (('cnnlab.random',), LOOP),
    ('cnnlab.data.specs', '_pil_image'): (('cnnlab.data.datasets.folder',), LOOP),
    ('cnnlab.data.specs', 'prepare_image'): (('cnnlab.data.datasets.folder',), LOOP),
    ('cnnlab.data.specs', 'training_pixels'): (('cnnlab.data.datasets.folder',), LOOP),
    ('cnnlab.demo', 'main'): (('cnnlab.cli',), LOOP),
    ('cnnlab.demo', 'walkthrough'): (('cnnlab.data', 'cnnlab.models'), LOOP),
    ('cnnlab.filters', '_image_tensor'): (('cnnlab',), LOOP),
    ('cnnlab.filters', '_kernel_tensor'): (('cnnlab',), LOOP),
    ('cnnlab.filters', 'apply'): (('cnnlab', 'cnnlab.nn.functional'), LOOP),
    ('cnnlab.filters', 'kernel'): (('cnnlab',), LOOP),
    ('cnnlab.interop', '_sides'): (('cnnlab',), LOOP),
    ('cnnlab.io', '_hint'): (('cnnlab.nn', 'cnnlab.optim'), LOOP),
    ('cnnlab.nn.functional.conv', '_pad_mode'): (('cnnlab.nn.functional.padding',), LOOP),
    ('cnnlab.nn.functional.pooling', '_lp_pool'): (('cnnlab.ops.elementwise',), LOOP),
    ('cnnlab.nn.modules.state', '_assign'): (('cnnlab.nn.parameter',), LOOP),
    ('cnnlab.onnx', '__getattr__'): (('cnnlab.onnx.graph',), LOOP),
    ('cnnlab.onnx', 'export'): (('cnnlab.onnx.exporter',), LOOP),
    ('cnnlab.onnx', 'load'): (('cnnlab.onnx.loader',), LOOP),
    ('cnnlab.ops.extra', 'cdist'): (('cnnlab.ops.products',), LOOP),
    ('cnnlab.ops.extra', 'multinomial'): (('cnnlab.random',), LOOP),
    ('cnnlab.ops.more_math', 'scatter_reduce'): (('cnnlab.errors', 'cnnlab.ops.indexing'), LOOP),
    ('cnnlab.ops.reduction', '_extreme'): (('cnnlab.ops.elementwise',), LOOP),
    ('cnnlab.report', '_first_conv'): (('cnnlab.nn',), LOOP),
    ('cnnlab.report', '_pick_image'): (('cnnlab.cli_common', 'cnnlab.data.specs'), LOOP),
    ('cnnlab.report', '_summary_table'): (('cnnlab.inspect', 'cnnlab.inspect.model_summary'), LOOP),
    ('cnnlab.report', 'build_report'): (('cnnlab.cli_common', 'cnnlab.train', 'cnnlab.viz'), LOOP),
    ('cnnlab.train', 'predict'): (('cnnlab.nn.functional.softmax',), LOOP),
    ('cnnlab.utils.image', '_as_batch'): (('cnnlab',), LOOP),
    ('cnnlab.utils.image', 'make_grid'): (('cnnlab',), LOOP),
    ('cnnlab.viz._figure', 'to_numpy'): (('cnnlab',), LOOP),
    ('cnnlab.viz.confusion', 'confusion_matrix'): (('cnnlab',), LOOP),
    ('cnnlab.viz.maps', 'capture'): (('cnnlab', 'cnnlab.nn'), LOOP),
    ('cnnlab.viz.maps', 'feature_maps'): (('cnnlab',), LOOP),
    ('cnnlab.viz.response', '_kernel_list'): (('cnnlab',), LOOP),
    ('cnnlab.viz.response', 'filter_response'): (('cnnlab', 'cnnlab.filters'), LOOP),
    ('cnnlab.viz.weights', '_weight'): (('cnnlab.nn',), LOOP),
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
