import pathlib
import sys

# tests import the PyTorch-comparison helpers as `from oracle import check, ...`
sys.path.insert(0, str(pathlib.Path(__file__).parent))
