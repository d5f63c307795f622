"""Issue 19, item 6: cnnlab's coverage of PyTorch's public names (docs/coverage.md, written by
tools/coverage_table.py); every name that CNN courses and tutorials use must be present."""
import os
import sys

import pytest

pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import coverage_table  # noqa: E402


def test_every_course_name_is_present():
    assert coverage_table.missing_course_names() == []


def test_the_table_is_written_with_every_area(tmp_path):
    path = coverage_table.main(str(tmp_path / "coverage.md"))
    text = open(path).read()
    for area in ("torch", "Tensor", "nn", "nn.functional", "optim", "utils.data"):
        assert f"\n## {area}\n" in text
    t = coverage_table.table()
    assert "scaled_dot_product_attention" in t["nn.functional"]["present"]
    assert ("sparse_coo_tensor", "sparse tensors") in t["torch"]["out_of_scope"]


def test_a_missing_course_name_is_reported(monkeypatch):
    monkeypatch.setitem(coverage_table.COURSE_NAMES, "nn", ["Conv2d", "NoSuchLayer"])
    assert coverage_table.missing_course_names() == [("nn", "NoSuchLayer")]
