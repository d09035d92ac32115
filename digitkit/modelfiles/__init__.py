"""The one gate: may this model file be loaded?

Nothing else in digitkit decides it. A ``.keras`` file passes, in order (docs/security.md):

- :mod:`~digitkit.modelfiles.keras_file`: the path, the bytes, the archive's shape and
  ``config.json`` (size caps, zip bombs, member names), then loading in safe mode;
- :mod:`~digitkit.modelfiles.trust`: which classes and functions the config may name
  (Keras', and those a loaded, conforming plugin's spec declares in ``trusted_classes``);
- :mod:`~digitkit.modelfiles.configwalk`: the bounded walk over every serialised object;
- :mod:`~digitkit.modelfiles.weights`: declared layers against stored weight shapes, and the
  parameter cap, before Keras builds anything;
- :mod:`~digitkit.modelfiles.tflite_file`: a ``.tflite`` file is a regular file under a size
  cap that starts like a LiteRT model, before the runtime's native parser sees it;
- :mod:`~digitkit.modelfiles.digests`: which ``.tflite`` belongs to which ``.keras`` (SHA-256
  recorded in the run's manifest and in the shipped weights' cards).

The custom layers a model file needs are registered by importing the modules of the trusted
classes its config names, so the gate imports no model code of its own. Importing this
package does not import TensorFlow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_archive", "load_model", "save_model"]


def __getattr__(name: str) -> Any:
    # Lazy: the LiteRT path imports modelfiles.digests alone and should not pay for the
    # archive checks' imports (zipfile, json, the trust policy).
    if name in __all__:
        from digitkit.modelfiles import keras_file

        return getattr(keras_file, name)
    raise AttributeError(f"module 'digitkit.modelfiles' has no attribute {name!r}")
