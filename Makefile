# make demo: set up .venv with cnnlab and run the demo.  make test: set up the test tools and run the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The demo's install takes the small extras a user reaches for next: Pillow (cnnlab predict on an image file)
# and tqdm (progress bars). The package itself needs only NumPy.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[images,progress]'
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(PIP) -r requirements-test.txt
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m cnnlab demo

# Two workers on the two cores; the suite's doctests run the docstring examples of the package and the README.
test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n 2 tests cnnlab README.md

# Times cnnlab against PyTorch in one run (writes benchmarks/results.json). OpenBLAS's workaround variables
# halve NumPy's GEMM speed on this machine's CPUs, so they are unset for this command only.
bench: $(VENV)/.test-installed
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
