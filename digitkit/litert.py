"""Running a ``.tflite`` model with the LiteRT interpreter, without TensorFlow.

`digitkit fit` writes ``model.tflite`` beside ``model.keras`` in each run; predicting
through it takes a fraction of a second and ~100 MB, where importing TensorFlow alone
takes seconds and ~500 MB. The runtime comes from the ``ai-edge-litert`` package
(``pip install 'digitkit[fast]'``); without it digitkit falls back to Keras.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from digitkit.errors import ModelRefusedError, UnavailableError

CHUNK = 1024  # samples per invoke: large enough to amortise the call, small enough for memory


def available() -> bool:
    """Whether the LiteRT runtime is installed (checked without importing it)."""
    try:
        return importlib.util.find_spec("ai_edge_litert") is not None
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence the runtime's C++ banner ("Created TensorFlow Lite XNNPACK delegate")."""
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ else 2
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class LiteRTModel:
    """A ``.tflite`` classifier: ``predict(x)`` maps (N, *shape) float32 to (N, classes).

    Raises:
        UnavailableError: ``ai-edge-litert`` is not installed.
        ModelRefusedError: the file is missing or not a valid LiteRT model.
    """

    def __init__(self, path: str | Path, num_threads: int | None = None) -> None:
        self.path = Path(path)
        if not available():
            raise UnavailableError("the LiteRT runtime is not installed",
                                   hint="pip install 'digitkit[fast]' (ai-edge-litert)")
        if not self.path.is_file() or self.path.stat().st_size == 0:
            raise ModelRefusedError(f"{self.path} is missing or empty")
        from ai_edge_litert.interpreter import Interpreter

        threads = num_threads or min(4, os.cpu_count() or 1)
        try:
            with _quiet_native_stderr():
                self._interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        except Exception as exc:  # the runtime raises ValueError/RuntimeError for a bad file
            raise ModelRefusedError(f"{self.path.name} is not a valid LiteRT model: {str(exc)[:200]}") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch = None

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, e.g. ``(28, 28, 1)`` or ``(784,)``."""
        return tuple(int(d) for d in self._input["shape"][1:])

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], [batch, *self.sample_shape])
            with _quiet_native_stderr():
                self._interpreter.allocate_tensors()
            self._batch = batch

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs for a batch, in chunks of :data:`CHUNK` (the last one padded)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape[1:] != self.sample_shape:
            raise ModelRefusedError(f"{self.path.name} expects samples of shape {self.sample_shape}. "
                                    f"Received: shape={x.shape[1:]}")
        chunk = min(CHUNK, len(x)) or 1
        outputs = []
        for start in range(0, len(x), chunk):
            part = x[start:start + chunk]
            count = len(part)
            if count < chunk:
                part = np.concatenate([part, np.zeros((chunk - count, *self.sample_shape), np.float32)])
            self._resize(chunk)
            self._interpreter.set_tensor(self._input["index"], part)
            self._interpreter.invoke()
            outputs.append(np.array(self._interpreter.get_tensor(self._output["index"])[:count]))
        if not outputs:
            return np.zeros((0, int(self._output["shape"][-1])), np.float32)
        return np.concatenate(outputs)
