"""`python -m benchmarks`: time cnnlab against PyTorch (2 threads) on identical inputs, case by case.

For each case: build both versions from the same NumPy inputs, run each once and check that cnnlab's results
equal PyTorch's (a warning line if not), run once more to size the repeats, then time the two alternately
and report medians, the ratio cnnlab/PyTorch, GFLOP/s and the fraction of the GEMM peak measured at the
start. Inference cases also run cnnlab's model exported to ONNX in ONNX Runtime (2 threads), timed in the same
rotation: the ratio cnnlab/ONNX Runtime. Finally the peak memory of a training step (fresh processes) and the summary against the targets.
"""
import argparse
import os
import sys
import time

_OPENBLAS_WORKAROUNDS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(k in os.environ for k in _OPENBLAS_WORKAROUNDS):
    # OpenBLAS reads these when NumPy loads it; they halve its GEMM speed on this machine's CPUs, so run the
    # comparison in a fresh interpreter without them (what `make bench` does with `env -u`).
    print("benchmarks: restarting with " + " and ".join(_OPENBLAS_WORKAROUNDS) + " unset", flush=True)
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks"] + sys.argv[1:],
              {k: v for k, v in os.environ.items() if k not in _OPENBLAS_WORKAROUNDS})

from . import cases as cases_mod  # noqa: E402
from . import log as log_mod  # noqa: E402
from . import machine as machine_mod  # noqa: E402
from . import report, timing  # noqa: E402
from .cold import measure_both as measure_cold  # noqa: E402
from .memory import measure_both  # noqa: E402

MEMORY_CASE = "peak memory resnet18 cifar train step b32"
COLD_CASE = "cold start resnet18 224 b1 first forward"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--cases", metavar="PATTERN", default=None,
                   help="run only cases whose name matches this regex/substring (case-insensitive); "
                        "'--list' shows the names")
    p.add_argument("--quick", action="store_true", help="fewer repeats and a smaller GEMM, for a fast look")
    p.add_argument("--repeats", type=int, default=None, metavar="N",
                   help="timed repeats per case and library (default: as many as fit in --budget, 5 to 30)")
    p.add_argument("--budget", type=float, default=None, metavar="S",
                   help="seconds of timed runs per case, both libraries together (default 8, quick 2)")
    p.add_argument("--settle", type=float, default=0.12, metavar="S",
                   help="seconds of idle time whenever the timed library changes, so the other library's "
                        "worker threads stop spinning first (default 0.12: OpenBLAS spins ~0.12 s)")
    p.add_argument("--json", default="benchmarks/results.json", metavar="PATH", help="where to write results")
    p.add_argument("--log", default=log_mod.LOG, metavar="PATH",
                   help="the results log this run is appended to (one JSON line per run; `python -m benchmarks.log` "
                        "prints it grouped by machine kind)")
    p.add_argument("--no-log", action="store_true", help="do not append this run to the results log")
    p.add_argument("--list", action="store_true", help="list the case names and exit")
    p.add_argument("--no-onnx", action="store_true",
                   help="skip ONNX Runtime, the second reference of the inference cases")
    args = p.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be at least 1. Got --repeats={args.repeats}.")
    return args


def run_case(case, clib, tlib, peak_gflops, args):
    """Check and time one case; returns its result dict (with 'error' if a library failed)."""
    row = {"name": case.name, "group": case.group, "tags": list(case.tags)}
    try:
        arrays, flops = case.prepare()
        row["flops"] = flops
        run_c, run_t = case.setup(clib, arrays), case.setup(tlib, arrays)
        res_t = run_t()
        worst, problems = cases_mod.compare(run_c(), res_t, case.tol)  # first call: warm-up and check
        row["check"] = {"max_rel_err": worst, "tol": case.tol, "ok": not problems, "problems": problems}
        run_o = onnx_runner(case, clib, arrays, res_t, row, args)
        runs = (run_c, run_t) + ((run_o,) if run_o else ())
        pair_s = sum(timing.time_once(run) for run in runs)             # second warm-up, sizes the repeats
        if args.repeats:
            repeats = args.repeats
        else:
            budget = args.budget if args.budget is not None else (2.0 if args.quick else 8.0)
            repeats = timing.choose_repeats(pair_s + args.settle, budget, 3 if args.quick else 5,
                                            5 if args.quick else case.max_repeats)
        t_c, t_t, *t_o = timing.time_alternating(runs, repeats, warmup=0, settle=args.settle)
    except Exception as exc:  # one broken case must not stop the suite
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    finally:
        timing.collect_garbage()
    med_c, med_t = timing.median(t_c), timing.median(t_t)
    row.update(repeats=repeats, ratio=med_c / med_t,
               cnnlab={"median_s": med_c, "min_s": min(t_c), "times_s": t_c},
               torch={"median_s": med_t, "min_s": min(t_t), "times_s": t_t})
    if t_o:
        med_o = timing.median(t_o[0])
        row.update(ratio_ort=med_c / med_o, onnxruntime={"median_s": med_o, "min_s": min(t_o[0]), "times_s": t_o[0]})
    for lib, med in (("cnnlab", med_c), ("torch", med_t)):
        gflops = flops / med / 1e9 if flops else None
        row[f"{lib}_gflops"] = gflops
        row[f"{lib}_peak_frac"] = gflops / peak_gflops if gflops else None
    return row


def onnx_runner(case, clib, arrays, res_t, row, args):
    """The case's model exported by cnnlab.onnx.export and run by ONNX Runtime, checked against PyTorch's
    results; None when the case has no ONNX form, under --no-onnx, or when export or ONNX Runtime fails (then
    row['onnx_error'] says why and the case is timed without it)."""
    if case.setup_onnx is None or getattr(args, "no_onnx", False):
        return None
    try:
        run_o = case.setup_onnx(clib, arrays)
        worst, problems = cases_mod.compare(run_o(), res_t, case.tol)
    except Exception as exc:  # onnx/onnxruntime not installed, or an export error: report, go on
        row["onnx_error"] = f"{type(exc).__name__}: {exc}"
        return None
    row["onnx_check"] = {"max_rel_err": worst, "tol": case.tol, "ok": not problems, "problems": problems}
    return run_o


def main(argv=None):
    args = parse_args(argv)
    selected = cases_mod.select(cases_mod.all_cases(), args.cases)
    run_memory = cases_mod.select([cases_mod.Case(MEMORY_CASE, "memory", None, None)], args.cases)
    run_cold = cases_mod.select([cases_mod.Case(COLD_CASE, "cold", None, None)], args.cases)
    if args.list:
        print("\n".join([c.name for c in cases_mod.all_cases()] + [MEMORY_CASE, COLD_CASE]))
        return 0
    if not selected and not run_memory and not run_cold:
        print(f"no case matches --cases {args.cases!r}; `python -m benchmarks --list` shows the names")
        return 2

    t_start = time.perf_counter()
    import torch
    torch.set_num_threads(2)
    env = timing.environment(torch)
    report.print_environment(env)
    sys.stdout.flush()
    peak = timing.gemm_peak(torch, n=2048 if args.quick else 4096, repeats=2 if args.quick else 3,
                            settle=args.settle)
    report.print_peak(peak)
    peak_gflops = max(peak["numpy_gflops"], peak["torch_gflops"])
    machine = machine_mod.kind(env)
    kind_line = machine_mod.describe(machine, peak_gflops)
    print(kind_line)

    clib, tlib = cases_mod.library("cnnlab"), cases_mod.library("torch")
    results, group = [], None
    if selected:
        report.print_header(kind_line)
    for case in selected:
        if case.group != group:
            group = case.group
            report.print_group(group)
        row = run_case(case, clib, tlib, peak_gflops, args)
        row["machine"] = machine["key"]
        results.append(row)
        if row.get("check") and row["check"]["problems"]:
            report.print_warning(case.name, row["check"]["problems"])
        if row.get("onnx_check") and row["onnx_check"]["problems"]:
            report.print_warning(case.name, row["onnx_check"]["problems"], ref="ONNX Runtime's (of cnnlab's export)")
        if row.get("onnx_error"):
            print(f"  ONNX Runtime not timed: {row['onnx_error']}")
        report.print_row(row)
        sys.stdout.flush()

    memory = None
    if run_memory:
        print("\nmeasuring peak memory (two fresh processes) ...", flush=True)
        memory = measure_both(steps=2 if args.quick else 3)
        report.print_memory(memory)
    cold = None
    if run_cold:
        print("\nmeasuring the cold start (fresh processes) ...", flush=True)
        cold = measure_cold(repeats=1 if args.quick else 3)
        report.print_cold(cold)
    peak_end = None
    if selected:  # a second look: a peak far from the first means the machine was busy during one of them
        peak_end = timing.gemm_peak(torch, n=peak["n"], repeats=2 if args.quick else 3, settle=args.settle)
        print()
        report.print_peak(peak_end, when="GEMM peak re-measured at the end", relative=False)
    summary = report.summarise(results, memory, machine["avx512"], cold)
    report.print_summary(summary, kind_line)
    throughput = report.lenet_throughput(results, cases_mod.LENET_BATCH)
    report.print_throughput(throughput)
    elapsed = time.perf_counter() - t_start
    load_end = timing.load_average()
    print(f"\nload average at the end: {load_end:.2f}" if load_end is not None else "")
    print(f"{len(results)} cases in {elapsed:.0f} s. Per case: 2 untimed calls per library (the first also "
          f"checks cnnlab, and ONNX Runtime where a row has it, against PyTorch), then `reps` timed calls each, "
          f"alternating a,b,b,a,... (a,b,c,c,b,a,... with ONNX Runtime) with "
          f"{args.settle:g} s idle at each switch; medians shown. Results written to {args.json}")
    if not args.no_log:
        log_mod.append(log_mod.entry(env, machine, peak, results, summary, args.quick), args.log)
        print(f"Run appended to the results log {args.log} (compare runs of the same machine kind: "
              f"python -m benchmarks.log)")
    report.write_json(args.json, {"environment": env, "machine": machine, "gemm_peak": peak, "gemm_peak_end": peak_end, "quick": args.quick,
                                  "settle_s": args.settle, "cases": results, "memory": memory, "cold": cold,
                                  "summary": summary, "lenet_images_per_s": throughput,
                                  "elapsed_s": elapsed, "load_average_end": load_end})
    return 0


if __name__ == "__main__":
    sys.exit(main())
