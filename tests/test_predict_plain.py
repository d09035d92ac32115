"""The plain-text predict table (no rich import) prints exactly what rich prints off a terminal."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from digitkit.cli import predict_output

NAMES = [
    ["/tmp/digits/000000.png"], ["a.png", "bb.png", "ccc.jpg"], ["my digit (1).png"], ["x" * 45], ["x" * 120],
    ["/tmp/digitkit-speed-r4ty6ebw/one/000000.png"], ["/tmp/" + "d" * 70 + ".png", "short.png"],
    ["a folder/with spaces in a long name/000000.png"],
    ["/tmp/a-long-folder-for-a-fresh-clone/digitkit/tests/fixtures/images/grey8.png"], ["数字.png"], ["[bold]7[/].png"], ["tab\there.png"], ["esc\x1b[31m.png"], ["-"],
]


def _result(names, run_id="20261128-091800-cnn-a06a", model="cnn"):
    predictions = [SimpleNamespace(input=name, digit=None if i == 1 else i % 10,
                                   status=("ok", "unsure", "not-a-digit")[i % 3],
                                   top_k=[(i % 10, 0.934), (3, 0.05), (2, 0.016)][: 1 + i % 3])
                   for i, name in enumerate(names)]
    return SimpleNamespace(predictions=predictions, model_name=model, backend="litert", run_id=run_id,
                           answered_by={"answered_by": run_id, "test_accuracy": 0.9812})


def _printed(capsys, result, plain: bool, monkeypatch) -> str:
    if not plain:
        monkeypatch.setattr(predict_output, "_plain_table", lambda result: None)
    predict_output._print_table(result, show=False)
    monkeypatch.undo()
    return capsys.readouterr().out


@pytest.mark.parametrize("names", NAMES)
@pytest.mark.parametrize("columns", ["80", "60", "45"])
@pytest.mark.parametrize("run_id", ["20261128-091800-cnn-a06a", "[x]"])
def test_plain_table_is_what_rich_prints(capsys, monkeypatch, names, columns, run_id):
    monkeypatch.setenv("COLUMNS", columns)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    result = _result(names, run_id)
    with_rich = _printed(capsys, result, False, monkeypatch)
    monkeypatch.setenv("COLUMNS", columns)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    assert _printed(capsys, result, True, monkeypatch) == with_rich


def test_simple_tables_skip_rich_and_others_use_it(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert predict_output._plain_table(_result(["/tmp/digits/000000.png"])) is not None
    assert predict_output._plain_table(_result(["x" * 120])) is not None  # folded as rich folds it
    assert predict_output._plain_table(_result(["x y" * 40])) is not None  # folded before either draws it
    assert predict_output._plain_table(_result(["数字.png"])) is None  # wide characters: rich measures
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert predict_output._plain_table(_result(["/tmp/digits/000000.png"])) is None  # rich draws colours


@pytest.mark.parametrize("plain", [True, False])
def test_long_paths_fold_at_separators_and_names_stay_whole(capsys, monkeypatch, plain):
    monkeypatch.setenv("COLUMNS", "80")
    path = "/tmp/a-long-folder/for-a-fresh-clone/digitkit/tests/fixtures/images/grey8.png"
    text = _printed(capsys, _result([path]), plain, monkeypatch)
    cells = [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]
    assert "".join(cells) == path and cells[-1].endswith("grey8.png")
    assert all(cell.endswith("/") for cell in cells[:-1]), cells
    assert all(len(line) <= 80 for line in text.splitlines())
