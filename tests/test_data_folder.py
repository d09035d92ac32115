"""A folder of the user's own images as a dataset: <root>/<digit>/<files>, optional train/ test/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from digitkit.data import load_digits

_SPEC = importlib.util.spec_from_file_location("data_fixtures", Path(__file__).parent / "fixtures/data/make_fixtures.py")
fixtures = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fixtures)


def test_mixed_formats_sizes_and_modes_become_28x28_digits(tmp_path):
    root = fixtures.make_image_folder(tmp_path / "mine", per_class=6)
    train = load_digits(str(root), "train")
    test = load_digits(str(root), "test")
    assert train.images.shape == (15, 28, 28) and train.images.dtype == np.uint8
    assert len(test) == 3  # every 5th file of each class is held out
    assert sorted(np.bincount(train.labels)) == [5, 5, 5]
    assert train.images.max() > 200  # white ink on black, like MNIST
    assert "every 5th image" in train.notes[0]
    assert train.source == f"image folder {root}"


def test_train_and_test_folders_are_the_splits(tmp_path):
    root = fixtures.make_image_folder(tmp_path / "mine", split_folders=True, per_class=4)
    assert len(load_digits(str(root), "train")) == 12
    digits = load_digits(str(root), "test")
    assert len(digits) == 12 and digits.notes == ()


def test_same_preprocessing_as_prediction(tmp_path, monkeypatch):
    root = fixtures.make_image_folder(tmp_path / "mine", per_class=1)
    import digitkit.intake

    monkeypatch.setattr(digitkit.intake, "read_digit", lambda path: np.full((28, 28), 0.5, np.float32))
    assert (load_digits(str(root), "train").images == 128).all()


def test_unreadable_files_are_skipped_with_a_note(tmp_path):
    root = fixtures.make_image_folder(tmp_path / "mine", split_folders=True, per_class=2)
    (root / "train" / "1" / "broken.png").write_bytes(b"not a png")
    digits = load_digits(str(root), "train")
    assert len(digits) == 6
    assert "skipped 1 unreadable image" in digits.notes[0] and "broken.png" in digits.notes[0]


@pytest.mark.parametrize("make, code, message", [
    (lambda root: None, 3, "does not exist"),
    (lambda root: root.mkdir(), 3, "is empty"),
    (lambda root: (root / "cats").mkdir(parents=True), 3, "neither MNIST IDX files nor folders named 0-9"),
    (lambda root: (root / "3").mkdir(parents=True), 3, "no images for the train split"),
    (lambda root: root.write_text("x"), 3, "is a file"),
])
def test_bad_dataset_paths_are_one_line_errors(tmp_path, cli, make, code, message):
    root = tmp_path / "data"
    make(root)
    result = cli("preview", "--dataset", root)
    assert result.exit_code == code
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
