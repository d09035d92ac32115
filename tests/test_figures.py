"""The seaborn figures: PNG bytes without a display and without TensorFlow; the calibration bins."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from digitkit.figures import plots

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from digitkit.figures import plots

    rng = np.random.default_rng(0)
    history = {"epoch": [1, 2], "loss": [1.0, 0.5], "accuracy": [0.6, 0.8], "val_loss": [0.9, 0.6],
               "val_accuracy": [0.62, 0.75]}
    confidences = rng.uniform(0.2, 1.0, 200)
    images = rng.integers(0, 255, (20, 28, 28)).astype(np.uint8)
    labels = np.arange(20) % 10
    pngs = [
        plots.learning_curves([("a", history), ("b", history)]),
        plots.confusion_heatmap(np.eye(10, dtype=int) * 9 + 1),
        plots.class_balance([5] * 10, "balance"),
        plots.per_class_f1([("a", [0.9] * 10), ("b", [0.8] * 10)]),
        plots.reliability_diagram(confidences, rng.uniform(0, 1, 200) < confidences),
        plots.leaderboard_chart([("a", 0.9), ("b", 0.95)]),
        plots.misclassified_gallery(images, labels, rng.dirichlet(np.ones(10), 20), [0, 1, 2]),
        plots.samples_grid(images, labels, per_class=2),
    ]
    assert all(p.startswith(b"\\x89PNG") for p in pngs)
    print(len(pngs), "tensorflow" in sys.modules, "seaborn" in sys.modules)
""")


@pytest.mark.slow
def test_every_figure_renders_headless_without_tensorflow():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["8", "False", "True"]


def test_reliability_bins_and_expected_calibration_error():
    confidences = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False, True, False])
    rows, ece = plots.reliability_bins(confidences, correct, bins=10)
    assert [(r["count"], r["accuracy"]) for r in rows] == [(2, 0.5), (4, 0.75)]
    # 2/6 * |0.5 - 0.55| + 4/6 * |0.75 - 0.95|
    assert ece == pytest.approx(2 / 6 * 0.05 + 4 / 6 * 0.2)


def test_figures_leave_the_global_matplotlib_style_alone():
    import matplotlib

    before = dict(matplotlib.rcParams)
    plots.class_balance([1] * 10, "t")
    after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after[k] and not k.startswith("backend")} == set()


def test_seaborn_loads_without_scipy_stats_and_leaves_it_importable():
    code = ("import sys\nfrom digitkit.figures import theme\ntheme.seaborn()\n"
            "print('scipy.stats' in sys.modules, 'seaborn' in sys.modules)\n"
            "try:\n    import scipy.stats\nexcept ImportError:\n    print('no scipy')\nelse:\n    print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == "False True"
    assert done.stdout.split("\n")[1] in ("ok", "no scipy")  # importable again when installed
