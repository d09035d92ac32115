"""Progress that moves: at least 10 updates per epoch, ETAs, JSON Lines events with --json."""

from __future__ import annotations

import json

from digitkit.training.progress import EpochClock, FitPlan
from digitkit.training.speed import steps_per_execution


def plan(**changes) -> FitPlan:
    fields = dict(model="m", run_id="r", run_path="/r", epochs=3, initial_epoch=0, steps_per_epoch=100,
                  batch_size=10, train_size=1000, validation_size=0, test_size=10)
    return FitPlan(**{**fields, **changes})


def test_steps_per_execution_leaves_at_least_ten_updates_per_epoch():
    assert steps_per_execution(False, 171) == 17  # the cnn on 24k digits: 171 batches
    assert steps_per_execution(True, 5000) == 256 and steps_per_execution(False, 5000) == 64
    assert steps_per_execution(True, 5) == 1


def test_clock_gives_epoch_and_run_etas_from_measured_times():
    now = [0.0]
    clock = EpochClock(plan(), now=lambda: now[0])
    clock.epoch_started()
    now[0] = 2.0
    first = clock.update(1, 20, {"loss": 1.0})
    assert first.samples_per_s == 100 and first.eta_epoch_s == 8.0
    assert first.eta_run_s == 8.0 + 2 * 10.0  # later epochs projected from this one
    clock.epoch_ended(12.0)
    clock.epoch_ended(6.0)  # the second epoch: measured epochs after the first (tracing) rule
    clock.epoch_started()
    now[0] = 3.0
    third = clock.update(3, 50, {})
    assert third.eta_epoch_s == 1.0 and third.eta_run_s == 1.0
    assert clock.eta_after_epoch(1) == 2 * 6.0


def test_json_lines_events_per_update_and_per_epoch(cli):
    result = cli("fit", "25-15-10", "--epochs", "2", "--train-size", "400", "--batch-size", "8",
                 "--validation-split", "0.1", "--dataset", "sample", "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stderr.splitlines()]  # every stderr line is an event
    kinds = [e["event"] for e in events]
    assert kinds[0] == "phase" and "start" in kinds and kinds[-1] == "end" and "evaluating" in kinds
    for epoch in (1, 2):
        batches = [e for e in events if e["event"] == "batch" and e["epoch"] == epoch]
        assert len(batches) >= 10
        assert batches[-1]["batch"] == batches[-1]["batches"] == 45
        assert {"samples_per_s", "eta_epoch_s", "eta_run_s", "loss", "accuracy"} <= set(batches[-1])
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2] and "val_loss" in epochs[0] and epochs[-1]["eta_run_s"] == 0
    assert json.loads(result.stdout)["status"] == "completed"  # stdout keeps the one result object
