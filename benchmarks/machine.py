"""The machine kind a benchmark result belongs to: numbers are comparable only between runs of the same kind.

A kind is the CPU model, whether it has AVX-512, the core count and the BLAS kernel OpenBLAS picked (threadpoolctl's
`architecture`: SkylakeX, Haswell, Zen, ...). The GEMM peak measured in the run is printed beside it but is not part
of the key: it varies with load, and a kind is what decides which kernels run.
"""


def has_avx512(cpuinfo="/proc/cpuinfo"):
    """True/False from the CPU flags (Linux), None where they cannot be read."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return None


def blas_kernel(env):
    """The BLAS library's kernel name from the environment record (threadpoolctl), or 'unknown'."""
    for pool in env.get("threadpools", ()):
        if pool.get("user_api") == "blas":
            return f"{pool.get('internal_api')} {pool.get('architecture')}"
    return "unknown"


def kind(env, avx512=None):
    """A dict identifying the machine kind: cpu, avx512, cores, blas; `key` joins them into one string."""
    avx512 = has_avx512() if avx512 is None else avx512
    k = {"cpu": env.get("cpu"), "avx512": avx512, "cores": env.get("cpu_count"), "blas": blas_kernel(env)}
    flag = {True: "AVX-512", False: "AVX2-only" if avx512 is False else "?", None: "AVX-512 unknown"}[avx512]
    k["key"] = f"{k['cpu']} | {flag} | {k['cores']} cores | {k['blas']}"
    return k


def describe(machine, peak_gflops=None):
    """The one line printed with results: the kind key and, when given, the GEMM peak measured in this run."""
    line = f"machine kind: {machine['key']}"
    return line + (f" | GEMM peak {peak_gflops:.0f} GFLOP/s this run" if peak_gflops else "")
