"""Tables for `digitkit runs` and `digitkit runs show` (no TensorFlow)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

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
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def runs_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="training runs", title_justify="left", box=None, pad_edge=False, padding=(0, 1),
                  header_style="bold underline")
    # The id is what users copy into other commands: it never gets cut.
    widest_id = max((len(str(r["id"])) for r in rows), default=2)
    table.add_column("id", style="cyan", no_wrap=True, min_width=widest_id)
    table.add_column("model", style="bold", no_wrap=True)
    table.add_column("dataset", no_wrap=True, max_width=16)
    table.add_column("epochs", justify="right", no_wrap=True)
    table.add_column("test acc", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for row in rows:
        accuracy = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else "-"
        status = row["status"] or "?"
        style = STATUS_STYLE.get(status, "white")
        table.add_row(escape(str(row["id"])), escape(str(row["model"])), escape(str(row["dataset"] or "-")),
                      f"{row['epochs_completed']}/{row['epochs'] or '?'}", accuracy, _duration(row["duration_s"]),
                      f"[{style}]{escape(status)}[/]")
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
        ("started", manifest.get("started")), ("duration", _duration(row["duration_s"])),
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
    for key in ("error", "resume_command"):
        if manifest.get(key):
            lines.append((key.replace("_", " "), manifest[key]))
    for note in manifest.get("notes") or []:
        lines.append(("note", note))
    lines.append(("files", ", ".join(files)))
    for key, value in lines:
        table.add_row(key, escape(str(value)))
    return table


def _history_summary(history: dict[str, Any]) -> str:
    parts = []
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = history.get(key)
        if values:
            parts.append(f"{key} {values[0]:.4f} → {values[-1]:.4f}")
    return "; ".join(parts) + f" over {len(history['epoch'])} epochs"
