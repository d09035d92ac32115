"""The report's plots, each returned as PNG bytes (matplotlib Agg, imported on demand).

Colours: Okabe-Ito for lines and bars (blue and vermillion also for the confusion matrix), both readable by
colour-blind readers and in greyscale print; lines also differ by dash style and marker.
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
TRUE_COLOUR = "#0072B2"  # blue
PREDICTED_COLOUR = "#D55E00"  # vermillion
OTHER_COLOUR = "#BBBBBB"
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
DPI = 100
__all__ = ["learning_curves", "confusion_heatmap", "misclassified_gallery", "samples_grid", "class_balance"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)  # never open a window, never need a display
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def learning_curves(histories: Sequence[tuple[str, dict[str, list[float]]]]) -> bytes:
    """Accuracy and loss per epoch; training solid, validation dashed; one colour per run."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for (metric, title), ax in zip((("accuracy", "Accuracy"), ("loss", "Loss")), axes):
        for i, (label, history) in enumerate(histories):
            colour, marker = OKABE_ITO[i % len(OKABE_ITO)], MARKERS[i % len(MARKERS)]
            epochs = history.get("epoch") or list(range(1, len(history.get(metric, [])) + 1))
            prefix = f"{label} " if len(histories) > 1 else ""
            if history.get(metric):
                ax.plot(epochs, history[metric], color=colour, marker=marker, linestyle="-",
                        label=f"{prefix}training")
            if history.get(f"val_{metric}"):
                ax.plot(epochs, history[f"val_{metric}"], color=colour, marker=marker, linestyle="--",
                        markerfacecolor="white", label=f"{prefix}validation")
        ax.set_title(f"{title} per epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if len(histories) > 1:  # many entries: keep them off the curves
            ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
        else:
            ax.legend(fontsize="small")
    fig.tight_layout()
    return _png(fig)


def confusion_heatmap(confusion: Sequence[Sequence[int]]) -> bytes:
    """Counts in every non-empty cell; correct (diagonal) and errors on separate colour scales.

    On one scale a few errors beside a thousand correct digits all look alike; here the
    diagonal is shaded blue by its own maximum and errors vermillion by theirs, and zeros
    stay blank, so where the model goes wrong is what stands out.
    """
    from matplotlib.colors import LinearSegmentedColormap

    plt = _pyplot()
    matrix = np.asarray(confusion, dtype=np.int64)
    size = matrix.shape[0]
    diagonal = np.eye(size, dtype=bool)
    errors = np.where(~diagonal & (matrix > 0), matrix, 0)
    correct_map = LinearSegmentedColormap.from_list("correct", ["#E3F0F9", TRUE_COLOUR])
    error_map = LinearSegmentedColormap.from_list("errors", ["#FBE3D6", PREDICTED_COLOUR])
    fig, ax = plt.subplots(figsize=(6.6, 5.6))
    ax.imshow(np.ma.masked_where(~diagonal, matrix), cmap=correct_map, vmin=0, vmax=max(1, int(matrix.max())))
    shown = ax.imshow(np.ma.masked_where(errors == 0, errors), cmap=error_map, vmin=0,
                      vmax=max(1, int(errors.max())))
    for t in range(size):
        for p in range(size):
            count = int(matrix[t, p])
            if not count:
                continue
            strong = (t == p and count > 0.55 * matrix.max()) or (t != p and count > 0.55 * errors.max())
            ax.text(p, t, f"{count}", ha="center", va="center", fontsize=10,
                    fontweight="bold" if t != p else "normal", color="white" if strong else "#1a1a1a")
    ax.set_xticks(range(size), [str(c) for c in range(size)])
    ax.set_yticks(range(size), [str(c) for c in range(size)])
    ax.set_xticks(np.arange(-0.5, size), minor=True)
    ax.set_yticks(np.arange(-0.5, size), minor=True)
    ax.grid(which="minor", color="#dddddd", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_title("Confusion matrix (blue: correct, vermillion: errors)", fontsize=11)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label="misclassified digits")
    fig.tight_layout()
    return _png(fig)


def misclassified_gallery(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                          indices: Sequence[int], columns: int = 3) -> bytes:
    """Each mistake as its digit beside its probability bars (true blue, predicted vermillion).

    Everything is drawn in one axes (digits placed by ``extent``): dozens of small axes
    would make this the slowest figure of the report by far.
    """
    plt = _pyplot()
    from matplotlib.patches import Patch

    rows = max(1, -(-len(indices) // columns))
    cell_w, cell_h = 3.2, 1.75
    fig, ax = plt.subplots(figsize=(4.2 * columns, 2.3 * rows + 0.8))
    classes = probabilities.shape[1]
    bar_w = 1.7 / classes
    for n, index in enumerate(indices):
        row, col = divmod(n, columns)
        x0, y0 = col * cell_w, (rows - 1 - row) * cell_h
        true, predicted = int(labels[index]), int(probabilities[index].argmax())
        ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=255, extent=(x0, x0 + 1, y0, y0 + 1),
                  interpolation="nearest")
        ax.add_patch(plt.Rectangle((x0, y0), 1, 1, fill=False, edgecolor="#999999", linewidth=0.5))
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
    ax.set_title("Misclassified digits, most confident mistakes first (bars: probability per digit)",
                 fontsize=11)
    ax.legend(handles=[Patch(color=TRUE_COLOUR, label="true digit"),
                       Patch(color=PREDICTED_COLOUR, label="predicted digit"),
                       Patch(color=OTHER_COLOUR, label="other digits")],
              loc="upper center", ncol=3, fontsize=10, bbox_to_anchor=(0.5, 0.0), frameon=False)
    return _png(fig)


def samples_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 10) -> bytes:
    """The first ``per_class`` samples of every digit, one row per digit, as one mosaic."""
    plt = _pyplot()
    side, gap = images.shape[1], 2
    mosaic = np.zeros((10 * (side + gap), per_class * (side + gap)), dtype=np.uint8)
    for digit in range(10):
        for col, index in enumerate(np.flatnonzero(labels == digit)[:per_class]):
            top, left = digit * (side + gap), col * (side + gap)
            mosaic[top:top + side, left:left + side] = images[index]
    fig, ax = plt.subplots(figsize=(per_class * 0.5 + 0.6, 5.6))
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
    ax.set_yticks([d * (side + gap) + side / 2 for d in range(10)], [str(d) for d in range(10)])
    ax.set_xticks([])
    ax.set_ylabel("digit")
    ax.set_xlabel(f"the first {per_class} training samples of each digit")
    ax.set_title("Ten samples of every digit")
    return _png(fig)


def class_balance(counts: Sequence[int], title: str) -> bytes:
    """Bar chart of how many training digits each class has."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 2.8))
    bars = ax.bar([str(c) for c in range(len(counts))], counts, color=OKABE_ITO[0])
    ax.bar_label(bars, fontsize=7)
    ax.set_title(title)
    ax.set_xlabel("digit")
    ax.set_ylabel("training digits")
    ax.margins(y=0.15)
    fig.tight_layout()
    return _png(fig)
