"""`digitkit read`: output shapes, refusals shared with `predict`, bounds, imports."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from reading_fixtures import MODEL, compose_text

ZOO = Path(__file__).parent / "fixtures" / "images"


def test_plain_output_shows_the_number_picture_and_readings(cli, tmp_path):
    result = cli("read", compose_text(tmp_path / "n.png", "4071"), "-m", MODEL)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "4071" in lines[0] and "sure" in lines[0]
    assert any("▀" in line or "▄" in line or "█" in line for line in lines)
    assert any(line.split() == ["4", "0", "7", "1"] for line in lines)  # readings under the boxes
    assert max(len(line) for line in lines) <= 80


def test_json_shape(cli, tmp_path):
    result = cli("read", compose_text(tmp_path / "n.png", "4071"), "-m", MODEL, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"]["name"] == "cnn-best" and data["model"]["backend"] == "litert"
    reading = data["readings"][0]
    assert reading["text"] == "4071" and set(reading) >= {"input", "text", "confidence", "digits"}
    assert [set(d) for d in reading["digits"]] == [{"box", "digit", "confidence", "status", "top_k"}] * 4
    assert reading["status"] == "ok" and [d["status"] for d in reading["digits"]] == ["ok"] * 4


def test_strict_exits_8_when_a_digit_is_unsure(cli, tmp_path):
    clear = compose_text(tmp_path / "n.png", "4071")
    assert cli("read", clear, "-m", MODEL, "--strict").exit_code == 0
    # Two blobs side by side are no digits the model is sure of.
    blobs = np.full((40, 90), 255, np.uint8)
    blobs[8:32, 10:34] = 0
    blobs[8:32, 50:74] = 0
    Image.fromarray(blobs).save(tmp_path / "blobs.png")
    result = cli("read", tmp_path / "blobs.png", "-m", MODEL, "--jsonl", "--strict")
    line = json.loads(result.stdout.splitlines()[0])
    assert line["status"] != "ok" and any(d["status"] != "ok" for d in line["digits"])
    assert result.exit_code == 8, result.stderr
    assert "--strict" in result.stderr and "Traceback" not in result.stderr


def test_jsonl_one_reading_per_line(cli, tmp_path):
    paths = [compose_text(tmp_path / "a.png", "12"), compose_text(tmp_path / "b.png", "345")]
    result = cli("read", *paths, "-m", MODEL, "--jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["12", "345"] and rows[0]["model"]["name"] == "cnn-best"


def test_csv_columns(cli, tmp_path):
    result = cli("read", compose_text(tmp_path / "a.png", "12\n34"), "-m", MODEL, "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:3] == ["input", "text", "confidence"]
    assert rows[0]["text"] == "12\n34" and rows[0]["count"] == "4"
    # the digits' statuses, in order, as --json gives them; the picture's is the worst of them
    digits = json.loads(cli("read", tmp_path / "a.png", "-m", MODEL, "--json").stdout)["readings"][0]["digits"]
    statuses = [d["status"] for d in digits]
    assert rows[0]["statuses"] == " ".join(statuses) and set(statuses) <= {"ok", "unsure"}
    assert rows[0]["status"] == ("ok" if set(statuses) == {"ok"} else "unsure")


def test_same_refusals_as_predict(cli):
    read = json.loads(cli("read", ZOO, "-m", MODEL, "--json").stdout)
    predicted = json.loads(cli("predict", ZOO, "-m", MODEL, "--json").stdout)
    refused = {f["input"]: f["error"] for f in predicted["failures"]}
    for failure in read["failures"]:
        expected = refused[failure["input"]]
        assert failure["error"] == ("no digits found" if expected.startswith("no ink") else expected)
    assert len(read["failures"]) == len(refused)
    # Every one-digit picture the intake reads reads as predict reads it.
    digits = {p["input"]: p["best"] for p in predicted["predictions"]}
    assert {r["input"]: r["text"] for r in read["readings"]} == {k: str(v) for k, v in digits.items()}


def test_bad_input_exit_codes(cli, tmp_path):
    result = cli("read", ZOO / "truncated.png", "-m", MODEL)
    assert result.exit_code == 3 and result.stderr.count("\n") <= 2 and "Traceback" not in result.stderr
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 60), 255).save(blank)
    result = cli("read", blank, "-m", MODEL)
    assert result.exit_code == 3 and "no digits found" in result.stderr
    result = cli("read", blank, compose_text(tmp_path / "n.png", "12"), "-m", MODEL)
    assert result.exit_code == 7 and "1 of 2 inputs could not be read" in result.stderr
    assert cli("read", blank, "-m", MODEL, "--json", "--csv").exit_code == 2


def test_more_than_200_digits_is_refused_quickly(cli, tmp_path):
    # 30 rows of 10 digits: 300 digits on a page.
    page = compose_text(tmp_path / "page.png", "\n".join(["1234567890"] * 30))
    started = time.perf_counter()
    result = cli("read", page, "-m", MODEL)
    assert result.exit_code == 3 and "more than 200" in result.stderr
    assert time.perf_counter() - started < 10


def test_noise_is_refused_not_hung(cli, tmp_path):
    noise = tmp_path / "noise.png"
    Image.fromarray((np.random.default_rng(0).random((1000, 1000)) < 0.3).astype(np.uint8) * 255).save(noise)
    started = time.perf_counter()
    result = cli("read", noise, "-m", MODEL)
    assert result.exit_code in (0, 3) and time.perf_counter() - started < 20
    assert "Traceback" not in result.stderr


def test_help_and_litert_reading_do_not_import_tensorflow(tmp_path):
    path = compose_text(tmp_path / "n.png", "42")
    code = ("import sys, runpy; sys.argv = ['digitkit', 'read', %r, '-m', %r, '--json']\n"
            "try:\n    runpy.run_module('digitkit', run_name='__main__')\nexcept SystemExit: pass\n"
            "print('TF' if 'tensorflow' in sys.modules else 'no TF', file=sys.stderr)") % (str(path), MODEL)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["readings"][0]["text"] == "42"
    assert done.stderr.strip().endswith("no TF"), done.stderr
    code = ("import sys\nfrom digitkit.cli.entry import main\nsys.argv = ['digitkit', 'read', '--help']\n"
            "try:\n    main()\nexcept SystemExit: pass\n"
            "print('TF' if 'tensorflow' in sys.modules else 'no TF', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "Usage: digitkit read" in done.stdout and done.stderr.strip().endswith("no TF")


def test_fast_entry_parses_the_common_forms_and_leaves_the_rest_to_typer():
    from digitkit.cli.entry import parse_read

    assert parse_read(["a.png", "-m", MODEL, "--digits=5", "--keep-marks", "--csv"]) == {
        "paths": ["a.png"], "model": MODEL, "digits": 5, "keep_marks": True, "csv_output": True}
    for args in (["--help"], ["a.png", "--digits", "0"], ["a.png", "--bogus"], ["a.png", "-k"], [],
                 ["a.png", "--backend", "tpu"]):
        assert parse_read(args) is None, args


def test_fast_entry_and_typer_agree(tmp_path, capsys, monkeypatch):
    from digitkit.cli.entry import main

    path = str(compose_text(tmp_path / "n.png", "42"))
    outputs = []
    for argv in (["read", path, "-m", MODEL, "--json"], ["read", "--debug", path, "-m", MODEL, "--json"]):
        monkeypatch.setattr(sys, "argv", ["digitkit", *argv])  # the Typer app reads sys.argv
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 0
        outputs.append(json.loads(capsys.readouterr().out)["readings"])
    assert outputs[0] == outputs[1]


def test_planning_in_worker_processes_gives_the_same_readings(tmp_path):
    from digitkit.reading import stream

    paths = [compose_text(tmp_path / f"{i}.png", text) for i, text in enumerate(["12", "345", "6 7"])]
    here = [r.to_dict() for r in stream(paths, MODEL, workers=0, chunk=2)]
    pooled = [r.to_dict() for r in stream(paths, MODEL, workers=2, chunk=1)]
    assert here == pooled and [r["text"] for r in here] == ["12", "345", "6 7"]


def test_stdin_is_read_under_its_name(cli, tmp_path):
    data = compose_text(tmp_path / "n.png", "42").read_bytes()
    result = cli("read", "-", "-m", MODEL, "--csv", input=data)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("<stdin>,42,")
