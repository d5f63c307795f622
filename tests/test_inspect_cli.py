"""`cnnlab summary` and `cnnlab explain`: the tables and texts, one-line errors with exit code 2, widths."""
import pytest

from cnnlab.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_of_a_zoo_model_fits_100_columns(capsys):
    code, out, err = _run(capsys, "summary", "--model", "lenet5")
    assert code == 0 and not err
    assert "Total params: 61,706" in out and "Conv2d (features.0)" in out and "5x5 p2" in out
    assert max(len(line) for line in out.splitlines()) <= 100


NET = """
import cnnlab.nn as nn

def build():
    # the lecture notes' network (seed 001)
    return nn.Sequential(nn.Conv2d(3, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 10))
"""


def test_summary_of_your_own_file_gives_the_notes_table(tmp_path, capsys):
    path = tmp_path / "net.py"
    path.write_text(NET)
    code, out, _ = _run(capsys, "summary", "--file", f"{path}:build", "--input", "1,3,32,32", "--columns",
                        "output_size,num_params,receptive_field,jump")
    assert code == 0
    lines = out.splitlines()
    assert any("Conv2d (0)" in line and line.split()[-3:] == ["608", "5x5", "1"] for line in lines), out
    assert any("Conv2d (3)" in line and "3,216" in line for line in lines)
    assert any("Linear (7)" in line and "48,120" in line for line in lines)


def test_summary_errors_are_one_line(tmp_path, capsys):
    code, _, err = _run(capsys, "summary", "--model", "nosuchnet")
    assert code == 2 and err.startswith("cnnlab summary: --model: unknown model 'nosuchnet'")
    code, _, err = _run(capsys, "summary", "--model", "lenet5", "--columns", "params")
    assert code == 2 and "unknown column(s) params" in err
    code, _, err = _run(capsys, "summary", "--file", "missing.py:build")
    assert code == 2 and "no such file: missing.py" in err
    path = tmp_path / "bad.py"
    path.write_text(NET.replace("nn.Linear(400, 120)", "nn.Linear(9216, 120)"))
    code, _, err = _run(capsys, "summary", "--file", f"{path}:build", "--input", "1,3,32,32")
    assert code == 1 and err.count("\n") == 1
    assert "Linear '7' expects in_features=9216 but the flattened output of '5' has 16 x 5 x 5 = 400 values" in err
    with pytest.raises(SystemExit):
        main(["summary", "--model", "lenet5", "--input", "1,a"])


def test_explain_conv_and_pool(capsys):
    code, out, _ = _run(capsys, "explain", "conv", "--input", "7", "--kernel", "3", "--stride", "2", "--padding",
                        "same")
    assert code == 0 and "floor((7 + 1 + 1 - 3) / 2) + 1 = floor(6/2) + 1 = 4" in out and "TensorFlow" in out
    code, out, _ = _run(capsys, "explain", "conv", "--input", "9,9", "--kernel", "3", "--dilation", "2",
                        "--padding", "same")
    assert code == 0 and "H: input 9, kernel 3, dilation 2" in out and "W: input 9" in out
    code, out, _ = _run(capsys, "explain", "pool", "--input", "5", "--kernel", "2", "--ceil-mode")
    assert code == 0 and "ceil(3/2) + 1 = 3" in out
    code, _, err = _run(capsys, "explain", "conv", "--input", "5", "--kernel", "7")
    assert code == 1 and "output size would be 0 or less" in err
    code, _, err = _run(capsys, "explain", "conv", "--input", "5,5", "--kernel", "3,3,3")
    assert code == 2 and "--kernel: give 1 or 2 values" in err


def test_explain_and_animate_take_the_same_window_arguments(capsys, tmp_path):
    # per-side padding (top,bottom,left,right), as `cnnlab animate` has always taken it
    code, out, _ = _run(capsys, "explain", "conv", "--input", "7,7", "--kernel", "3", "--padding", "1,0,2,1")
    assert code == 0 and "H: input 7, kernel 3, stride 1, padding 1 before, 0 after" in out
    assert "W: input 7, kernel 3, stride 1, padding 2 before, 1 after" in out
    for command in ("explain", "animate"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "conv", "--input", "7,7", "--kernel", "3", "--padding", "1,2,3,4,5", "--out",
                  str(tmp_path / "a.gif")][:None if command == "animate" else -2])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "argument --padding" in err and "top,bottom,left,right" in err, command


def test_every_option_has_help_and_the_commands_have_examples():
    from cnnlab.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "summary" in a.choices).choices
    for name in ("summary", "explain"):
        assert all(a.help for a in sub[name]._actions), name
        assert f"cnnlab {name}" in sub[name].format_help().split("examples:")[1]
    explain = next(a for a in sub["explain"]._actions if a.choices and "rf" in a.choices).choices
    for name, p in explain.items():
        assert all(a.help for a in p._actions), name


def test_explain_rf(capsys):
    code, out, _ = _run(capsys, "explain", "rf", "--model", "lenet5")
    assert code == 0
    assert "features.5" in out and "RF 16x16" in out and "jump 4" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_summary_of_a_run_folder(tmp_path, capsys):
    import json

    import cnnlab
    from cnnlab.train import save_checkpoint
    info = {"channels": 1, "size": [28, 28], "classes": [str(i) for i in range(10)]}
    (tmp_path / "config.json").write_text(json.dumps({"model": "lenet5", "data": "mnist-sample", "data_info": info}))
    save_checkpoint(str(tmp_path / "checkpoint.pth"), cnnlab.models.get_model("lenet5"))
    code, out, err = _run(capsys, "summary", "--checkpoint", str(tmp_path), "--depth", "1")
    assert code == 0, err
    assert "Total params: 61,706" in out and "[1, 16, 5, 5]" in out
    code, _, err = _run(capsys, "summary", "--checkpoint", str(tmp_path / "nothing"))
    assert code == 2 and "no such run folder" in err
