"""The writing-style kinds of scripts/make_realworld_digits.py: deterministic, labelled, MNIST-framed."""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import make_realworld_digits  # noqa: E402
from digitkit.zoo import writing_styles  # noqa: E402


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_styles_are_new_kinds_after_the_capture_kinds():
    # A kind's test digits and random stream follow from its place: the old kinds keep theirs.
    assert make_realworld_digits.KINDS[:6] == ("photo", "canvas", "binary16", "binary32", "upscale8", "phone")
    assert make_realworld_digits.KINDS[6:] == writing_styles.STYLES


def test_style_kinds_are_deterministic_labelled_and_sourced(tmp_path):
    kinds = writing_styles.STYLES
    make_realworld_digits.make(tmp_path / "a", count=3, seed=5, kinds=kinds)
    make_realworld_digits.make(tmp_path / "b", count=3, seed=5, kinds=kinds)
    make_realworld_digits.make(tmp_path / "c", count=3, seed=6, kinds=kinds)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")
    images, labels = make_realworld_digits.load_source(None)
    with open(tmp_path / "a" / "labels.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["kind"] for row in rows] == [k for k in kinds for _ in range(3)]
    for row in rows:
        assert int(row["label"]) == writing_styles.LABELS[row["kind"]]
        if row["kind"] in writing_styles.DRAWN:
            assert row["source"] == ""
        else:  # a test digit of the style's own label
            assert labels[int(row["source"])] == int(row["label"])
        assert (tmp_path / "a" / row["file"]).is_file()


def test_capture_kinds_unchanged_when_styles_are_made_beside_them(tmp_path):
    make_realworld_digits.make(tmp_path / "alone", count=2, seed=0, kinds=("canvas", "upscale8"))
    make_realworld_digits.make(tmp_path / "beside", count=2, seed=0,
                               kinds=("canvas", "upscale8", "seven-bar", "four-open"))
    alone, beside = _digests(tmp_path / "alone"), _digests(tmp_path / "beside")
    assert {k: v for k, v in beside.items() if k.split("/")[0] in ("canvas", "upscale8")} == \
        {k: v for k, v in alone.items() if k != "labels.csv"}


@pytest.mark.parametrize("kind", writing_styles.STYLES)
def test_each_style_is_framed_like_mnist(kind):
    images, labels = make_realworld_digits.load_source(None)
    rng = np.random.default_rng(0)
    digit = images[np.flatnonzero(labels == writing_styles.LABELS[kind])[0]]
    out = writing_styles.styled(kind, digit if kind in writing_styles.FROM_MNIST else None, rng)
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255
    rows, cols = np.flatnonzero(out.max(axis=1) > 0), np.flatnonzero(out.max(axis=0) > 0)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (20, 21)  # longer side 20 px
    mass = out.astype(np.float64)
    centre = (mass.sum(axis=1) @ np.arange(28) / mass.sum(), mass.sum(axis=0) @ np.arange(28) / mass.sum())
    assert abs(centre[0] - 14) < 1.5 and abs(centre[1] - 14) < 1.5


def test_added_strokes_add_ink_where_the_style_says():
    images, labels = make_realworld_digits.load_source(None)
    seven = images[np.flatnonzero(labels == 7)[0]]
    barred = writing_styles.continental_seven(seven, np.random.default_rng(1))
    framed = writing_styles.mnist_digit(seven / 255.0)

    def widest_in_middle(digit):  # the longest stretch of ink across the middle third of the height
        rows = np.flatnonzero(digit.max(axis=1) > 0)
        middle = digit[rows[0] + (rows[-1] - rows[0]) // 3: rows[-1] - (rows[-1] - rows[0]) // 3] > 127
        return max(len(run) for row in middle for run in "".join("x" if v else " " for v in row).split())

    assert widest_in_middle(barred) >= widest_in_middle(framed) + 3  # the bar crosses the stem
    one = images[np.flatnonzero(labels == 1)[0]]
    flagged = writing_styles.flagged_one(one, np.random.default_rng(1))
    cols = np.flatnonzero(flagged.max(axis=0) > 0)
    assert cols[-1] - cols[0] >= 8  # a plain MNIST 1 is a few pixels wide; flag and foot widen it


def test_restyle_redraws_a_seeded_share_of_the_sevens_and_ones_only():
    images, labels = make_realworld_digits.load_source(None)
    out, counts = writing_styles.restyle(images, labels, 0.5, seed=3)
    changed = (out != images).reshape(len(out), -1).any(axis=1)
    assert out.shape == images.shape and out.dtype == np.uint8 and images is not out
    assert not changed[~np.isin(labels, (1, 7))].any()  # no other digit, and the labels never change
    for label in (1, 7):
        mine = labels == label
        assert counts[label] == changed[mine].sum()
        assert 0.2 < counts[label] / mine.sum() < 0.8  # about half
    again, _ = writing_styles.restyle(images, labels, 0.5, seed=3)
    other, _ = writing_styles.restyle(images, labels, 0.5, seed=4)
    assert (again == out).all() and not (other == out).all()
    none, zero = writing_styles.restyle(images, labels, 0.0, seed=3)
    assert (none == images).all() and zero == {7: 0, 1: 0}


def test_a_recipe_with_writing_styles_restyles_the_training_part_only(tmp_path):
    from types import SimpleNamespace

    from digitkit.plugins import registry
    from digitkit.spec import Recipe
    from digitkit.training.data import load_split_data

    spec = registry.get_spec("cnn-best")
    plain = SimpleNamespace(dataset="sample", dataset_ref=None, train_size=None, test_size=None, seed=0, spec=spec,
                            recipe=Recipe(validation_split=0.1))
    styled = SimpleNamespace(**{**vars(plain), "recipe": Recipe(validation_split=0.1, writing_styles=1.0)})
    before, after = load_split_data(plain), load_split_data(styled)
    assert (after.validation.images == before.validation.images).all()
    assert (after.test.images == before.test.images).all()
    changed = (after.train.images != before.train.images).reshape(len(after.train), -1).any(axis=1)
    assert changed.sum() == np.isin(after.train.labels, (1, 7)).sum() > 0
    with pytest.raises(ValueError, match="writing_styles"):
        Recipe(writing_styles=1.5)


def test_show_model_says_the_recipe_redraws_sevens_and_ones(cli):
    shown = cli("show-model", "cnn-best")
    assert shown.exit_code == 0 and "30% of the 7s and 1s redrawn" in " ".join(shown.stdout.split())
    assert "redrawn" not in cli("show-model", "cnn").stdout
