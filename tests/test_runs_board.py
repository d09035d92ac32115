"""`digitkit runs board`: TensorBoard over chosen runs, on 127.0.0.1, with a bounded wait."""

from __future__ import annotations

import json
import urllib.request

import pytest

from digitkit.errors import EXIT_UNAVAILABLE, EXIT_USAGE


@pytest.mark.slow
def test_board_starts_answers_on_localhost_and_stops(make_run):
    pytest.importorskip("tensorboard")
    from digitkit.runs.board import start_board

    shown, other = make_run(stamp="20240101-000000"), make_run(stamp="20240102-000000")
    board = start_board([shown.id], timeout_s=90)
    try:
        assert board.url.startswith("http://127.0.0.1:") and board.runs == [shown.id]
        with urllib.request.urlopen(board.url + "data/runs", timeout=10) as answer:
            names = json.loads(answer.read())
        assert f"{shown.id}/train" in names and f"{shown.id}/validation" in names
        assert not any(other.id in name for name in names)
    finally:
        board.stop()
    assert board.process.poll() is not None


def test_board_without_tensorboard_says_how_to_get_it(cli, make_run, monkeypatch):
    from digitkit.runs import board

    make_run()
    monkeypatch.setattr(board, "tensorboard_installed", lambda: False)
    result = cli("runs", "board")
    assert result.exit_code == EXIT_UNAVAILABLE
    assert "TensorBoard is not installed" in result.stderr and "pip install tensorboard" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr


def test_board_refuses_runs_without_logs(cli, make_run):
    import shutil

    run = make_run()
    shutil.rmtree(run.path / "tensorboard")
    result = cli("runs", "board", run.id)
    assert result.exit_code == EXIT_USAGE and "no TensorBoard logs" in result.stderr
