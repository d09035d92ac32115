"""IDX files: reading (headers, subsets, damage) and local folders prepared as tfds datasets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from digitkit.data import load_digits
from digitkit.data.idx import find_idx_files, read_idx
from digitkit.errors import InputError

_SPEC = importlib.util.spec_from_file_location("data_fixtures", Path(__file__).parent / "fixtures/data/make_fixtures.py")
fixtures = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fixtures)


def test_read_idx_gz_and_raw_round_trip(tmp_path):
    images, labels = fixtures.synthetic_digits(6)
    assert np.array_equal(read_idx(fixtures.write_idx(tmp_path / "a-images-idx3-ubyte.gz", images)), images)
    assert np.array_equal(read_idx(fixtures.write_idx(tmp_path / "a-labels-idx1-ubyte", labels)), labels)


def test_read_idx_count_comes_from_header_so_subsets_work(tmp_path):
    images, _ = fixtures.synthetic_digits(10)
    subset = read_idx(fixtures.write_idx(tmp_path / "s-images-idx3-ubyte.gz", images, header_count=4))
    assert subset.shape == (4, 28, 28)
    assert np.array_equal(subset, images[:4])


@pytest.mark.parametrize("content, message", [
    (b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 100, "truncated"),
    (b"PK\x03\x04 not idx at all", "bad magic"),
    (b"\x00\x00\x08\x03\x00", "truncated IDX header"),
])
def test_read_idx_refuses_damaged_files(tmp_path, content, message):
    path = tmp_path / "bad-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_idx(path)


def test_find_idx_files_accepts_mnist_names_and_subsets(tmp_path):
    fixtures.make_idx_folder(tmp_path / "plain")
    fixtures.make_idx_folder(tmp_path / "subset", n_train=7, subset_of=12)
    assert find_idx_files(tmp_path / "plain", "train")[0].name == "train-images-idx3-ubyte.gz"
    assert find_idx_files(tmp_path / "subset", "train")[0].name == "train-sub-images-idx3-ubyte.gz"
    assert find_idx_files(tmp_path / "plain", "test")[1].name == "t10k-labels-idx1-ubyte.gz"
    assert find_idx_files(tmp_path, "train") is None


def test_local_idx_folder_is_prepared_once_then_read_in_order(tmp_path, home, monkeypatch):
    folder = fixtures.make_idx_folder(tmp_path / "my idx", n_train=7, subset_of=12)
    train = load_digits(str(folder), "train")
    expected, expected_labels = fixtures.synthetic_digits(12, seed=1)
    assert train.images.dtype == np.uint8 and train.images.shape == (7, 28, 28)
    assert np.array_equal(train.images, expected[:7]) and np.array_equal(train.labels, expected_labels[:7])
    assert "IDX files in" in train.source
    assert len(load_digits(str(folder), "test")) == 5
    prepared = list((home / "data" / "digitkit_idx").glob("*/1.0.0/dataset_info.json"))
    assert len(prepared) == 1

    # Later loads never re-read the IDX files: they come from the prepared dataset.
    from digitkit.data import idx

    monkeypatch.setattr(idx, "read_idx", lambda path: pytest.fail("IDX files read again"))
    assert np.array_equal(load_digits(str(folder), "train").images, train.images)


def test_damaged_prepared_copy_says_how_to_rebuild_and_rebuild_works(tmp_path, home, cli):
    folder = fixtures.make_idx_folder(tmp_path / "idx")
    load_digits(str(folder), "train")
    info = next((home / "data" / "digitkit_idx").glob("*/1.0.0/dataset_info.json"))
    info.write_text("{ this is not json")
    result = cli("preview", "--dataset", folder, "--count", "1")
    assert result.exit_code == 3
    assert "damaged" in result.stderr and f"digitkit datasets --rebuild {folder}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    rebuilt = cli("datasets", "--rebuild", folder, "--json")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["splits"] == {"train": 12, "test": 5}
    assert len(load_digits(str(folder), "train")) == 12


def test_mismatched_image_and_label_counts_is_one_line_error(tmp_path, cli):
    folder = fixtures.make_idx_folder(tmp_path / "idx")
    images, labels = fixtures.synthetic_digits(3)
    fixtures.write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    result = cli("preview", "--dataset", folder)
    assert result.exit_code == 3
    assert "12 images but" in result.stderr and "3 labels" in result.stderr


def test_half_prepared_copy_missing_its_records_is_reported(tmp_path, home):
    folder = fixtures.make_idx_folder(tmp_path / "idx")
    load_digits(str(folder), "test")
    for shard in (home / "data" / "digitkit_idx").glob("*/1.0.0/*train.tfrecord*"):
        shard.unlink()
    with pytest.raises(InputError, match="damaged") as caught:
        load_digits(str(folder), "train")
    assert "--rebuild" in caught.value.hint


def test_tfds_name_wins_over_same_named_folder_unless_written_as_path(tmp_path, monkeypatch):
    from digitkit.errors import UnavailableError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGITKIT_OFFLINE", "1")
    fixtures.make_idx_folder(tmp_path / "mnist")
    with pytest.raises(UnavailableError):
        load_digits("mnist")
    assert len(load_digits("./mnist")) == 12


def test_prepared_idx_folder_is_a_plain_tfds_dataset(tmp_path, home):
    import tensorflow_datasets as tfds

    folder = fixtures.make_idx_folder(tmp_path / "idx")
    load_digits(str(folder), "test")
    config = next((home / "data" / "digitkit_idx").iterdir()).name
    dataset = tfds.load(f"digitkit_idx/{config}", split="test", data_dir=str(home / "data"))
    assert int(dataset.cardinality()) == 5
