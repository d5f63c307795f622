"""The benchmark suite: cnnlab against PyTorch on the same inputs, in one run (`make bench`,
`python -m benchmarks --help`). Importing this package imports neither library."""
