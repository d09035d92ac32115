"""The report's figures: the seaborn figures of :mod:`digitkit.figures`, which ``fit`` also
draws into TensorBoard (so they live below the training room)."""

from digitkit.figures.plots import *  # noqa: F401,F403
from digitkit.figures.plots import __all__  # noqa: F401
