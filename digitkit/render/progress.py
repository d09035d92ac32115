"""What a user sees while ``digitkit fit`` runs, and the summary after it.

On a terminal: a spinner from the first second ("loading TensorFlow ..."), then a live
display on stderr (the whole run's bar with its ETA, the current epoch's batch bar with
running loss/accuracy, samples/s and the epoch's ETA) and one line per finished epoch above
it. Elsewhere (CI logs, pipes): one plain line per epoch, nothing that redraws. With
``--json``: one JSON object per line on stderr for every update and epoch.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from digitkit.render.console import err, out
from digitkit.render.paths import fold_path
from digitkit.training.progress import BatchUpdate, FitPlan, FitProgress


def _clock(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _metric_groups(logs: dict[str, float]) -> list[str]:
    return [f"{label} {logs[key]:.4f}" for key, label in
            (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val loss"), ("val_accuracy", "val acc"))
            if key in logs]


def _metrics(logs: dict[str, float]) -> str:
    return "  ".join(_metric_groups(logs))


def compact_rate(per_second: float) -> str:
    """``18k/s``, ``1.1M/s``, ``124/s``: a rate in at most 6 characters."""
    if per_second >= 999_500:
        return f"{per_second / 1e6:.1f}M/s"
    if per_second >= 9_995:
        return f"{per_second / 1e3:.0f}k/s"
    if per_second >= 1_000:
        return f"{per_second / 1e3:.1f}k/s"
    return f"{per_second:.0f}/s"


def epoch_groups(epoch: int, epochs: int, logs: dict[str, float], seconds: float, samples: int) -> list[str]:
    """The pieces of an epoch line; a line break may fall between pieces, never inside one.

    Training, validation and timing each make one piece, so that the whole line fits 80
    columns (77 for 'epoch 12/15' and a 5-character rate; it used to fold onto two lines).
    """
    rate = samples / seconds if seconds > 0 else 0.0
    train = [g for g in _metric_groups({k: v for k, v in logs.items() if not k.startswith("val_")})]
    val = [g for g in _metric_groups({k[4:]: v for k, v in logs.items() if k.startswith("val_")})]
    groups = [f"epoch {epoch}/{epochs}", " ".join(train)]
    if val:
        groups.append("val " + " ".join(val))
    return [g for g in groups if g] + [f"{seconds:.2f} s {compact_rate(rate)}"]


def epoch_line(epoch: int, epochs: int, logs: dict[str, float], seconds: float, samples: int) -> str:
    """'epoch 3/10  loss 0.2100 acc 0.9400  val loss 0.1000 acc 0.9800  1.20 s 18k/s' (no markup)."""
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

    def note(self, text: str) -> None:
        self.console.print(f"note: {escape(text)}", highlight=False, soft_wrap=True)

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
    """A spinner until training starts, then live bars; finished epochs scroll above them."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__(console)
        self.spinner = self.console.status("loading TensorFlow ...", spinner="dots")
        self.spinner.start()  # from the first second: the TensorFlow import takes 5-20 s
        self.bars: Progress | None = None

    def phase(self, text: str) -> None:
        self.spinner.update(f"{escape(text)} ...")

    def start(self, plan: FitPlan) -> None:
        self.spinner.stop()
        super().start(plan)
        self.bars = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"), TextColumn("[dim]{task.fields[speed]}"),
            TextColumn("ETA {task.fields[eta]}"), console=self.console, transient=True,
        )
        remaining = (plan.epochs - plan.initial_epoch) * plan.steps_per_epoch
        self.total = self.bars.add_task("all epochs", total=max(remaining, 1), metrics="", speed="", eta="-:--")
        self.epoch_task: Any = None
        self.done_before = 0
        self._drawn = 0.0
        self.bars.start()

    def epoch_start(self, epoch: int) -> None:
        if self.epoch_task is not None:
            self.bars.remove_task(self.epoch_task)
        self.epoch_task = self.bars.add_task(f"epoch {epoch}/{self.plan.epochs}", total=self.plan.steps_per_epoch,
                                             metrics="", speed="", eta="-:--")

    def update(self, update: BatchUpdate) -> None:
        self.bars.update(self.epoch_task, completed=update.batch, metrics=escape(_metrics(update.logs)),
                         speed=f"{update.samples_per_s:,.0f} samples/s", eta=_clock(update.eta_epoch_s))
        self.bars.update(self.total, completed=self.done_before + update.batch, eta=_clock(update.eta_run_s))
        # Draw each chunk even when epochs are shorter than the auto-refresh period, but
        # not more than 20 times a second.
        now = time.monotonic()
        if now - self._drawn > 0.05 or update.batch == update.batches:
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
        self.close()

    def close(self) -> None:
        """Stop the spinner and the bars (idempotent)."""
        self.spinner.stop()
        if self.bars is not None:
            self.bars.stop()


class JsonLinesProgress(FitProgress):
    """One JSON object per line for every event, so other tools can follow a run.

    Events: ``phase``, ``note``, ``start`` (the plan), ``batch`` (at least 10 per epoch:
    epoch, batch, batches, samples_per_s, eta_epoch_s, eta_run_s, loss, accuracy),
    ``epoch`` (its logs, seconds, eta_run_s), ``evaluating`` and ``end``.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.plan: FitPlan | None = None
        self.epoch_seconds: list[float] = []

    def _emit(self, event: str, **fields: Any) -> None:
        stream = self.stream or sys.stderr
        stream.write(json.dumps({"event": event, "time": round(time.time(), 3), **fields}, default=str) + "\n")
        stream.flush()

    def phase(self, text: str) -> None:
        self._emit("phase", text=text)

    def note(self, text: str) -> None:
        self._emit("note", text=text)

    def start(self, plan: FitPlan) -> None:
        self.plan = plan
        self._emit("start", **plan.to_dict())

    def update(self, update: BatchUpdate) -> None:
        self._emit("batch", **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in update.to_dict().items()})

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        self.epoch_seconds.append(seconds)
        later = (self.plan.epochs - epoch) if self.plan else 0
        typical = statistics.median(self.epoch_seconds[1:] or self.epoch_seconds)
        self._emit("epoch", epoch=epoch, epochs=self.plan.epochs if self.plan else None, seconds=round(seconds, 4),
                   eta_run_s=round(later * typical, 3), **logs)

    def evaluating(self) -> None:
        self._emit("evaluating", test_size=self.plan.test_size if self.plan else None)

    def end(self, result: Any) -> None:
        self._emit("end", status=result.status if result is not None else "stopped",
                   run_id=self.plan.run_id if self.plan else None)


def make_progress(console: Console | None = None, *, quiet: bool = False, json_lines: bool = False) -> FitProgress:
    """JSON Lines events with ``json_lines``; else live bars on a terminal, plain lines
    elsewhere, nothing when quiet."""
    if json_lines:
        return JsonLinesProgress()
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
