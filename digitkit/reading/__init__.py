"""Reading whole numbers: find every digit in a picture, order them, read each one.

- :mod:`~digitkit.reading.ink`: the picture as ink (paper, light and form lines removed);
- :mod:`~digitkit.reading.components`: connected pieces of ink;
- :mod:`~digitkit.reading.layout`: slant, lines, marks, and the atoms pieces are cut into;
- :mod:`~digitkit.reading.normalize`: a candidate digit as an MNIST 28x28 digit;
- :mod:`~digitkit.reading.paths`: the classifier-scored best path through the atoms;
- :mod:`~digitkit.reading.number`: one picture, planned then decided;
- :mod:`~digitkit.reading.reader`: many pictures, one model call per chunk (:func:`read`).

Importing this package does not import TensorFlow.
"""

from __future__ import annotations

from digitkit.reading.reader import read, stream
from digitkit.reading.results import DigitRead, NothingRead, ReadFailure, Reading, ReadResult

__all__ = ["DigitRead", "NothingRead", "ReadFailure", "ReadResult", "Reading", "read", "stream"]
