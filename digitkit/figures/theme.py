"""One look for every figure: seaborn's "whitegrid" style and "notebook" context, Okabe-Ito colours.

Okabe-Ito stays readable for colour-blind readers and in greyscale print; lines also differ
by dash style and marker. The theme is applied per figure (``themed()``), never globally, so
importing digitkit does not restyle a user's own plots. matplotlib runs on its Agg backend:
no window, no display needed.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any, Iterator

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
TRUE_COLOUR = "#0072B2"  # blue
PREDICTED_COLOUR = "#D55E00"  # vermillion
OTHER_COLOUR = "#BBBBBB"
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
DPI = 100


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)  # never open a window, never need a display
    import matplotlib.pyplot as plt

    return plt


# seaborn imports these at module level when scipy is installed (~1 s on the 2-core machine,
# more than pandas) for KDEs and clustered heatmaps, which no digitkit figure draws; without
# them it uses its own KDE. They are hidden only while seaborn itself is imported.
SCIPY_SKIPPED = ("scipy.stats", "scipy.cluster")


def seaborn() -> Any:
    pyplot()  # the backend first: seaborn imports pyplot
    if "seaborn" not in sys.modules:
        hidden = [name for name in SCIPY_SKIPPED if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # "import scipy.stats" raises ImportError
        try:
            import seaborn  # noqa: F401
        finally:
            for name in hidden:
                if sys.modules.get(name, False) is None:
                    del sys.modules[name]
    import seaborn as sns

    return sns


@contextlib.contextmanager
def themed() -> Iterator[Any]:
    """``with themed() as (plt, sns):`` draw one figure in the report's theme."""
    plt, sns = pyplot(), seaborn()
    from cycler import cycler

    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85),
          "axes.prop_cycle": cycler(color=OKABE_ITO), "figure.dpi": DPI, "savefig.dpi": DPI,
          "axes.titleweight": "bold", "axes.titlesize": 11}
    with plt.rc_context(rc):
        yield plt, sns


def png(fig: Any) -> bytes:
    """The figure as PNG bytes (tight bounding box: no label is cut), then closed."""
    plt = pyplot()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.1, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buffer.getvalue()
