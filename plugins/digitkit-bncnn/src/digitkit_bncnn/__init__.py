"""digitkit-bncnn: a batch-normalised CNN with built-in augmentation, as a digitkit plugin.

This package is an example of a third-party digitkit model plugin. Importing it (or its
``model`` module) does not import TensorFlow or Keras: only the builder does.
"""

__version__ = "0.1.0"
