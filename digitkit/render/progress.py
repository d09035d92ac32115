"""What a user sees while ``digitkit fit`` runs, and the summary after it.

On a terminal: a live display on stderr (overall bar with ETA, the current epoch's batch
bar with running loss/accuracy and samples/s) and one line per finished epoch above it.
Elsewhere (CI logs, pipes): one plain line per epoch, nothing that redraws.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from digitkit.render.console import err, out
from digitkit.render.paths import fold_path
from digitkit.training.progress import FitPlan, FitProgress


def _metric_groups(logs: dict[str, float]) -> list[str]:
    return [f"{label} {logs[key]:.4f}" for key, label in
            (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val loss"), ("val_accuracy", "val acc"))
            if key in logs]


def _metrics(logs: dict[str, float]) -> str:
    return "  ".join(_metric_groups(logs))


def epoch_groups(epoch: int, epochs: int, logs: dict[str, float], seconds: float, samples: int) -> list[str]:
    """The pieces of an epoch line; a line break may fall between pieces, never inside one."""
    rate = samples / seconds if seconds > 0 else 0.0
    return [f"epoch {epoch}/{epochs}", *_metric_groups(logs), f"{seconds:.2f} s", f"{rate:,.0f} samples/s"]


def epoch_line(epoch: int, epochs: int, logs: dict[str, float], seconds: float, samples: int) -> str:
    """'epoch 3/10  loss 0.2100  acc 0.9400  val loss ...  1.2 s  18,000 samples/s' (no markup)."""
    return "  ".join(epoch_groups(epoch, epochs, logs, seconds, samples))


def fold_groups(groups: list[str], width: int, indent: str = "  ") -> str:
    """Join ``groups`` with two spaces, breaking lines between groups to stay within ``width``.

    A terminal that wraps a long line itself cuts wherever the edge falls, e.g. inside
    ``1,111 samples/s``; folding here keeps every number whole.
    """
    lines: list[str] = []
    line = ""
    for group in groups:
        candidate = f"{line}  {group}" if line else group
        if line and len(candidate) > width:
            lines.append(line)
            candidate = indent + group
        line = candidate
    lines.append(line)
    return "\n".join(lines)


def plan_line(plan: FitPlan) -> str:
    val = f", {plan.validation_size:,} for validation" if plan.validation_size else ""
    where = plan.placement.get("strategy", "default")
    device = "GPU" if plan.placement.get("gpu") else "CPU"
    replicas = f" on {plan.placement.get('replicas')} devices" if where != "default" else ""
    resumed = f", resuming after epoch {plan.initial_epoch}" if plan.initial_epoch else ""
    return (f"training [bold]{escape(plan.model)}[/] on {plan.train_size:,} digits{val}: {plan.epochs} epochs, "
            f"batch {plan.batch_size}, {device}{replicas}{resumed}\nrun [cyan]{escape(plan.run_id)}[/]")


class LineProgress(FitProgress):
    """One plain line per epoch, for logs and pipes."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or err()

    def start(self, plan: FitPlan) -> None:
        self.plan = plan
        self.console.print(plan_line(plan), highlight=False)
        for note in plan.notes:
            self.console.print(f"note: {escape(note)}", highlight=False)

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        groups = epoch_groups(epoch, self.plan.epochs, logs, seconds, self.plan.train_size)
        self.console.print(escape(fold_groups(groups, self.console.width)), highlight=False, soft_wrap=True)

    def evaluating(self) -> None:
        self.console.print(f"evaluating on {self.plan.test_size:,} test digits", highlight=False)


class LiveProgress(LineProgress):
    """Live bars on a terminal; finished epochs scroll above them."""

    def start(self, plan: FitPlan) -> None:
        super().start(plan)
        self.bars = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"), TextColumn("[dim]{task.fields[speed]}"),
            TextColumn("ETA"), TimeRemainingColumn(), console=self.console, transient=True,
        )
        remaining = (plan.epochs - plan.initial_epoch) * plan.steps_per_epoch
        self.total = self.bars.add_task("all epochs", total=max(remaining, 1), metrics="", speed="")
        self.epoch_task: Any = None
        self.done_before = 0
        self._drawn = 0.0
        self.bars.start()

    def epoch_start(self, epoch: int) -> None:
        if self.epoch_task is not None:
            self.bars.remove_task(self.epoch_task)
        self.epoch_task = self.bars.add_task(f"epoch {epoch}/{self.plan.epochs}", total=self.plan.steps_per_epoch,
                                             metrics="", speed="")

    def batch(self, epoch: int, done: int, steps: int, logs: dict[str, float], samples_per_s: float) -> None:
        self.bars.update(self.epoch_task, completed=done, metrics=escape(_metrics(logs)),
                         speed=f"{samples_per_s:,.0f} samples/s")
        self.bars.update(self.total, completed=self.done_before + done)
        # Batches come in chunks (steps_per_execution); draw each chunk even when epochs are
        # shorter than the auto-refresh period, but not more than 20 times a second.
        now = time.monotonic()
        if now - self._drawn > 0.05 or done == steps:
            self.bars.refresh()
            self._drawn = now

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        self.done_before += self.plan.steps_per_epoch
        self.bars.update(self.total, completed=self.done_before)
        super().epoch_end(epoch, logs, seconds)

    def evaluating(self) -> None:
        self.bars.stop()
        super().evaluating()

    def end(self, result: Any) -> None:
        self.bars.stop()


def make_progress(console: Console | None = None, *, quiet: bool = False) -> FitProgress:
    """Live bars on a terminal, plain lines elsewhere, nothing when quiet."""
    if quiet:
        return FitProgress()
    console = console or err()
    # is_interactive: a terminal that can redraw (TERM=dumb cannot).
    return LiveProgress(console) if console.is_interactive else LineProgress(console)


def summary_table(result: Any, width: int | None = None) -> Table:
    """The end-of-fit table: what was trained, how it did, where it is."""
    history = result.history
    table = Table(title=f"fit {escape(result.model)}: {result.status}", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("run", escape(result.run_id))
    table.add_row("epochs", f"{result.epochs_completed} of {result.epochs}"
                  + (f" (best {result.best_epoch})" if result.best_epoch else ""))
    final = {k: history[k][-1] for k in ("loss", "accuracy", "val_loss", "val_accuracy") if history.get(k)}
    table.add_row("train", f"loss {final.get('loss', float('nan')):.4f}  accuracy {final.get('accuracy', 0):.4f}")
    if "val_loss" in final:
        table.add_row("validation", f"loss {final['val_loss']:.4f}  accuracy {final['val_accuracy']:.4f}")
    test = result.test_metrics
    table.add_row("test", f"loss {test['loss']:.4f}  [bold green]accuracy {test['accuracy']:.4f}[/]")
    seconds = history.get("epoch_seconds") or []
    per_epoch = statistics.median(seconds) if seconds else 0.0
    table.add_row("time", f"{result.duration_s:.1f} s ({per_epoch:.2f} s per epoch, median)")
    # The value column is what is left of the terminal after the labels and borders.
    table.add_row("files", escape(fold_path(str(result.run_path), (width or out().width) - 17)))
    # Notes (e.g. the offline fallback) were shown when training started: once per command.
    return table
