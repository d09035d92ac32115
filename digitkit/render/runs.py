"""Tables for `digitkit runs` and `digitkit runs show` (no TensorFlow)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from digitkit.render.times import fmt_time

STATUS_STYLE = {"completed": "green", "running": "cyan", "interrupted": "yellow", "failed": "red"}


def run_row(manifest: dict[str, Any]) -> dict[str, Any]:
    """The listing fields of one run, JSON-ready."""
    test = manifest.get("test_metrics") or {}
    dataset = manifest.get("dataset") or {}
    recipe = manifest.get("recipe") or {}
    return {
        "id": manifest.get("id"), "model": manifest.get("model"), "dataset": dataset.get("name"),
        "epochs_completed": manifest.get("epochs_completed", 0),
        "epochs": manifest.get("epochs_planned", recipe.get("epochs")),
        "test_accuracy": test.get("accuracy"), "duration_s": manifest.get("duration_s"),
        "status": manifest.get("status"), "started": manifest.get("started"),
        # "bench" for a run made to compare models: never what a bare model name means.
        "purpose": manifest.get("purpose"),
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def short_ids(ids: list[str]) -> dict[str, str]:
    """The part of each run id a user types: its random suffix, or the whole id if that clashes.

    ``20261128-091820-dense-sigmoid-31d5`` -> ``31d5``; the other commands accept it.
    """
    suffixes = {run_id: run_id.rsplit("-", 1)[-1] for run_id in ids}
    counts: dict[str, int] = {}
    for suffix in suffixes.values():
        counts[suffix] = counts.get(suffix, 0) + 1
    return {run_id: suffix if counts[suffix] == 1 and suffix != run_id else run_id
            for run_id, suffix in suffixes.items()}


def _started(value: Any) -> str:
    # "2026-11-28T09:18:20+00:00" -> "11-28 09:18" in UTC (the column says so): the year and
    # seconds rarely matter in a listing.
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "-")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return f"{moment:%m-%d %H:%M}"


def runs_table(rows: list[dict[str, Any]], width: int = 80) -> Table:
    """80 columns first: short ids, whole model names, never-cut numbers and status.

    Columns are one space apart; a dataset name folds after a ``/`` (``emnist/`` over
    ``digits``) only when the row would not fit ``width`` otherwise. Model names are never
    cut (``dense-relu-dropou`` / ``t`` used to).
    """
    from digitkit.render.paths import fold_path

    table = Table(title="training runs (RUN: the id's last part, for `digitkit runs show RUN`)",
                  title_justify="left", box=None, pad_edge=False, padding=(0, 1, 0, 0),
                  header_style="bold underline")
    short = short_ids([str(r["id"]) for r in rows])
    cells = []
    for row in rows:
        accuracy = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else "-"
        model = str(row["model"]) + (f" ({row['name']})" if row.get("name") else "")  # fit --name label
        model += f" [{row['purpose']}]" if row.get("purpose") else ""  # a bench run: not the model's default
        cells.append([short[str(row["id"])], model, str(row["dataset"] or "-"),
                      f"{row['epochs_completed']}/{row['epochs'] or '?'}", accuracy, _duration(row["duration_s"]),
                      _started(row.get("started")), row["status"] or "?"])
    headers = ["run", "model", "data", "epochs", "acc", "time", "started UTC", "status"]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(headers)]
    if sum(widths) + len(widths) - 1 > width:
        parts = [len(p) for c in cells for p in c[2].replace("/", "/\n").split("\n")]
        widths[2] = max([len(headers[2])] + parts)
        for c in cells:
            c[2] = fold_path(c[2], widths[2])
    shown = list(range(len(headers)))
    for optional in (6, 5):  # still too wide: `runs show` and --json have the start and the time
        if sum(widths[i] for i in shown) + len(shown) - 1 > width:
            shown.remove(optional)
    justify = ["left", "left", "left", "right", "right", "right", "left", "left"]
    for i in shown:
        table.add_column(headers[i], justify=justify[i], no_wrap=True, style={0: "cyan", 1: "bold"}.get(i))
    for c in cells:
        style = STATUS_STYLE.get(c[7], "white")
        table.add_row(*(escape(c[i]) for i in shown[:-1]), f"[{style}]{escape(c[7])}[/]")
    return table


def run_detail(manifest: dict[str, Any], history: dict[str, Any] | None, files: list[str]) -> Table:
    """`runs show`: the manifest's main fields and a short history."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    row = run_row(manifest)
    recipe = manifest.get("recipe") or {}
    dataset = manifest.get("dataset") or {}
    versions = manifest.get("versions") or {}
    lines = [
        ("id", row["id"]), ("model", row["model"]), ("status", row["status"]),
        ("started", fmt_time(manifest.get("started"))), ("duration", _duration(row["duration_s"])),
        ("epochs", f"{row['epochs_completed']} of {row['epochs']}"),
        ("recipe", ", ".join(f"{k} {v}" for k, v in recipe.items())),
        ("overrides", ", ".join(f"{k} {v}" for k, v in (manifest.get("overrides") or {}).items()) or "none"),
        ("seed", manifest.get("seed")),
        ("dataset", f"{dataset.get('name')} ({dataset.get('source')}), {dataset.get('train_size')} train / "
                    f"{dataset.get('validation_size')} validation / {dataset.get('test_size')} test, "
                    f"fingerprint {dataset.get('fingerprint')}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v)),
    ]
    test = manifest.get("test_metrics")
    if test:
        lines.append(("test", f"loss {test['loss']:.4f}, accuracy {test['accuracy']:.4f}"))
    if history and history.get("epoch"):
        lines.append(("history", _history_summary(history)))
    lines += finetune_lines(manifest)
    for key in ("error", "resume_command"):
        if manifest.get(key):
            lines.append((key.replace("_", " "), manifest[key]))
    for note in manifest.get("notes") or []:
        lines.append(("note", note))
    lines.append(("files", ", ".join(files)))
    for key, value in lines:
        table.add_row(key, escape(str(value)))
    return table


def finetune_lines(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """A fine-tuned run's parent and its accuracy before and after (``fit --init-from``)."""
    parent = manifest.get("parent")
    if not isinstance(parent, dict):
        return []
    lines = [("parent", str(parent.get("label") or parent.get("ref")))]
    compare = manifest.get("finetune") if isinstance(manifest.get("finetune"), dict) else {}
    for key, label in (("held_out", "your held-out"), ("mnist_test", "MNIST test")):
        scores = compare.get(key)
        if isinstance(scores, dict) and _numbers(scores.get("before"), scores.get("after")):
            lines.append((label, f"{scores['before']:.2%} before, {scores['after']:.2%} after "
                                 f"({scores.get('size')} digits)"))
    return lines


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _history_summary(history: dict[str, Any]) -> str:
    parts = []
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = history.get(key)
        if values:
            parts.append(f"{key} {values[0]:.4f} → {values[-1]:.4f}")
    return "; ".join(parts) + f" over {len(history['epoch'])} epochs"
