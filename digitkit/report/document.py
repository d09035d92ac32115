"""The report as a list of neutral blocks, written out later as HTML or Markdown.

Building the content once keeps the two formats saying the same thing. Text in blocks is
plain (never markup): each writer escapes it for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence, Union

import numpy as np

from digitkit.render.times import fmt_time
from digitkit.report import figures
from digitkit.report.collect import RunData

GALLERY_SIZE = 12


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str
    note: bool = False


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    numeric: list[bool] = field(default_factory=list)  # right-align these columns


@dataclass
class Figure:
    name: str  # file stem in the Markdown image folder
    png: bytes
    alt: str
    caption: str = ""


@dataclass
class Card:
    """The headline numbers of one run, shown first: the answer to "how good is it?"."""

    title: str
    items: list[tuple[str, str]]  # (label, value); the first is the headline (test accuracy)
    subtitle: str = ""


@dataclass
class Columns:
    """Blocks shown side by side where the page is wide enough, one after another otherwise."""

    blocks: list["Block"]


Block = Union[Heading, Paragraph, Table, Figure, Card, Columns]


@dataclass
class Document:
    title: str
    subtitle: str
    blocks: list[Block]


def _fmt_seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _manifest_table(data: RunData) -> Table:
    m = data.manifest
    plugin = m.get("plugin") or {}
    dataset = m.get("dataset") or {}
    recipe = m.get("recipe") or {}
    versions = m.get("versions") or {}
    sizes = ", ".join(f"{k.replace('_size', '')} {v:,}" for k, v in dataset.items()
                      if k.endswith("_size") and isinstance(v, int))
    rows = [
        ("run", data.run.id), ("model", m.get("model", "-")),
        ("plugin", f"{plugin.get('distribution', '-')} {plugin.get('version', '')}".strip()),
        ("status", m.get("status", "-")),
        ("recipe", ", ".join(f"{k} {v}" for k, v in recipe.items()) or "-"),
        ("overrides", ", ".join(f"{k}={v}" for k, v in (m.get("overrides") or {}).items()) or "none"),
        ("seed", str(m.get("seed", "-"))),
        ("data", f"{dataset.get('name', '-')} ({dataset.get('source', '-')}); {sizes}; "
                 f"fingerprint {dataset.get('fingerprint', '-')}"),
        ("library versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "-"),
        ("started", fmt_time(m.get("started"))), ("ended", fmt_time(m.get("ended"))),
        ("duration", _fmt_seconds(m.get("duration_s"))), ("epochs completed", str(m.get("epochs_completed", "-"))),
    ]
    return Table(["field", "value"], [[k, str(v)] for k, v in rows])


def _layers_table(layers: list[dict[str, Any]]) -> Table:
    rows = [[row["name"], row["type"], row["details"], f"{row['params']:,}"] for row in layers]
    rows.append(["total", "", "", f"{sum(r['params'] for r in layers):,}"])
    return Table(["layer", "type", "settings", "parameters"], rows, caption="",
                 numeric=[False, False, False, True])


def _metrics_table(ev: Any) -> Table:
    m, ds, timing = ev.data["metrics"], ev.data["dataset"], ev.data.get("timing", {})
    rows = [
        ("data", f"{ds['name']} {ds['split']} split, {ds['size']:,} digits ({ds['source']})"),
        ("loss", f"{m['loss']:.4f}"), ("accuracy", f"{m['accuracy']:.2%}"),
        (f"top-{ev.data['top_k']} accuracy", f"{m['top_k_accuracy']:.2%}"), ("macro F1", f"{m['macro_f1']:.4f}"),
        ("misclassified", f"{m['errors']:,}"),
        ("prediction time", f"{timing.get('ms_per_digit', float('nan')):.3f} ms per digit "
                            f"(batches of {timing.get('batch_size', '-')})"),
        ("evaluated", fmt_time(ev.data.get("created"))),
    ]
    return Table(["metric", "value"], [[k, v] for k, v in rows], caption="Metrics")


def _per_class_table(ev: Any) -> Table:
    rows = [[str(r["label"]), f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", f"{r['support']:,}"]
            for r in ev.data["per_class"]]
    return Table(["digit", "precision", "recall", "F1", "support"], rows, caption="Per-class scores",
                 numeric=[True] * 5)


def _confused_table(ev: Any) -> Table | Paragraph:
    pairs = ev.data["most_confused"]
    if not pairs:
        return Paragraph("No confusions: every test digit was classified correctly.")
    rows = [[str(p["true"]), str(p["predicted"]), str(p["count"]), f"{p['share']:.1%}"] for p in pairs]
    return Table(["true digit", "predicted as", "times", "share of the true digit"], rows,
                 caption="Most confused pairs", numeric=[True] * 4)


def _curves(data: RunData, prefix: str) -> list[Block]:
    history = data.history
    if not history or not history.get("accuracy") and not history.get("loss"):
        return [Paragraph("No training history was saved for this run.", note=True)]
    blocks: list[Block] = [Figure(f"{prefix}learning-curves", figures.learning_curves([(data.label, history)]),
                                  "Training and validation accuracy and loss per epoch")]
    if not history.get("val_accuracy") and not history.get("val_loss"):
        blocks.insert(0, Paragraph("This run trained without validation data: only training curves are shown.",
                                   note=True))
    return blocks


def _pictures(data: RunData, prefix: str) -> list[Block]:
    ev = data.evaluation
    blocks: list[Block] = []
    wrong = ev.misclassified(GALLERY_SIZE)
    if data.test_images is not None and len(wrong):
        blocks.append(Figure(f"{prefix}misclassified", figures.misclassified_gallery(
            data.test_images, ev.labels, ev.probabilities, wrong),
            f"The {len(wrong)} most confident mistakes with their probability bars",
            "Blue bar: true digit; vermillion bar: predicted digit."))
    if data.train_images is not None:
        blocks.append(Figure(f"{prefix}samples", figures.samples_grid(data.train_images, data.train_labels),
                             "Ten training samples of every digit"))
        counts = np.bincount(data.train_labels, minlength=10).tolist()
        blocks.append(Figure(f"{prefix}class-balance", figures.class_balance(
            counts, f"Class balance of the training split ({sum(counts):,} digits)"),
            "Number of training digits per class"))
    return blocks


def _reliability(data: RunData, prefix: str) -> Block:
    """The reliability diagram of the (calibrated) test answers, with the ECE before and after."""
    from digitkit.evaluation.calibration_error import expected_calibration_error

    ev = data.evaluation
    probabilities, labels = np.asarray(ev.probabilities), np.asarray(ev.labels)
    if not len(labels):
        return Paragraph("No test digits: no reliability diagram.", note=True)
    ece = ev.data.get("ece") or {"after": expected_calibration_error(probabilities, labels)}
    said = f"ECE {ece['before']:.2%} before calibration, {ece['after']:.2%} after" if "before" in ece else \
        f"ECE {ece['after']:.2%}"
    return Figure(f"{prefix}reliability", figures.reliability_diagram(
        probabilities.max(axis=1), probabilities.argmax(axis=1) == labels),
        "Reliability diagram: accuracy against confidence, 15 bins",
        f"{said}. Bars on the dashed diagonal would be perfectly calibrated; below it, over-confident.")


def _share(value: Any) -> str:
    return f"{value:.2%}" if isinstance(value, (int, float)) else "-"


def _numbers_blocks(data: RunData, prefix: str) -> list[Block]:
    """The model as a reader of whole numbers (``evaluate --numbers``): scores and misread numbers."""
    ev = data.numbers
    if ev is None:
        return []
    d, m = ev.data, ev.data["metrics"]
    status = m.get("status", {})
    rows = [
        ("numbers", f"{d['numbers'].get('size', 0):,} pictures in {d['numbers'].get('folder', '-')}"),
        ("whole numbers read right", f"{_share(m['accuracy'])} ({m['errors']:,} wrong)"),
        ("digits read right", f"{_share(m['digit_accuracy'])} of {m['digits_compared']:,} in numbers of the "
                              "right count"),
        ("digit count wrong", f"{m['count_errors']:,} ({m['missing']:,} missing digits, {m['extra']:,} extra)"),
        ("answers not ok", f"{m['not_ok']:,} (unsure {status.get('unsure', 0):,}, not-a-digit "
                           f"{status.get('not-a-digit', 0):,}, unreadable {status.get('failed', 0):,})"),
        ("right among the ok answers", _share(m["ok_accuracy"])),
        ("evaluated", fmt_time(d.get("created"))),
    ]
    tables: list[Block] = [Table(["metric", "value"], [[k, v] for k, v in rows], caption="Reading numbers")]
    if d.get("groups"):
        tables.append(Table(["group", "numbers", "whole", "digits", "count wrong", "not ok"],
                            [[g["group"], f"{g['numbers']:,}", _share(g["accuracy"]), _share(g["digit_accuracy"]),
                              f"{g['count_errors']:,}", f"{g['not_ok']:,}"] for g in d["groups"]],
                            caption="Per group", numeric=[False, True, True, True, True, True]))
    blocks: list[Block] = [Heading("Reading numbers", 3), Columns(tables)]
    drawn = [x for x in d.get("mistakes", []) if isinstance(x.get("picture"), int) and x["picture"] < len(ev.pictures)]
    drawn = drawn[:GALLERY_SIZE]
    if drawn:
        pictures = [ev.pictures[x["picture"]] for x in drawn]
        notes = [f"{x['status']} {x['confidence']:.0%} · {x['input']}" for x in drawn]
        blocks.append(Figure(f"{prefix}misread-numbers", figures.misread_numbers(
            [p.ink for p in pictures], [p.boxes for p in pictures], [p.right for p in pictures],
            [x["true"] for x in drawn], [x["read"] for x in drawn], notes),
            f"The {len(drawn)} most confidently misread numbers, each digit's box drawn",
            "Blue box: digit read right; vermillion: read wrong, or the number's digit count is wrong."))
    if d.get("mistakes"):
        listed = d["mistakes"][:GALLERY_SIZE * 2]
        blocks.append(Table(["picture", "true", "read", "status"],
                            [[x["input"], x["true"], "(unreadable)" if x["read"] is None else x["read"],
                              x["status"]] for x in listed],
                            caption=f"Misread numbers ({len(listed)} of {m['errors']:,}, most confident first)"))
    else:
        blocks.append(Paragraph("Every number was read right."))
    return blocks


def _trained_on(data: RunData) -> str:
    dataset = data.manifest.get("dataset") or {}
    # The run's own rule: a run that fell back to the bundled sample trained on `sample`.
    name = data.run.trained_dataset() or dataset.get("name") or "-"
    size = dataset.get("train_size")
    return f"{name}, {size:,} training digits" if isinstance(size, int) else name


def summary_card(data: RunData, title: str = "Summary") -> Card:
    """Model, data, test accuracy, top-k, macro F1, errors and training time of one run."""
    ev = data.evaluation
    m, ds = ev.data["metrics"], ev.data["dataset"]
    items = [
        ("test accuracy", f"{m['accuracy']:.2%}"),
        (f"top-{ev.data['top_k']} accuracy", f"{m['top_k_accuracy']:.2%}"),
        ("macro F1", f"{m['macro_f1']:.4f}"),
        ("errors", f"{m['errors']:,} of {ds['size']:,}"),
        ("training time", _fmt_seconds(data.manifest.get("duration_s"))),
        ("model", str(data.manifest.get("model", "-"))),
        ("trained on", _trained_on(data)),
        ("tested on", f"{ds['name']} {ds['split']} split ({ds['source']})"),
    ]
    return Card(title, items, subtitle=f"run {data.run.id}")


def _finetune_blocks(data: RunData) -> list[Block]:
    """A run of ``fit --init-from``: its parent, and accuracy before and after fine-tuning."""
    parent = data.manifest.get("parent")
    if not isinstance(parent, dict):
        return []
    compare = data.manifest.get("finetune") if isinstance(data.manifest.get("finetune"), dict) else {}
    rows = []
    for key, label in (("held_out", "your held-out pictures"), ("mnist_test", "MNIST test")):
        scores = compare.get(key)
        if isinstance(scores, dict) and all(isinstance(scores.get(k), (int, float)) for k in ("before", "after")):
            rows.append([label, f"{scores['before']:.2%}", f"{scores['after']:.2%}",
                         f"{scores['after'] - scores['before']:+.2%}", f"{scores.get('size', '-'):,}"])
    blocks: list[Block] = [Heading("Fine-tuning", 3),
                           Paragraph(f"Fine-tuned from {parent.get('label') or parent.get('ref')} "
                                     f"({parent.get('sha256', '-')}).")]
    if rows:
        blocks.append(Table(["digits", "before", "after", "change", "count"], rows,
                            caption="Accuracy of the parent's weights and of this run's"))
    return blocks


def run_blocks(data: RunData, prefix: str = "", *, card: bool = True) -> list[Block]:
    """Everything about one run: its summary card first, then the details."""
    ev = data.evaluation
    blocks: list[Block] = [Heading(f"Run {data.run.id}")]
    if card:
        blocks.append(summary_card(data))
    blocks += [Paragraph(note, note=True) for note in data.notes]
    blocks += [Heading("Test metrics", 3), Columns([_metrics_table(ev), _per_class_table(ev)])]
    blocks += [Heading("Per-class F1 and calibration", 3),
               Columns([Figure(f"{prefix}per-class-f1", figures.per_class_f1(
                   [(data.label, [r["f1"] for r in ev.data["per_class"]])]), "F1 score of every digit"),
                   _reliability(data, prefix)])]
    blocks += [Heading("Confusions", 3),
               Columns([Figure(f"{prefix}confusion", figures.confusion_heatmap(ev.data["confusion"]),
                               "Confusion matrix heatmap: rows true digit, columns predicted digit",
                               "Correct digits (the diagonal) in blue, errors in vermillion on their own "
                               "scale; empty cells are zero."),
                        _confused_table(ev)])]
    blocks += _finetune_blocks(data)
    blocks += [Heading("Learning curves", 3), *_curves(data, prefix)]
    blocks += [Heading("Digits", 3), *_pictures(data, prefix)]
    blocks += _numbers_blocks(data, prefix)
    blocks += [Heading("Manifest", 3), _manifest_table(data)]
    if data.layers:
        blocks += [Heading("Layers", 3), _layers_table(data.layers)]
    return blocks


def leaderboard_rows(runs_data: Sequence[RunData]) -> list[dict[str, Any]]:
    """One dict per run, best accuracy first (also used by ``bench``)."""
    rows = []
    for data in runs_data:
        m = data.evaluation.data["metrics"]
        rows.append({"run": data.run.id, "model": data.manifest.get("model", "-"), "accuracy": m["accuracy"],
                     "loss": m["loss"], "params": (data.manifest.get("spec") or {}).get("params"),
                     "train_seconds": data.manifest.get("duration_s"),
                     "ms_per_digit": data.evaluation.data.get("timing", {}).get("ms_per_digit")})
    return sorted(rows, key=lambda r: (-r["accuracy"], r["loss"]))


def _leaderboard(runs_data: Sequence[RunData]) -> list[Block]:
    rows = [[str(i), r["run"], r["model"], f"{r['accuracy']:.2%}", f"{r['loss']:.4f}",
             f"{r['params']:,}" if isinstance(r["params"], int) else "-", _fmt_seconds(r["train_seconds"]),
             f"{r['ms_per_digit']:.3f}" if isinstance(r["ms_per_digit"], float) else "-"]
            for i, r in enumerate(leaderboard_rows(runs_data), 1)]
    table = Table(["#", "run", "model", "accuracy", "loss", "parameters", "training time",
                   "prediction ms/digit"], rows, caption="Leaderboard (test split, best accuracy first)",
                  numeric=[True, False, False, True, True, True, True, True])
    blocks: list[Block] = [Heading("Leaderboard"), table]
    models = [d.manifest.get("model", "run") for d in runs_data]
    # Model names read best; the run id's random suffix tells two runs of one model apart.
    labels = [m if models.count(m) == 1 else f"{m} ({d.run.id[-4:]})" for m, d in zip(models, runs_data)]
    blocks.append(Columns([
        Figure("leaderboard-chart", figures.leaderboard_chart(
            [(label, d.evaluation.data["metrics"]["accuracy"]) for label, d in zip(labels, runs_data)]),
            "Test accuracy of every run, best first"),
        Figure("per-class-f1", figures.per_class_f1(
            [(label, [r["f1"] for r in d.evaluation.data["per_class"]]) for label, d in zip(labels, runs_data)]),
            "F1 score of every digit, run beside run")]))
    histories = [(label, d.history) for label, d in zip(labels, runs_data) if d.history]
    if histories:
        blocks.append(Figure("overlaid-learning-curves", figures.learning_curves(histories),
                             "Learning curves of every run, overlaid"))
    return blocks


def build_document(runs_data: Sequence[RunData], generated: str) -> Document:
    """The report: summary cards first, then the leaderboard (several runs), then each run."""
    several = len(runs_data) > 1
    blocks: list[Block] = [Columns([summary_card(d, str(d.manifest.get("model", "run"))) for d in runs_data])
                           ] if several else []
    if several:
        blocks += _leaderboard(runs_data)
    for i, data in enumerate(runs_data, 1):
        blocks += run_blocks(data, prefix=f"run{i}-" if several else "", card=not several)
    names = ", ".join(d.run.id for d in runs_data)
    title = f"digitkit report: {runs_data[0].manifest.get('model', 'run')}" if not several else \
        f"digitkit report: {len(runs_data)} runs"
    return Document(title, f"{names} · generated {fmt_time(generated)}", blocks)
