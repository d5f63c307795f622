"""Printing: the environment header, one row per case as it finishes, the summary against the issue's targets,
and the JSON file."""
import json
import math

from cnnlab.cli_common import json_safe   # NaN/inf as null, NumPy scalars as Python ones

# Issue 20's targets: (label, tag of the cases it aggregates, how, target on AVX2-only machines, target on AVX-512
# machines). Ratios cnnlab / PyTorch, lower is better; "max" takes the worst case of the tag (the target holds for
# each), "sum" the sum of cnnlab's medians over the sum of PyTorch's.
TARGETS = [
    ("ResNet-18 3x3 layers fwd+bwd, worst layer", "resnet3x3:bwd", "max", 1.0, 1.1),
    ("ResNet-18 CIFAR training step, batch 32", "cifar_step", "sum", 1.0, 1.2),
    ("LeNet-5 training step, batch 64", "lenet_step", "sum", 1.0, 1.2),
    ("U-Net base 32 256x256 training step, batch 4", "unet_step", "sum", 1.0, 1.2),
    ("ResNet-18 224 inference, batch 1", "infer_b1", "sum", 1.0, 1.2),
    ("ResNet-18 224 inference, batch 8", "infer_b8", "sum", 1.0, 1.2),
] + [(f"{label} 224 inference, batch {n}", f"{name}_b{n}", "sum", 1.0, 1.2)
     for name, label in (("resnet50", "ResNet-50"), ("mobilenet_v2", "MobileNetV2"), ("convnext_tiny", "ConvNeXt-T"))
     for n in (1, 8)] + [
    ("peak memory, ResNet-18 CIFAR train step", "memory", "sum", 1.0, 1.1),
]
INFO = [("ResNet-18 3x3 layers, fwd+bwd (sum of medians)", "resnet3x3:bwd"),
        ("ResNet-18 3x3 layers, forward (sum of medians)", "resnet3x3:fwd")]
COLD_TARGET_S = 1.5  # the first ResNet-18 224 b1 forward in a fresh process, seconds, on every kind
ORT_TARGET = ("ResNet-50 224 inference b8, cnnlab/ONNX Runtime", 1.5)

# ONNX Runtime (issue 17): cnnlab's export run by ONNX Runtime, the second reference for inference
INFO_ORT = [(f"{label} 224 inference b{n}, cnnlab/ONNX Runtime", tag)
            for label, prefix in (("ResNet-18", "infer"), ("ResNet-50", "resnet50"), ("MobileNetV2", "mobilenet_v2"),
                                  ("ConvNeXt-T", "convnext_tiny"))
            for n, tag in ((1, f"{prefix}_b1"), (8, f"{prefix}_b8"))]

ROW = "{:<44} {:>4} {:>10} {:>10} {:>6} {:>9} {:>9} {:>7} {:>7} {:>8} {:>6}"


def _fmt(value, spec):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def print_environment(env, out=print):
    out(f"cnnlab {env['cnnlab']} ({env['cnnlab_commit']})  numpy {env['numpy']}  torch {env['torch']}  "
        f"python {env['python']}")
    out(f"CPU: {env['cpu']}, {env['cpu_count']} logical cores; torch.get_num_threads() = {env['torch_threads']}; "
        f"load average at start {_fmt(env['load_average'], '.2f')}")
    for p in env["threadpools"]:
        if p.get("user_api") == "blas":
            out(f"BLAS: {p.get('internal_api')} {p.get('version')} ({p.get('prefix')}), kernel/architecture "
                f"{p.get('architecture')}, {p.get('num_threads')} threads, {p.get('threading_layer')}")
        else:
            out(f"{p.get('user_api')}: {p.get('internal_api')} ({p.get('prefix')}), "
                f"{p.get('num_threads')} threads")
    out(f"Compiled kernels (the fast extra): {env.get('compiled', 'unknown')}")
    env_vars = env["env"]
    out("Environment: " + ", ".join(f"{k}={'unset' if v is None else repr(v)}" for k, v in env_vars.items()))
    alloc = {k: v for k, v in env_vars.items() if (k == "GLIBC_TUNABLES" or k.startswith("MALLOC_"))
             and v is not None}
    out("Allocator: " + (", ".join(f"{k}={v}" for k, v in alloc.items()) if alloc else
                         "glibc malloc defaults (no GLIBC_TUNABLES / MALLOC_* set)"))
    if env["load_average"] is not None and env["load_average"] > 0.5:
        out(f"WARNING: load average {env['load_average']:.2f}: other processes compete for the "
            f"{env['cpu_count']} cores, so the timings are noisy (PyTorch's spin-waiting OpenMP threads suffer most).")
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if env_vars.get(k) is not None:
            out(f"WARNING: {k} is set ({env_vars[k]!r}); it can slow NumPy's GEMM. `make bench` unsets it.")


def print_peak(peak, out=print, when="GEMM peak", relative=True):
    best = max(peak["numpy_gflops"], peak["torch_gflops"])
    out(f"{when} (float32 {peak['n']}^3 matmul, best of repeats): NumPy {peak['numpy_gflops']:.0f} GFLOP/s, "
        f"torch.mm {peak['torch_gflops']:.0f} GFLOP/s" + (f"; %pk below is relative to {best:.0f}" if relative else ""))


def print_header(kind_line="", out=print):
    out("")
    if kind_line:
        out(kind_line)
    out(ROW.format("case", "reps", "cnnlab ms", "torch ms", "ratio", "cl GF/s", "pt GF/s", "cl %pk", "pt %pk",
                   "ort ms", "cl/ort"))
    out("-" * 130)


def print_group(group, out=print):
    out(f"[{group}]")


def print_row(r, out=print):
    if r.get("error"):
        out(f"{r['name']:<44} ERROR: {r['error']}")
        return
    out(ROW.format(r["name"][:44], r["repeats"], _fmt(r["cnnlab"]["median_s"] * 1e3, ".2f"),
                   _fmt(r["torch"]["median_s"] * 1e3, ".2f"), _fmt(r["ratio"], ".2f"),
                   _fmt(r["cnnlab_gflops"], ".1f"), _fmt(r["torch_gflops"], ".1f"),
                   _fmt(r["cnnlab_peak_frac"] and 100 * r["cnnlab_peak_frac"], ".0f"),
                   _fmt(r["torch_peak_frac"] and 100 * r["torch_peak_frac"], ".0f"),
                   _fmt(r.get("onnxruntime") and r["onnxruntime"]["median_s"] * 1e3, ".2f"),
                   _fmt(r.get("ratio_ort"), ".2f")))


def print_warning(name, problems, out=print, ref="cnnlab's"):
    out(f"  WARNING: {name}: {ref} results differ from PyTorch's: " + "; ".join(problems))


def print_memory(mem, out=print):
    out("")
    if mem.get("error"):
        out(f"peak memory (ResNet-18 CIFAR train step, batch 32): ERROR: {mem['error']}")
        return
    c, t = mem["cnnlab"], mem["torch"]
    out(f"peak memory, ResNet-18 CIFAR train step b32 ({c['steps']} steps, each library in a fresh process):")
    out(f"  {'':<8} {'RSS before MB':>14} {'peak RSS MB':>12} {'step peak MB':>13}")
    for name, m in (("cnnlab", c), ("torch", t)):
        out(f"  {name:<8} {m['rss_before_mb']:>14.0f} {m['peak_rss_mb']:>12.0f} {m['step_mb']:>13.0f}")
    out(f"  ratio cnnlab/torch: step peak (peak RSS - RSS before the first step) {mem['ratio']:.2f}, "
        f"whole-process peak RSS {mem['ratio_total']:.2f}")


def _verdict(ratio, target):
    if ratio is None:
        return "not run"
    return "(info)" if target is None else "met" if ratio <= target else "NOT met"


def summarise(results, memory, avx512=None, cold=None):
    """One entry per target: the measured ratio and the target of this machine kind (AVX-512 or not; an unknown
    kind is held to the AVX2 column, the stricter one)."""
    rows = []
    for label, tag, how, target_avx2, target_avx512 in TARGETS + [(lbl, tag, "sum", None, None) for lbl, tag in INFO]:
        target = target_avx512 if avx512 else target_avx2
        if tag == "memory":
            ratio = memory.get("ratio") if memory and not memory.get("error") else None
            n = 1 if ratio is not None else 0
        else:
            hits = [r for r in results if tag in r.get("tags", ()) and not r.get("error")]
            n = len(hits)
            if not hits:
                ratio = None
            elif how == "max":
                ratio = max(r["ratio"] for r in hits)
            else:
                ratio = sum(r["cnnlab"]["median_s"] for r in hits) / sum(r["torch"]["median_s"] for r in hits)
        rows.append({"case": label, "cases": n, "ratio": ratio, "target": target, "verdict": _verdict(ratio, target)})
    if cold is not None:
        seconds = None if cold.get("error") else cold["cnnlab"]["first_forward_s"]
        rows.append({"case": "cold ResNet-18 224 b1 first forward, cnnlab seconds", "cases": 1 if seconds else 0,
                     "ratio": seconds, "target": COLD_TARGET_S, "verdict": _verdict(seconds, COLD_TARGET_S)})
    for label, tag in INFO_ORT:  # sum of cnnlab medians / sum of ONNX Runtime medians, same cases
        hits = [r for r in results if tag in r.get("tags", ()) and r.get("onnxruntime") and not r.get("error")]
        ratio = (sum(r["cnnlab"]["median_s"] for r in hits) / sum(r["onnxruntime"]["median_s"] for r in hits)
                 if hits else None)
        target = ORT_TARGET[1] if label == ORT_TARGET[0] else None
        rows.append({"case": label, "cases": len(hits), "ratio": ratio, "target": target,
                     "verdict": _verdict(ratio, target) if hits else "not run"})
    return rows


def lenet_throughput(results, batch):
    """Images per second of the LeNet-5 step (the demo's model, SGD with momentum, `batch` images) per library,
    from the medians of the 'lenet_step' case; None where it was not run."""
    hits = [r for r in results if "lenet_step" in r.get("tags", ()) and not r.get("error")]
    if not hits:
        return None
    return {"batch": batch, **{name: batch / hits[0][name]["median_s"] for name in ("cnnlab", "torch")}}


def print_throughput(throughput, out=print):
    if throughput:
        out(f"LeNet-5 training, the demo's model and step (batch {throughput['batch']}): cnnlab "
            f"{throughput['cnnlab']:,.0f} images/s, PyTorch {throughput['torch']:,.0f} images/s")


def print_cold(cold, out=print):
    out("")
    if cold.get("error"):
        out(f"cold start (ResNet-18 224 b1, fresh process): ERROR: {cold['error']}")
        return
    out(f"cold start, ResNet-18 224 b1 in a fresh process (medians of {cold['repeats']} processes per library):")
    out(f"  {'':<8} {'import s':>9} {'first forward s':>16} {'second forward s':>17}")
    for name in ("cnnlab", "torch"):
        m = cold[name]
        out(f"  {name:<8} {m['import_s']:>9.2f} {m['first_forward_s']:>16.3f} {m['second_forward_s']:>17.3f}")


def print_summary(rows, kind_line="", out=print):
    out("")
    if kind_line:
        out(kind_line)
    out("Summary against issue 20's targets for this machine kind (ratio cnnlab / PyTorch unless the row says "
        "otherwise; lower is better)")
    fmt = "{:<56} {:>7} {:>8}  {}"
    out(fmt.format("case", "ratio", "target", "verdict"))
    out("-" * 86)
    for r in rows:
        out(fmt.format(r["case"], _fmt(r["ratio"], ".2f"), "-" if r["target"] is None else f"<= {r['target']}",
                       r["verdict"]))


def write_json(path, payload):
    with open(path, "w") as f:
        json.dump(json_safe(payload), f, indent=1, allow_nan=False)
