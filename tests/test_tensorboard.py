"""TensorBoard event files written by every fit, read back the way TensorBoard reads them."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import keras
import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

from digitkit.errors import Interrupted  # noqa: E402
from digitkit.training import fit  # noqa: E402

# Every test here reads the event files of a module fixture's training (about 5 s).
pytestmark = pytest.mark.slow

SETTINGS = {"epochs": 3, "seed": 5, "train_size": 320, "test_size": 100, "batch_size": 32}


def accumulator(folder: Path) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def steps(acc: EventAccumulator, tag: str) -> list[int]:
    return [e.step for e in acc.Scalars(tag)]


class SigintInEpoch(keras.callbacks.Callback):
    """A Ctrl-C in the middle of 0-based ``epoch``: that epoch's first batches are logged, then lost."""

    def __init__(self, epoch: int, batch: int = 2) -> None:
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture(scope="module")
def board_run(tmp_path_factory):
    """A run interrupted in its second epoch, then resumed to three: the module's one training."""
    root = tmp_path_factory.mktemp("tb")
    with pytest.MonkeyPatch.context() as patch:  # module scope: the autouse isolation is not there yet
        patch.setenv("DIGITKIT_HOME", str(root / "home"))
        patch.setenv("DIGITKIT_OFFLINE", "1")
        patch.setenv("DIGITKIT_PLUGINS", "none")
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        with pytest.raises(Interrupted):
            fit("25-15-10", callbacks=[SigintInEpoch(1)], out=root / "runs", **SETTINGS)
        (folder,) = (root / "runs").iterdir()
        partial = steps(accumulator(folder / "tensorboard" / "batch"), "batch_loss")
        result = fit(resume=str(folder))
    return result, partial


def test_epoch_scalars_train_and_validation_once_per_epoch_after_resume(board_run):
    result, _ = board_run
    board = result.run_path / "tensorboard"
    train, validation = accumulator(board / "train"), accumulator(board / "validation")
    assert steps(train, "epoch_loss") == [1, 2, 3]
    assert [round(e.value, 5) for e in train.Scalars("epoch_loss")] == \
        [round(v, 5) for v in result.history["loss"]]
    assert steps(train, "epoch_accuracy") == [1, 2, 3]
    assert steps(train, "epoch_learning_rate") == [1, 2, 3]
    assert all(e.value > 0 for e in train.Scalars("epoch_samples_per_s"))
    assert [round(e.value, 5) for e in validation.Scalars("epoch_loss")] == \
        [round(v, 5) for v in result.history["val_loss"]]


def test_batch_scalars_have_no_duplicate_steps_after_resume(board_run):
    result, partial = board_run
    per_epoch = 10  # 320 digits, 10% validation -> 288 / 32 = 9 batches, +1 rounding guard
    assert partial and max(partial) > min(partial)  # the interrupted epoch had logged some batches
    batch = accumulator(result.run_path / "tensorboard" / "batch")
    logged = steps(batch, "batch_loss")
    assert len(logged) == len(set(logged)), Counter(logged).most_common(2)
    assert logged == sorted(logged) and max(logged) <= 3 * per_epoch
    assert steps(batch, "batch_samples_per_s") == logged


def test_hparams_graph_and_test_images(board_run):
    result, _ = board_run
    root = accumulator(result.run_path / "tensorboard")
    assert set(root.Tags()["images"]) == {"test/confusion_matrix", "test/worst_mistakes"}
    (image,) = root.Images("test/confusion_matrix")
    assert image.step == 3 and image.encoded_image_string.startswith(b"\x89PNG")
    assert root.Images("test/worst_mistakes")[0].encoded_image_string.startswith(b"\x89PNG")
    assert root.Scalars("test/accuracy")[0].value == pytest.approx(result.test_metrics["accuracy"])
    content = root.PluginTagToContent("hparams")
    infos = [plugin_data_pb2.HParamsPluginData.FromString(c) for c in content.values()]
    start = [i.session_start_info for i in infos if i.HasField("session_start_info")]
    assert len(start) == 1  # resume did not start a second session
    hparams = start[0].hparams
    assert hparams["model"].string_value == "25-15-10" and hparams["seed"].number_value == 5
    assert hparams["batch_size"].number_value == 32
    assert accumulator(result.run_path / "tensorboard" / "train").Graph() is not None


def test_no_tensorboard_writes_nothing(home):
    result = fit("25-15-10", epochs=1, train_size=100, test_size=50, seed=1, no_tensorboard=True)
    assert not (result.run_path / "tensorboard").exists()


def test_a_failing_side_log_is_dropped_with_a_note_and_the_display_goes_on():
    from digitkit.training.listeners import Fanout
    from digitkit.training.progress import FitProgress

    class Display(FitProgress):
        def __init__(self):
            self.seen = []

        def note(self, text):
            self.seen.append(("note", text))

        def epoch_end(self, epoch, logs, seconds):
            self.seen.append(("epoch", epoch))

    class Broken(FitProgress):
        label = "TensorBoard log"

        def epoch_end(self, epoch, logs, seconds):
            raise OSError(28, "No space left on device")

    display, broken = Display(), Broken()
    fan = Fanout(display, [broken])
    fan.epoch_end(1, {}, 1.0)
    fan.epoch_end(2, {}, 1.0)
    assert display.seen == [("epoch", 1),
                            ("note", "TensorBoard log stopped: OSError: [Errno 28] No space left on device"),
                            ("epoch", 2)]
    assert fan.sinks == []
