"""Smoke test of the benchmark suite: its modules import, one tiny case runs in both libraries, checks and
times, the report prints, and the shared model definitions compute the same function in both libraries.
No timing is asserted (timings are not tests)."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # the repository root

from benchmarks import log as bench_log  # noqa: E402
from benchmarks import machine  # noqa: E402
from benchmarks import __main__ as bench_main  # noqa: E402
from benchmarks import cases, memory, models, report, timing  # noqa: E402

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def libs():
    return cases.library("cnnlab"), cases.library("torch")


@pytest.mark.parametrize("backward", [False, True])
def test_tiny_conv_case_runs_checks_and_reports(libs, backward):
    case = cases.conv_case("tiny", (2, 3, 7, 6), 4, 3, stride=2, padding=1, backward=backward, tags=("t",))
    arrays, flops = case.prepare()
    assert flops == 2 * 2 * 4 * 4 * 3 * 3 * 3 * 3 * (3 if backward else 1)  # OH=4, OW=3
    run_c, run_t = case.setup(libs[0], arrays), case.setup(libs[1], arrays)
    worst, problems = cases.compare(run_c(), run_t(), case.tol)
    assert problems == [] and worst < 1e-5
    t_c, t_t = timing.time_pair(run_c, run_t, repeats=2, warmup=1, settle=0.001)
    assert len(t_c) == len(t_t) == 2

    class Args:
        repeats, quick, budget, settle = 1, True, None, 0.0
    row = bench_main.run_case(case, *libs, peak_gflops=100.0, args=Args)
    assert "error" not in row and row["repeats"] == 1 and row["check"]["ok"]
    lines = []
    report.print_row(row, out=lines.append)
    assert lines[0].startswith(case.name)
    summary = report.summarise([row], None)
    assert [s["verdict"] for s in summary if s["case"].startswith("peak memory")] == ["not run"]


def test_compare_reports_a_mismatch(libs):
    a, b = libs[0].torch.ones(3), libs[1].torch.ones(3)
    assert cases.compare([a], [b * 1.01], 1e-4)[1]          # relative error 1e-2 is flagged
    assert cases.compare([a.double()], [b], 1e-4)[1]        # dtype mismatch is flagged


def test_resnet18_same_function_in_both_libraries(libs):
    clib, tlib = libs
    torch.manual_seed(0)
    ref = models.resnet18(tlib.nn, num_classes=10, layout="cifar").eval()
    mine = models.resnet18(clib.nn, num_classes=10, layout="cifar").eval()
    models.copy_weights(ref, mine, clib.torch.from_numpy)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8), dtype=np.float32)
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    got = mine(clib.torch.from_numpy(x.copy())).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert sum(p.numel() for p in mine.parameters()) == sum(p.numel() for p in ref.parameters())


def test_case_list_selection_and_arguments():
    names = [c.name for c in cases.all_cases()]
    assert len(names) == len(set(names)) == 33
    assert [c.name for c in cases.select(cases.all_cases(), "resnet18 .*inference b[18]")] == [
        "resnet18 224 inference b8", "resnet18 224 inference b1"]
    assert len(cases.select(cases.all_cases(), "3x3 32x(64|128)x")) == 4  # fwd, fwd+bwd each
    assert len(cases.select(cases.all_cases(), "resnet50|mobilenet|convnext_tiny")) == 6  # the zoo's, b1 and b8
    args = bench_main.parse_args(["--quick", "--repeats", "3", "--cases", "lenet"])
    assert (args.quick, args.repeats, args.cases, args.json) == (True, 3, "lenet", "benchmarks/results.json")
    assert timing.choose_repeats(0.5, 8.0, 5, 30) == 16 and timing.choose_repeats(0.1, 8.0, 5, 30) == 30
    assert timing.choose_repeats(3.0, 8.0, 5, 30) == 5 and timing.choose_repeats(10.0, 8.0, 5, 30) == 3
    assert memory._status_mb("VmRSS") is None or memory._status_mb("VmRSS") > 0


def test_results_file_is_strict_json(tmp_path):
    # A case that errors has NaN medians; json.dump wrote them as NaN, which strict JSON readers refuse.
    import json

    from benchmarks import report
    path = tmp_path / "results.json"
    report.write_json(path, {"ratio": float("nan"), "rows": [{"median_s": float("inf")}, {"median_s": 0.5}]})
    assert json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == {
        "ratio": None, "rows": [{"median_s": None}, {"median_s": 0.5}]}


def test_results_file_keeps_numpy_ints_and_bools(tmp_path):
    # The bench's own converter turned NumPy ints and bools into floats (3 -> 3.0, True -> 1.0); the CLI's did not.
    import json

    import numpy as np

    from benchmarks import report
    path = tmp_path / "results.json"
    report.write_json(path, {"cores": np.int64(2), "avx512": np.bool_(True), "peak": np.float32(np.nan)})
    written = json.loads(path.read_text())
    assert written == {"cores": 2, "avx512": True, "peak": None}
    assert type(written["cores"]) is int and type(written["avx512"]) is bool


def _tiny_net(nn):
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 5))


def test_tiny_inference_case_runs_onnx_runtime_as_a_third_column(libs):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    case = cases.inference_case("tiny inference", _tiny_net, (2, 3, 8, 8), tags=("infer_b8",), onnx=True)

    class Args:
        repeats, quick, budget, settle, no_onnx = 2, True, None, 0.0, False
    row = bench_main.run_case(case, *libs, peak_gflops=100.0, args=Args)
    assert "error" not in row and "onnx_error" not in row, row
    assert row["check"]["ok"] and row["onnx_check"]["ok"] and row["onnx_check"]["max_rel_err"] < 1e-5
    assert len(row["onnxruntime"]["times_s"]) == len(row["cnnlab"]["times_s"]) == 2
    assert row["ratio_ort"] == row["cnnlab"]["median_s"] / row["onnxruntime"]["median_s"]
    lines = []
    report.print_header(out=lines.append)
    report.print_row(row, out=lines.append)
    assert lines[1].rstrip().endswith("ort ms cl/ort") and lines[3].split()[-1] == f"{row['ratio_ort']:.2f}"
    summary = {s["case"]: s for s in report.summarise([row], None)}
    ort_row = summary["ResNet-18 224 inference b8, cnnlab/ONNX Runtime"]
    assert ort_row["ratio"] == row["ratio_ort"] and ort_row["verdict"] == "(info)" and ort_row["cases"] == 1
    assert summary["ResNet-50 224 inference b1, cnnlab/ONNX Runtime"]["verdict"] == "not run"

    Args.no_onnx = True  # --no-onnx: the case runs without the third column
    row = bench_main.run_case(case, *libs, peak_gflops=100.0, args=Args)
    assert "error" not in row and "onnxruntime" not in row and "ratio_ort" not in row
    lines = []
    report.print_row(row, out=lines.append)
    assert lines[0].split()[-2:] == ["-", "-"]


def test_inference_cases_with_onnx_runtime():
    named = {c.name: c for c in cases.all_cases()}
    with_ort = sorted(n for n, c in named.items() if c.setup_onnx is not None)
    models = ("resnet18", "resnet50", "mobilenet_v2", "convnext_tiny")
    assert with_ort == sorted(f"{m} 224 inference b{n}" for m in models for n in (1, 8))
    assert bench_main.parse_args(["--no-onnx"]).no_onnx and not bench_main.parse_args([]).no_onnx


def test_machine_kind_separates_avx512_and_blas_kernels():
    env = {"cpu": "AMD EPYC", "cpu_count": 2,
           "threadpools": [{"user_api": "blas", "internal_api": "openblas", "architecture": "Haswell"}]}
    avx2, avx512 = machine.kind(env, avx512=False), machine.kind(env, avx512=True)
    assert avx2["key"] == "AMD EPYC | AVX2-only | 2 cores | openblas Haswell" and avx2["key"] != avx512["key"]
    assert machine.describe(avx2, 123.4).endswith("| GEMM peak 123 GFLOP/s this run")
    assert machine.has_avx512("/nonexistent/cpuinfo") is None


def test_results_log_appends_one_line_per_run_and_groups_by_kind(tmp_path):
    path = tmp_path / "log.jsonl"
    row = {"name": "case a", "cnnlab": {"median_s": 0.002}, "torch": {"median_s": 0.001}, "ratio": 2.0,
           "tags": ("cifar_step",)}
    for avx512 in (True, False, True):
        kind = machine.kind({"cpu": "cpu", "cpu_count": 2, "threadpools": []}, avx512=avx512)
        summary = report.summarise([row], None, avx512)
        bench_log.append(bench_log.entry({"cnnlab_commit": "abc"}, kind, {"numpy_gflops": 100.0, "torch_gflops": 90.0},
                                         [row], summary, quick=True), path)
    runs = bench_log.read(path)
    assert len(runs) == 3 and runs[0]["cases"]["case a"] == {"cnnlab_ms": 2.0, "torch_ms": 1.0, "ratio": 2.0,
                                                              "ort_ms": None, "ratio_ort": None}
    lines = []
    bench_log.print_runs(runs, out=lines.append)
    assert sum(line.startswith("machine kind:") for line in lines) == 2   # two kinds, runs grouped under each
    cifar = {r["case"]: r for r in report.summarise([row], None, True)}["ResNet-18 CIFAR training step, batch 32"]
    assert (cifar["target"], cifar["verdict"]) == (1.2, "NOT met")
    assert {r["case"]: r for r in report.summarise([row], None, False)}[cifar["case"]]["target"] == 1.0


def test_cold_start_row_is_seconds_against_the_target():
    cold = {"cnnlab": {"first_forward_s": 0.4}, "torch": {"first_forward_s": 0.2}, "ratio": 2.0}
    row = [r for r in report.summarise([], None, True, cold) if r["case"].startswith("cold")][0]
    assert (row["ratio"], row["target"], row["verdict"]) == (0.4, 1.5, "met")


def test_lenet_throughput_is_images_per_second_of_each_library():
    row = {"tags": ["lenet_step"], "cnnlab": {"median_s": 0.016}, "torch": {"median_s": 0.008}}
    lines = []
    throughput = report.lenet_throughput([row, {"tags": ["cifar_step"], "cnnlab": {"median_s": 1.0}}], 64)
    report.print_throughput(throughput, out=lines.append)
    assert throughput == {"batch": 64, "cnnlab": 4000.0, "torch": 8000.0}
    assert lines == ["LeNet-5 training, the demo's model and step (batch 64): cnnlab 4,000 images/s, PyTorch "
                     "8,000 images/s"]
    assert report.lenet_throughput([], 64) is None


def test_compiled_label_says_off_when_numba_is_installed_but_fails_to_import(monkeypatch):
    from importlib import metadata, util
    from cnnlab import _settings
    from cnnlab.kernels import compiled
    if util.find_spec("numba") is None or not _settings.COMPILED:
        pytest.skip("needs numba (the fast extra) and CNNLAB_COMPILED not 0")
    assert timing.compiled_kernels() == f"numba {metadata.version('numba')}"
    monkeypatch.setattr(compiled, "kernels", lambda name="depthwise": None)     # what a broken numba gives
    assert timing.compiled_kernels() == f"off: numba {metadata.version('numba')} is installed but failed to import"
