"""The results log: every `make bench` run appends one line to benchmarks/results_log.jsonl (date, commit, machine
kind, GEMM peak, each case's medians and ratios, the summary), so that runs are compared within a machine kind.

`python -m benchmarks.log` prints the logged runs grouped by kind, newest last, one column per summary row.
"""
import json
import os
import sys
import time

from cnnlab.cli_common import json_safe

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results_log.jsonl")


def entry(env, machine, peak, results, summary, quick):
    """The compact record of one run (the full detail stays in results.json)."""
    cases = {r["name"]: {"cnnlab_ms": _ms(r, "cnnlab"), "torch_ms": _ms(r, "torch"), "ratio": r.get("ratio"),
                         "ort_ms": _ms(r, "onnxruntime"), "ratio_ort": r.get("ratio_ort")}
             for r in results if not r.get("error")}
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": env.get("cnnlab_commit"),
            "machine": machine, "gemm_peak_gflops": max(peak["numpy_gflops"], peak["torch_gflops"]),
            "load_average": env.get("load_average"), "quick": quick, "cases": cases,
            "summary": {r["case"]: r["ratio"] for r in summary}}


def _ms(row, lib):
    part = row.get(lib)
    return None if not part or part.get("median_s") is None else round(part["median_s"] * 1e3, 4)


def append(record, path=LOG):
    """Append one run as one JSON line (strict JSON: non-finite numbers become null)."""
    with open(path, "a") as f:
        f.write(json.dumps(json_safe(record), allow_nan=False) + "\n")


def read(path=LOG):
    """Every logged run, oldest first; lines that are not JSON are skipped."""
    if not os.path.exists(path):
        return []
    runs = []
    with open(path) as f:
        for line in f:
            try:
                runs.append(json.loads(line))
            except ValueError:
                continue
    return runs


def print_runs(runs, last=6, out=print):
    """The logged runs grouped by machine kind: per kind, one row per summary entry and one column per run (the
    `last` newest runs of that kind), headed by date, commit and the GEMM peak measured in the run."""
    by_kind = {}
    for run in runs:
        by_kind.setdefault(run["machine"]["key"], []).append(run)
    for key, group in by_kind.items():
        group = group[-last:]
        out("")
        out(f"machine kind: {key} ({len(group)} runs shown)")
        width = 56
        out(" " * width + "".join(f"{run['date'][:16]:>18}" for run in group))
        out(f"{'commit':<{width}}" + "".join(f"{str(run['commit'])[:16]:>18}" for run in group))
        out(f"{'GEMM peak GFLOP/s':<{width}}" + "".join(f"{run['gemm_peak_gflops']:>18.0f}" for run in group))
        labels = list(dict.fromkeys(label for run in group for label in run["summary"]))
        for label in labels:
            cells = [run["summary"].get(label) for run in group]
            if all(c is None for c in cells):
                continue
            out(f"{label[:width - 1]:<{width}}" + "".join(f"{'-' if c is None else format(c, '.2f'):>18}"
                                                           for c in cells))


if __name__ == "__main__":
    print_runs(read(sys.argv[1] if len(sys.argv) > 1 else LOG))
