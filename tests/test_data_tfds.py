"""tensorflow-datasets sources (mocked with tfds.testing.mock_data), offline and broken downloads.

The network is always simulated: `unreachable_reason` is monkeypatched, never called for real.
"""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from digitkit.data import load_digits, network, tfds_source
from digitkit.errors import UnavailableError, UsageError


@pytest.fixture
def offline(monkeypatch):
    calls = []

    def unreachable(host, port, timeout=network.CONNECT_TIMEOUT_S):
        calls.append((host, port))
        return f"cannot reach {host}:{port} (simulated)"

    monkeypatch.setattr(tfds_source, "unreachable_reason", unreachable)
    return calls


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setattr(tfds_source, "unreachable_reason", lambda host, port, timeout=3.0: None)


@pytest.fixture
def mock_tfds(online):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        yield


@pytest.mark.parametrize("name", ["mnist", "mnist_corrupted/shot_noise", "emnist/digits", "svhn_cropped"])
def test_tfds_datasets_come_back_mnist_style(mock_tfds, home, name):
    digits = load_digits(name, "train")
    assert digits.images.shape == (6, 28, 28) and digits.images.dtype == np.uint8
    assert digits.labels.dtype == np.int64 and digits.labels.max() <= 9
    assert digits.dataset == name and "tensorflow-datasets" in digits.source
    assert str(home / "data") in digits.source  # prepared inside DIGITKIT_HOME by default
    assert digits.notes == ()


def test_data_dir_argument_is_where_tfds_keeps_data(mock_tfds, tmp_path):
    assert str(tmp_path / "elsewhere") in load_digits("mnist", "test", data_dir=tmp_path / "elsewhere").source


def test_emnist_is_transposed_and_svhn_made_grey_28x28_white_on_black():
    image = np.zeros((1, 28, 28, 1), np.uint8)
    image[0, 3, 10] = 255
    assert tfds_source.to_mnist_style(image, "emnist/digits")[0, 10, 3] == 255
    assert tfds_source.to_mnist_style(image, "mnist")[0, 3, 10] == 255

    svhn = np.full((1, 32, 32, 3), 220, np.uint8)  # light background, dark digit
    svhn[0, 8:24, 14:18] = 30
    grey = tfds_source.to_mnist_style(svhn, "svhn_cropped")
    assert grey.shape == (1, 28, 28) and grey.dtype == np.uint8
    assert grey[0, 14, 14] > 200 and grey[0, 1, 1] < 30  # ink is white now


def test_unknown_names_are_usage_errors(cli):
    with pytest.raises(UsageError, match="unknown dataset 'fashion'"):
        load_digits("fashion")
    with pytest.raises(UsageError, match="mnist_corrupted has no variant 'nope'") as caught:
        load_digits("mnist_corrupted/nope")  # refused before tfds loads, with the real variants
    assert "shot_noise" in caught.value.hint
    with pytest.raises(UsageError, match="unknown split"):
        load_digits("sample", "validation")


def test_default_dataset_falls_back_to_sample_quickly_when_offline(offline, home):
    start = time.monotonic()
    digits = load_digits(None, "train")
    assert time.monotonic() - start < 10
    assert offline == [("storage.googleapis.com", 443)]
    assert len(digits) == 6_000 and digits.dataset == "mnist" and "sample" in digits.source
    (note,) = digits.notes
    # One line that fits 80 columns with its "note: " (docs/data.md says how to get the full set).
    assert note == "offline: using the bundled sample (6,000 train digits), not full MNIST"
    assert len("note: " + note) <= 80


def test_explicitly_named_dataset_fails_clearly_when_offline(offline, cli):
    with pytest.raises(UnavailableError, match="mnist is not prepared .* cannot be downloaded"):
        load_digits("mnist", "train")
    result = cli("preview", "--dataset", "emnist/digits")
    assert result.exit_code == 6
    assert result.stderr.count("\n") == 1 and "biometrics.nist.gov" in result.stderr
    assert result.stdout == ""


def test_cli_prints_fallback_note_on_stderr(offline, cli):
    result = cli("preview", "--count", "2")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == ["note: offline: using the bundled sample (1,000 test digits), not full MNIST"] or \
        notes == ["note: offline: using the bundled sample (6,000 train digits), not full MNIST"], result.stderr
    assert "5 #0" in result.stdout and "note" not in result.stdout


def test_failed_download_is_unavailable_for_named_and_fallback_for_default(online, monkeypatch):
    import tensorflow_datasets as tfds

    def broken(self, *args, **kwargs):
        raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", broken)
    with pytest.raises(UnavailableError, match="downloading mnist failed: connection reset"):
        load_digits("mnist")
    assert "connection reset" in load_digits(None).notes[0]


def test_damaged_tfds_dataset_names_the_rebuild_command(online, home):
    folder = home / "data" / "mnist" / "3.0.1"
    folder.mkdir(parents=True)
    (folder / "dataset_info.json").write_text("{ broken")
    (folder / "features.json").write_text("{ broken")
    with pytest.raises(tfds_source.DamagedDatasetError) as caught:
        load_digits("mnist")
    assert "digitkit datasets --rebuild mnist" in str(caught.value)
    # The default dataset still works (bundled sample) and says how to repair the copy.
    note = load_digits(None).notes[0]
    assert "damaged" in note and "--rebuild mnist" in note


def test_rebuild_offline_deletes_nothing(offline, home, cli):
    folder = home / "data" / "mnist" / "3.0.1"
    folder.mkdir(parents=True)
    (folder / "marker").write_text("keep")
    result = cli("datasets", "--rebuild", "mnist")
    assert result.exit_code == 6 and "nothing was deleted" in result.stderr
    assert (folder / "marker").exists()


def test_remove_prepared_clears_incomplete_leftovers_and_cache(tmp_path):
    for path in ["mnist/3.0.1", "mnist/incomplete.ABC_3.0.1", "digitkit-cache/mnist/3.0.1"]:
        (tmp_path / path).mkdir(parents=True)
    tfds_source.remove_prepared(tmp_path, "mnist")
    assert not (tmp_path / "mnist").exists() and not (tmp_path / "digitkit-cache" / "mnist").exists()


def test_datasets_lists_sources_with_status(offline, cli):
    result = cli("datasets", "--json")
    assert result.exit_code == 0
    import json

    entries = {e["name"]: e for e in json.loads(result.stdout)}
    assert entries["sample"]["status"] == "ready" and entries["sample"]["splits"] == {"train": 6000, "test": 1000}
    assert entries["mnist"]["status"] == "not prepared" and entries["mnist"]["default"] is True
    assert {"emnist/digits", "svhn_cropped", "mnist_corrupted/shot_noise"} <= set(entries)
    table = cli("datasets")
    assert "sample" in table.stdout and "not prepared" in table.stdout


# --- the reachability check itself (sockets monkeypatched, no real network) -------------------

def test_offline_env_answers_without_network(monkeypatch):
    monkeypatch.setenv("DIGITKIT_OFFLINE", "1")
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("network touched"))
    assert "DIGITKIT_OFFLINE" in network.unreachable_reason("example.org", 443)


def test_refused_connection_is_reported(monkeypatch):
    monkeypatch.delenv("DIGITKIT_OFFLINE", raising=False)

    def refuse(address, timeout):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert network.unreachable_reason("example.org", 443) == "cannot reach example.org:443 (Connection refused)"


def test_hanging_resolver_is_abandoned_after_the_timeout(monkeypatch):
    monkeypatch.delenv("DIGITKIT_OFFLINE", raising=False)
    def hang(address, timeout):
        time.sleep(2)
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.monotonic()
    reason = network.unreachable_reason("example.org", 443, timeout=0.1)
    assert time.monotonic() - start < 1.5
    assert "no answer within 0.1 s" in reason


def test_proxy_is_checked_instead_of_the_host(monkeypatch):
    monkeypatch.delenv("DIGITKIT_OFFLINE", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.local:3128")
    seen = []

    class Connection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(socket, "create_connection", lambda address, timeout: seen.append(address) or Connection())
    assert network.unreachable_reason("storage.googleapis.com", 443) is None
    assert seen == [("proxy.local", 3128)]


def test_datasets_shows_damaged_copies_with_the_fix(offline, home, cli):
    folder = home / "data" / "mnist" / "3.0.1"
    folder.mkdir(parents=True)
    (folder / "dataset_info.json").write_text("{ broken")
    (folder / "features.json").write_text("{ broken")
    result = cli("datasets")
    assert result.exit_code == 0
    assert "damaged" in result.stdout
    assert "digitkit datasets --rebuild mnist" in result.stderr


def test_prepare_offline_suggests_what_datasets_can_do(offline, cli):
    result = cli("datasets", "--prepare", "mnist")
    assert result.exit_code == 6
    line = result.stderr.strip()
    assert line.startswith("error: mnist cannot be downloaded now:") and "\n" not in line
    assert "`-d sample`" in line and "--dataset PATH" not in line  # datasets has no --dataset option
