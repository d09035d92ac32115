"""Many files: answers stream in input order, from a process pool, in flat memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from predict_fixtures import trained


def _write_digits(folder: Path, count: int) -> list[str]:
    """``count`` small PNG digits (dark on light) plus one broken file in the middle."""
    from PIL import Image

    from digitkit.data import load_digits

    images = load_digits("sample", split="test").images
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        Image.fromarray(255 - images[i % len(images)]).save(folder / f"{i:05d}.png")
        names.append(f"{i:05d}.png")
    (folder / f"{count // 2:05d}b.png").write_bytes(b"not an image")
    names.insert(count // 2 + 1, f"{count // 2:05d}b.png")
    return names


@pytest.mark.parametrize("workers", [0, 2])
def test_stream_keeps_input_order_with_failures_in_place(tmp_path, tmp_path_factory, workers):
    from digitkit.inference.batch import Failure, stream

    run = trained("dense-sigmoid", tmp_path_factory)
    names = _write_digits(tmp_path / "digits", 300)
    answers = stream(tmp_path / "digits", model=str(run.path), workers=workers, chunk=16)
    assert answers.total == 301
    items = list(answers)
    assert [Path(item.input).name for item in items] == names
    assert isinstance(items[151], Failure) and "not an image" in items[151].message
    assert answers.predicted == 300 and answers.failed == 1


@pytest.mark.parametrize("group, group_bytes", [(3, 1 << 30), (32, 1)])
def test_chunk_groups_keep_each_digit_and_failure_in_place(tmp_path, monkeypatch, group, group_bytes):
    """Pictures are decoded a group at a time, then preprocessed: a decode failure and a
    preprocessing failure stay at their inputs, and every digit is what read_digit gives."""
    from PIL import Image

    from digitkit.inference import batch
    from digitkit.intake import read_digit

    names = _write_digits(tmp_path / "digits", 8)
    Image.new("L", (40, 40), 255).save(tmp_path / "digits" / "blank.png")  # decodes, holds no ink
    names.insert(2, "blank.png")
    monkeypatch.setattr(batch, "GROUP", group)
    monkeypatch.setattr(batch, "GROUP_BYTES", group_bytes)
    items = [(name, tmp_path / "digits" / name) for name in names]
    digits, positions, outcome, _ = batch.load_chunk(items, True)
    assert positions == [i for i, failure in enumerate(outcome) if failure is None]
    assert [names[i] for i, failure in enumerate(outcome) if failure] == ["blank.png", "00004b.png"]
    assert outcome[2].message.startswith("no ink found") and "not an image" in outcome[names.index("00004b.png")].message
    for digit, position in zip(digits, positions):
        np.testing.assert_array_equal(digit, read_digit(items[position][1]))


def test_pool_and_inline_give_the_same_answers(tmp_path, tmp_path_factory):
    from digitkit.inference.batch import predict

    run = trained("dense-sigmoid", tmp_path_factory)
    _write_digits(tmp_path / "digits", 260)
    inline = predict(tmp_path / "digits", model=str(run.path), workers=0)
    pooled = predict(tmp_path / "digits", model=str(run.path), workers=2)
    assert np.array_equal([p.probabilities for p in inline.predictions], [p.probabilities for p in pooled.predictions])


def test_jsonl_prints_one_object_per_image(cli, tmp_path, tmp_path_factory):
    run = trained("dense-sigmoid", tmp_path_factory)
    _write_digits(tmp_path / "digits", 20)
    result = cli("predict", tmp_path / "digits", "--model", run.path, "--jsonl")
    assert result.exit_code == 7
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 20 and rows[0]["model"]["backend"] == "litert"
    assert [Path(r["input"]).name for r in rows] == [f"{i:05d}.png" for i in range(20)]
    assert "skipped" in result.stderr and "00010b.png" in result.stderr


RSS = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
print(proc.returncode, proc.stdout.count(b"\\n"), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


@pytest.mark.slow
def test_memory_stays_flat_as_the_batch_grows(tmp_path, tmp_path_factory):
    run = trained("dense-sigmoid", tmp_path_factory)
    _write_digits(tmp_path / "small", 500)
    _write_digits(tmp_path / "large", 4000)
    peaks = {}
    for name, count in (("small", 500), ("large", 4000)):
        command = [sys.executable, "-m", "digitkit", "predict", str(tmp_path / name), "--model", str(run.path),
                   "--csv"]
        proc = subprocess.run([sys.executable, "-c", RSS, *command], capture_output=True, text=True,
                              env={**os.environ}, timeout=900)
        code, rows, peak = (int(v) for v in proc.stdout.split())
        assert code == 7 and rows == count + 1  # header + one row per readable file
        peaks[name] = peak
    # Eight times the files: the peak (of the largest process: one worker or the main one) barely moves.
    assert peaks["large"] - peaks["small"] < 40, peaks
