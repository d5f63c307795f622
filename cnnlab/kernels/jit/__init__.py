"""Compiled kernels (numba), imported only by kernels/compiled.py at their first use, never with cnnlab itself.

The modules of this package import numba at their top. kernels/registry.py imports every module of cnnlab/kernels
to read its ALGORITHMS, and so this package's `__init__` too, which is why it imports nothing.
"""
