"""The statistical figures, drawn with seaborn on one theme (:mod:`digitkit.figures.theme`).

Each function takes plain numbers or arrays and returns PNG bytes. The two digit pictures
(:func:`misclassified_gallery`, :func:`samples_grid`) are images, not statistics: they are
drawn in the same theme with matplotlib's ``imshow``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from digitkit.figures.theme import (
    MARKERS, OKABE_ITO, OTHER_COLOUR, PREDICTED_COLOUR, TRUE_COLOUR, png, themed,
)

__all__ = ["learning_curves", "confusion_heatmap", "misclassified_gallery", "samples_grid", "class_balance",
           "per_class_f1", "reliability_diagram", "reliability_bins", "leaderboard_chart", "misread_numbers"]

RELIABILITY_BINS = 15  # Guo et al. (2017): ECE over 15 equal-width confidence bins


def _long_history(histories: Sequence[tuple[str, dict[str, list[float]]]]) -> Any:
    import pandas as pd

    rows = []
    for label, history in histories:
        for metric in ("accuracy", "loss"):
            for split, key in (("training", metric), ("validation", f"val_{metric}")):
                values = history.get(key) or []
                epochs = history.get("epoch") or list(range(1, len(values) + 1))
                rows += [{"run": label, "metric": metric, "split": split, "epoch": e, "value": v}
                         for e, v in zip(epochs, values)]
    return pd.DataFrame(rows, columns=["run", "metric", "split", "epoch", "value"])


def learning_curves(histories: Sequence[tuple[str, dict[str, list[float]]]]) -> bytes:
    """Accuracy and loss per epoch; training solid, validation dashed; one colour per run."""
    frame = _long_history(histories)
    several = len(histories) > 1
    with themed() as (plt, sns):
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        for (metric, title), ax in zip((("accuracy", "Accuracy"), ("loss", "Loss")), axes):
            part = frame[frame["metric"] == metric]
            if len(part):
                sns.lineplot(data=part, x="epoch", y="value", hue="run", style="split", markers=MARKERS[:2],
                             dashes={"training": "", "validation": (4, 2)}, palette=OKABE_ITO[:len(histories)],
                             style_order=["training", "validation"], ax=ax, legend="auto",
                             estimator=None, errorbar=None)  # one value per point: nothing to aggregate
            ax.set_title(f"{title} per epoch")
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            ax.xaxis.get_major_locator().set_params(integer=True)
            legend = ax.get_legend()
            if legend is not None:
                if not several:  # one run: its name in the legend says nothing
                    handles, labels = ax.get_legend_handles_labels()
                    keep = [i for i, label in enumerate(labels) if label in ("training", "validation")]
                    ax.legend([handles[i] for i in keep], [labels[i] for i in keep], fontsize="small")
                else:  # many entries: keep them off the curves
                    sns.move_legend(ax, "upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize="small",
                                    title=None, frameon=False)
        fig.tight_layout()
        return png(fig)


def confusion_heatmap(confusion: Sequence[Sequence[int]]) -> bytes:
    """Counts in every non-empty cell; correct (diagonal) and errors on separate colour scales.

    On one scale a few errors beside a thousand correct digits all look alike; here the
    diagonal is shaded blue by its own maximum and errors vermillion by theirs, and zeros
    stay blank, so where the model goes wrong is what stands out.
    """
    from matplotlib.colors import LinearSegmentedColormap

    matrix = np.asarray(confusion, dtype=np.int64)
    size = matrix.shape[0]
    diagonal = np.eye(size, dtype=bool)
    errors = np.where(~diagonal, matrix, 0)
    correct_map = LinearSegmentedColormap.from_list("correct", ["#E3F0F9", TRUE_COLOUR])
    error_map = LinearSegmentedColormap.from_list("errors", ["#FBE3D6", PREDICTED_COLOUR])
    labels = [str(c) for c in range(size)]
    with themed() as (plt, sns):
        fig, ax = plt.subplots(figsize=(6.8, 5.6))
        common = {"annot": True, "fmt": "d", "xticklabels": labels, "yticklabels": labels, "square": True,
                  "linewidths": 0.6, "linecolor": "#dddddd", "ax": ax}
        sns.heatmap(matrix, mask=~diagonal | (matrix == 0), cmap=correct_map, vmin=0,
                    vmax=max(1, int(matrix.max())), cbar=False, annot_kws={"fontsize": 9}, **common)
        sns.heatmap(errors, mask=diagonal | (errors == 0), cmap=error_map, vmin=0, vmax=max(1, int(errors.max())),
                    cbar_kws={"label": "misclassified digits", "shrink": 0.8},
                    annot_kws={"fontsize": 9, "fontweight": "bold"}, **common)
        ax.set_title("Confusion matrix (blue: correct, vermillion: errors)")
        ax.set_xlabel("predicted digit")
        ax.set_ylabel("true digit")
        ax.tick_params(axis="y", rotation=0)
        fig.tight_layout()
        return png(fig)


def class_balance(counts: Sequence[int], title: str) -> bytes:
    """Bar chart of how many training digits each class has."""
    with themed() as (plt, sns):
        fig, ax = plt.subplots(figsize=(6.4, 3.0))
        sns.barplot(x=[str(c) for c in range(len(counts))], y=list(counts), color=OKABE_ITO[0], ax=ax,
                    errorbar=None)
        for container in ax.containers:
            ax.bar_label(container, fontsize=7, fmt="%d")
        ax.set_title(title)
        ax.set_xlabel("digit")
        ax.set_ylabel("training digits")
        ax.margins(y=0.15)
        fig.tight_layout()
        return png(fig)


def per_class_f1(series: Sequence[tuple[str, Sequence[float]]]) -> bytes:
    """F1 of each digit, one bar colour per run (``series``: ``(label, ten F1 scores)``)."""
    import pandas as pd

    frame = pd.DataFrame([{"run": label, "digit": str(d), "F1": float(v)}
                          for label, values in series for d, v in enumerate(values)])
    low = float(frame["F1"].min()) if len(frame) else 0.0
    with themed() as (plt, sns):
        fig, ax = plt.subplots(figsize=(7.6 if len(series) > 1 else 6.4, 3.2))
        sns.barplot(data=frame, x="digit", y="F1", hue="run", palette=OKABE_ITO[:len(series)], ax=ax,
                    legend=len(series) > 1, errorbar=None)
        ax.set_ylim(max(0.0, low - 0.05) if low > 0.5 else 0.0, 1.0)
        ax.set_title("F1 per digit")
        ax.set_xlabel("digit")
        if len(series) > 1:
            sns.move_legend(ax, "upper center", bbox_to_anchor=(0.5, -0.22), ncol=min(len(series), 3),
                            title=None, frameon=False, fontsize="small")
        fig.tight_layout()
        return png(fig)


def reliability_bins(confidences: np.ndarray, correct: np.ndarray,
                     bins: int = RELIABILITY_BINS) -> tuple[list[dict[str, float]], float]:
    """Equal-width confidence bins (``{lower, upper, confidence, accuracy, count}``, empty
    bins left out) and the expected calibration error over them."""
    confidences = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidences, side="left") - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        if not count:
            continue
        confidence, accuracy = float(confidences[inside].mean()), float(correct[inside].mean())
        ece += count / max(len(confidences), 1) * abs(accuracy - confidence)
        rows.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "confidence": confidence,
                     "accuracy": accuracy, "count": count})
    return rows, float(ece)


def reliability_diagram(confidences: np.ndarray, correct: np.ndarray, bins: int = RELIABILITY_BINS) -> bytes:
    """Accuracy against confidence per bin, beside the diagonal of perfect calibration, and
    how many predictions each bin holds.

    Args:
        confidences: the predicted class's probability, one per digit.
        correct: whether each prediction was right.
    """
    import pandas as pd

    rows, ece = reliability_bins(confidences, correct, bins)
    frame = pd.DataFrame(rows, columns=["lower", "upper", "confidence", "accuracy", "count"])
    with themed() as (plt, sns):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.6, 5.4), sharex=True,
                                          gridspec_kw={"height_ratios": [3, 1]})
        top.plot([0, 1], [0, 1], linestyle="--", color="#777777", linewidth=1, label="perfect calibration")
        if len(frame):
            top.bar(frame["lower"], frame["accuracy"], width=1.0 / bins, align="edge", color=OKABE_ITO[0],
                    alpha=0.35, edgecolor=OKABE_ITO[0], label="accuracy per bin")
            sns.lineplot(data=frame, x="confidence", y="accuracy", marker="o", color=OKABE_ITO[3], ax=top,
                         label="mean confidence vs accuracy", estimator=None, errorbar=None)
        top.set_xlim(0, 1)
        top.set_ylim(0, 1.02)
        top.set_ylabel("accuracy")
        top.set_title(f"Reliability (ECE {ece:.2%}, {bins} bins)")
        top.legend(fontsize="small", loc="upper left")
        sns.histplot(x=np.asarray(confidences, dtype=np.float64), bins=np.linspace(0, 1, bins + 1),
                     color=OKABE_ITO[0], ax=bottom)
        counts = np.histogram(confidences, bins=np.linspace(0, 1, bins + 1))[0]
        if counts.max(initial=0) > 50 * max(1, counts[counts > 0].min(initial=1)):
            bottom.set_yscale("log")  # confident models put nearly every digit in the last bin
        bottom.set_xlabel("confidence of the predicted digit")
        bottom.set_ylabel("digits")
        fig.tight_layout()
        return png(fig)


def leaderboard_chart(rows: Sequence[tuple[str, float]]) -> bytes:
    """Test accuracy per run (``rows``: ``(label, accuracy)``), best first, value on each bar."""
    ordered = sorted(rows, key=lambda r: -r[1])
    labels, values = [r[0] for r in ordered], [r[1] for r in ordered]
    low = min(values) if values else 0.0
    with themed() as (plt, sns):
        fig, ax = plt.subplots(figsize=(7.2, 0.5 * len(ordered) + 1.2))
        sns.barplot(x=values, y=labels, hue=labels, palette=OKABE_ITO[:len(labels)] * (len(labels) // 8 + 1),
                    orient="h", legend=False, ax=ax, errorbar=None)
        for container in ax.containers:
            ax.bar_label(container, labels=[f"{v:.2%}" for v in container.datavalues], padding=3, fontsize=8)
        ax.set_xlim(max(0.0, low - 0.1) if low > 0.5 else 0.0, 1.04)
        ax.set_xlabel("test accuracy")
        ax.set_ylabel("")
        ax.set_title("Leaderboard: test accuracy")
        fig.tight_layout()
        return png(fig)


def misclassified_gallery(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                          indices: Sequence[int], columns: int = 3) -> bytes:
    """Each mistake as its digit beside its probability bars (true blue, predicted vermillion).

    Everything is drawn in one axes (digits placed by ``extent``): dozens of small axes
    would make this the slowest figure of the report by far.
    """
    from matplotlib.patches import Patch, Rectangle

    rows = max(1, -(-len(indices) // columns))
    cell_w, cell_h = 3.2, 1.75
    classes = probabilities.shape[1]
    bar_w = 1.7 / classes
    with themed() as (plt, sns):
        fig, ax = plt.subplots(figsize=(4.2 * columns, 2.3 * rows + 0.8))
        for n, index in enumerate(indices):
            row, col = divmod(n, columns)
            x0, y0 = col * cell_w, (rows - 1 - row) * cell_h
            true, predicted = int(labels[index]), int(probabilities[index].argmax())
            ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=255, extent=(x0, x0 + 1, y0, y0 + 1),
                      interpolation="nearest")
            ax.add_patch(Rectangle((x0, y0), 1, 1, fill=False, edgecolor="#999999", linewidth=0.5))
            colours = [TRUE_COLOUR if c == true else PREDICTED_COLOUR if c == predicted else OTHER_COLOUR
                       for c in range(classes)]
            bars_x = x0 + 1.15 + bar_w * np.arange(classes)
            ax.bar(bars_x, probabilities[index], width=bar_w * 0.85, bottom=y0, color=colours, align="edge")
            ax.plot([x0 + 1.15, x0 + 1.15 + bar_w * classes], [y0, y0], color="#333333", linewidth=0.6)
            for c in range(classes):
                # The true digit's bar may be too short to see: its label carries the colour too.
                marked = c in (true, predicted)
                ax.text(bars_x[c] + bar_w * 0.42, y0 - 0.04, str(c), ha="center", va="top",
                        fontsize=10 if marked else 8.5, fontweight="bold" if marked else "normal",
                        color=colours[c] if marked else "#333333")
            ax.text(x0, y0 + 1.05, f"true {true} → predicted {predicted} "
                    f"({probabilities[index, predicted]:.0%})", fontsize=10.5, va="bottom")
        ax.set_xlim(-0.1, columns * cell_w)
        ax.set_ylim(-0.3, rows * cell_h)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title("Misclassified digits, most confident mistakes first (bars: probability per digit)")
        ax.legend(handles=[Patch(color=TRUE_COLOUR, label="true digit"),
                           Patch(color=PREDICTED_COLOUR, label="predicted digit"),
                           Patch(color=OTHER_COLOUR, label="other digits")],
                  loc="upper center", ncol=3, fontsize=10, bbox_to_anchor=(0.5, 0.0), frameon=False)
        return png(fig)


def samples_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 10) -> bytes:
    """The first ``per_class`` samples of every digit, one row per digit, as one mosaic."""
    side, gap = images.shape[1], 2
    mosaic = np.zeros((10 * (side + gap), per_class * (side + gap)), dtype=np.uint8)
    for digit in range(10):
        for col, index in enumerate(np.flatnonzero(labels == digit)[:per_class]):
            top, left = digit * (side + gap), col * (side + gap)
            mosaic[top:top + side, left:left + side] = images[index]
    with themed() as (plt, sns):
        fig, ax = plt.subplots(figsize=(per_class * 0.5 + 0.6, 5.6))
        ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
        ax.grid(False)
        ax.set_yticks([d * (side + gap) + side / 2 for d in range(10)], [str(d) for d in range(10)])
        ax.set_xticks([])
        ax.set_ylabel("digit")
        ax.set_xlabel(f"the first {per_class} training samples of each digit")
        ax.set_title("Ten samples of every digit")
        return png(fig)


def misread_numbers(inks: Sequence[np.ndarray], boxes: Sequence[np.ndarray], right: Sequence[np.ndarray],
                    truths: Sequence[str], reads: Sequence[str], notes: Sequence[str]) -> bytes:
    """Misread numbers, one per row: the picture (dark on light) with each digit's box, blue
    where the digit is right and vermillion where it is not, the digit read under its box,
    and "true → read" above with ``notes[i]`` (status, confidence, file name).

    Args:
        inks: each picture as ink, bright on black (uint8).
        boxes: (k, 4) per picture, ``x0, y0, x1, y1`` in its pixels.
        right: (k,) per picture, whether each digit read is right.
        truths, reads, notes: the texts of each row (user-controlled: drawn as plain text).
    """
    from matplotlib.patches import Patch, Rectangle

    pitch = 1.75  # a picture is one unit high; its two lines of text above it
    widths = [ink.shape[1] / max(1, ink.shape[0]) for ink in inks]
    span = max([4.0, *widths])
    rows = max(1, len(inks))
    with themed() as (plt, sns):
        fig, ax = plt.subplots(figsize=(min(14.0, 0.9 * span + 0.6), 0.9 * pitch * rows + 0.9))
        for n, (ink, digit_boxes, good) in enumerate(zip(inks, boxes, right)):
            y0, height = (rows - 1 - n) * pitch, max(1, ink.shape[0])
            ax.imshow(ink, cmap="gray_r", vmin=0, vmax=255, extent=(0, widths[n], y0, y0 + 1),
                      interpolation="antialiased")
            read = "".join(reads[n].split())
            for k, (x0, top, x1, bottom) in enumerate(np.asarray(digit_boxes, np.float64).reshape(-1, 4)):
                colour = TRUE_COLOUR if k < len(good) and good[k] else PREDICTED_COLOUR
                ax.add_patch(Rectangle((x0 / height, y0 + 1 - bottom / height), (x1 - x0) / height,
                                       (bottom - top) / height, fill=False, edgecolor=colour, linewidth=1.6))
                if len(read) == len(digit_boxes):  # marks kept in the text: no label per box
                    ax.text((x0 + x1) / 2 / height, y0 - 0.04, read[k], ha="center", va="top", fontsize=9,
                            color=colour, fontweight="bold", parse_math=False)
            # Texts come from file names and readings: never let matplotlib read "$" as maths.
            ax.text(0, y0 + 1.36, f"true {truths[n]} \u2192 read {reads[n] or '-'}", fontsize=10.5, va="bottom",
                    parse_math=False)
            ax.text(0, y0 + 1.06, notes[n], fontsize=8.5, va="bottom", color="#555555", parse_math=False)
        ax.set_xlim(-0.05, span + 0.05)
        ax.set_ylim(-0.35, rows * pitch)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title("Misread numbers, most confident first", loc="left")
        ax.legend(handles=[Patch(color=TRUE_COLOUR, label="digit read right"),
                           Patch(color=PREDICTED_COLOUR, label="digit read wrong (or the count is wrong)")],
                  loc="upper center", ncol=2, fontsize=9.5, bbox_to_anchor=(0.5, 0.0), frameon=False)
        return png(fig)
