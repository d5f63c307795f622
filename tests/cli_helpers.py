"""Helpers shared by the tests of the `cnnlab` command (imported as `from cli_helpers import ...`)."""


def one_line(capsys, *words, stream="err"):
    """The single line the command wrote to stderr (or stdout), checked to hold every word and no traceback."""
    text = getattr(capsys.readouterr(), stream)
    assert text.count("\n") == 1 and "Traceback" not in text, text
    for w in words:
        assert w in text, (w, text)
    return text
