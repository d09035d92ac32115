"""The built-in model zoo: one module per model family, each registering its variants.

- :mod:`~digitkit.zoo.mlp`: the multi-layer perceptrons of four classic notebooks
  (``dense-sigmoid``, ``dense-relu-dropout``, ``256-256-linear``, ``25-15-10``);
- :mod:`~digitkit.zoo.cnn`: the Keras example convnet (``cnn``);
- :mod:`~digitkit.zoo.cnn_best`: the most accurate model (``cnn-best``), with its
  training-only augmentation layer in :mod:`~digitkit.zoo.digit_augment`.

They register through digitkit's own ``digitkit.models`` entry points, exactly as a
third-party plugin does; nothing here is special-cased by the registry.
"""
