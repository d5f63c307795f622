"""Write docs/coverage.md: which public names of torch, torch.Tensor, torch.nn, torch.nn.functional,
torch.optim and torch.utils.data cnnlab has, which it lacks, and which are out of scope (with the reason).

    python tools/coverage_table.py            # writes docs/coverage.md
"""
import os
import re
import sys

# Names whose pattern says why cnnlab leaves them out: the first matching reason is given.
OUT_OF_SCOPE = [
    (r"cuda|cudnn|nccl|hip|rocm|mps|xpu|mtia|mkldnn|mkl|fbgemm|xnnpack|vulkan|metal|miopen|onednn|cpu_",
     "accelerator or backend specific"),
    (r"sparse|csr|csc|bsr|bsc|coo", "sparse tensors"),
    (r"quant|qint|quint|qscheme|q_|fake_quant|_per_channel|_per_tensor", "quantization"),
    (r"complex|conj|angle|polar|imag|real|view_as_real|resolve_neg|is_neg", "complex numbers"),
    (r"^fft|stft|istft|bartlett|blackman|hamming|hann|kaiser", "signal processing (fft, windows)"),
    (r"distributed|rpc|DataParallel|ProcessGroup|distribute|replicate|scatter_object", "distributed training"),
    (r"jit|script|trace|onnx|fx|export|compile|dynamo|inductor|_C$|ScriptModule|package|hub|library", "compilers, "
     "tracing and packaging"),
    (r"nested|jagged|named|refine_names|rename|align_to|align_as|names", "nested or named tensors"),
    (r"storage|untyped|share_memory|pin_memory|is_pinned|data_ptr|shm|ipc|record_stream|set_$|cpp|from_file",
     "memory and storage internals"),
    (r"^rnn|^lstm|^gru|RNN|LSTM|GRU|Transformer|MultiheadAttention|Embedding|ctc|CTC|multi_head|\bmha\b",
     "sequence models (not CNNs)"),
    (r"lu|qr|svd|eig|cholesky|lstsq|solve|pinv|inverse|det$|slogdet|logdet|matrix_|geqrf|ormqr|orgqr|householder|"
     r"triangular|lobpcg|pca_lowrank|svd_lowrank|linalg", "linear algebra beyond CNN needs (cnnlab.linalg has the "
     "common ones)"),
    (r"^is_|^has_|^set_|^get_|^use_|^are_|^enable_|^disable_|^_|^typename|^Tag|^Type|^DisableTorch|^Dispatch",
     "runtime flags and introspection"),
]

# Names CNN courses and tutorials use: a missing one fails tests/test_fidelity_coverage.py.
COURSE_NAMES = {
    "torch": ["tensor", "zeros", "ones", "rand", "randn", "arange", "linspace", "eye", "full", "zeros_like",
              "ones_like", "randint", "randperm", "manual_seed", "no_grad", "cat", "stack", "matmul", "mm", "bmm",
              "sum", "mean", "max", "min", "argmax", "softmax", "exp", "log", "sqrt", "abs", "clamp", "where",
              "flatten", "reshape", "squeeze", "unsqueeze", "transpose", "permute", "from_numpy", "float32",
              "float64", "int64", "long", "save", "load", "allclose", "einsum", "sigmoid", "tanh", "relu",
              "exp2", "asinh", "acosh", "atanh", "copysign", "cumprod", "cummax", "cummin", "logcumsumexp",
              "scatter_reduce", "bitwise_left_shift", "bitwise_right_shift", "cumsum", "topk", "sort", "meshgrid"],
    "Tensor": ["backward", "grad", "requires_grad_", "detach", "numpy", "item", "view", "reshape", "size", "shape",
               "dim", "to", "float", "long", "sum", "mean", "argmax", "max", "permute", "transpose", "unsqueeze",
               "squeeze", "flatten", "clone", "zero_", "fill_", "data", "__lshift__", "__rshift__", "cumprod",
               "scatter_reduce", "masked_fill", "gather", "scatter_", "index_select", "expand", "repeat"],
    "nn": ["Module", "Sequential", "ModuleList", "Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "BatchNorm2d", "Dropout", "Linear", "ReLU", "Flatten", "CrossEntropyLoss", "MSELoss", "Softmax",
           "Parameter", "init", "functional", "LeakyReLU", "Sigmoid", "Tanh", "ConvTranspose2d", "Upsample",
           "Identity", "GroupNorm", "LayerNorm", "NLLLoss", "BCEWithLogitsLoss"],
    "nn.functional": ["conv2d", "max_pool2d", "avg_pool2d", "relu", "softmax", "log_softmax", "cross_entropy",
                      "nll_loss", "mse_loss", "dropout", "pad", "interpolate", "linear", "one_hot", "normalize",
                      "scaled_dot_product_attention", "adaptive_avg_pool2d", "batch_norm", "sigmoid", "gelu"],
    "optim": ["SGD", "Adam", "AdamW", "lr_scheduler", "Optimizer", "RMSprop"],
    "utils.data": ["Dataset", "DataLoader", "TensorDataset", "random_split", "Subset"],
}


def _public(obj):
    return {n for n in dir(obj) if not n.startswith("_") or n in ("__lshift__", "__rshift__", "__getitem__")}


def _pairs():
    import torch
    import torch.utils.data

    import cnnlab
    import cnnlab.nn
    import cnnlab.nn.functional
    import cnnlab.optim
    cn_data = _cnnlab_data()
    return [
        ("torch", torch, cnnlab),
        ("Tensor", torch.Tensor, cnnlab.Tensor),
        ("nn", torch.nn, cnnlab.nn),
        ("nn.functional", torch.nn.functional, cnnlab.nn.functional),
        ("optim", torch.optim, cnnlab.optim),
        ("utils.data", torch.utils.data, cn_data),
    ]


def _cnnlab_data():
    import importlib
    for name in ("cnnlab.utils.data", "cnnlab.data"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _reason(name):
    for pattern, reason in OUT_OF_SCOPE:
        if re.search(pattern, name):
            return reason
    return None


def table():
    """{area: {"present": [...], "missing": [...], "out_of_scope": [(name, reason), ...]}}."""
    result = {}
    for area, pt, cn in _pairs():
        have = _public(cn) if cn is not None else set()
        rows = {"present": [], "missing": [], "out_of_scope": []}
        for name in sorted(_public(pt)):
            if name in have:
                rows["present"].append(name)
            elif _reason(name):
                rows["out_of_scope"].append((name, _reason(name)))
            elif not name.startswith("_") and (name[:1].isupper() and area == "torch"):
                rows["out_of_scope"].append((name, "type objects and legacy tensor classes"))
            else:
                rows["missing"].append(name)
        result[area] = rows
    return result


def missing_course_names():
    """[(area, name)] for every course name cnnlab lacks."""
    have = {area: (_public(cn) if cn is not None else set()) for area, pt, cn in _pairs()}
    return [(area, n) for area, names in COURSE_NAMES.items() for n in names if n not in have[area]]


def markdown():
    import torch
    lines = ["# PyTorch API coverage", "",
             f"Public names of PyTorch {torch.__version__.split('+')[0]} and whether cnnlab has them. Generated by "
             "`python tools/coverage_table.py`; `tests/test_fidelity_coverage.py` fails if a name that CNN courses "
             "use is missing.", "",
             "| area | present | missing | out of scope |", "|---|---|---|---|"]
    t = table()
    for area, rows in t.items():
        lines.append(f"| {area} | {len(rows['present'])} | {len(rows['missing'])} | {len(rows['out_of_scope'])} |")
    for area, rows in t.items():
        lines += ["", f"## {area}", "", f"**Missing ({len(rows['missing'])}):** " +
                  (", ".join(f"`{n}`" for n in rows["missing"]) or "none"), ""]
        by_reason = {}
        for name, reason in rows["out_of_scope"]:
            by_reason.setdefault(reason, []).append(name)
        lines.append(f"**Out of scope ({len(rows['out_of_scope'])}):**")
        lines.append("")
        for reason, names in sorted(by_reason.items()):
            lines.append(f"- {reason}: " + ", ".join(f"`{n}`" for n in names))
        lines += ["", f"**Present ({len(rows['present'])}):** " + ", ".join(f"`{n}`" for n in rows["present"])]
    return "\n".join(lines) + "\n"


def main(path=None):
    path = path or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "coverage.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(markdown())
    return path


if __name__ == "__main__":
    sys.stdout.write(main(sys.argv[1] if len(sys.argv) > 1 else None) + "\n")
