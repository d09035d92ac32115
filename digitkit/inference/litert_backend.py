"""Running a ``.tflite`` digit model with the LiteRT interpreter, without TensorFlow.

Predicting through LiteRT takes a fraction of a second and ~100 MB, where importing
TensorFlow alone takes seconds and ~500 MB. The runtime is the ``ai-edge-litert`` package,
a core dependency wherever it has wheels; elsewhere digitkit falls back to Keras.

A ``.tflite`` file carries no guarantee about its shapes: one float32 input that is a
square grey digit and one float32 ``(N, 10)`` output are checked right after loading.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from digitkit.errors import ModelRefusedError, UnavailableError, printable
from digitkit.inference.outputs import NUM_CLASSES
from digitkit.inference.shapes import shape_text, spec_from_sample_shape
from digitkit.modelfiles.tflite_file import check_tflite
from digitkit.spec import InputSpec

# Samples per invoke. Small batches keep a convnet's activations in the CPU caches: the
# zoo's cnn took 78 us per digit in batches of 32 against 138 us in batches of 128 (one
# thread, this 2-core EPYC); dense models, whose call overhead shows more, lose < 1 us.
CHUNK = 32
INSTALL_HINT = "pip install ai-edge-litert (no wheel for this platform? digitkit uses Keras instead)"


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
    """A checked ``.tflite`` digit classifier: ``predict(x)`` maps (N, *shape) float32 to (N, 10).

    Args:
        path: the ``.tflite`` file.
        num_threads: interpreter threads (default: up to 4).

    Raises:
        UnavailableError: ``ai-edge-litert`` is not installed.
        ModelRefusedError: the file is missing, not a LiteRT model, or not a digit model
            (several inputs or outputs, a non-float input, a colour input, not 10 outputs).
    """

    def __init__(self, path: str | Path, num_threads: int | None = None) -> None:
        self.path = Path(path)
        self.where = printable(self.path.name)
        if not available():
            raise UnavailableError("the LiteRT runtime is not installed", hint=INSTALL_HINT)
        check_tflite(self.path)  # the gate: before native code parses anything
        from ai_edge_litert.interpreter import Interpreter

        threads = num_threads or min(4, os.cpu_count() or 1)
        try:
            with _quiet_native_stderr():
                self._interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        except Exception as exc:  # the runtime raises ValueError/RuntimeError for a bad file
            raise self._refused(exc) from None
        try:
            self.input_spec = self._check_signature()
            self._batch: int | None = None
            self._resize(1)  # a damaged graph ("Invalid tensor index") fails here, at load, not mid-batch
        except (RuntimeError, ValueError, IndexError, KeyError, TypeError) as exc:
            raise self._refused(exc) from None

    def _refused(self, exc: BaseException) -> ModelRefusedError:
        return ModelRefusedError(f"{self.where} is not a valid LiteRT model: {printable(str(exc))[:120]}")

    def _check_signature(self) -> InputSpec:
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1:
            raise ModelRefusedError(f"{self.where}: the model has {len(inputs)} inputs; a digit model has one")
        if len(outputs) != 1:
            raise ModelRefusedError(f"{self.where}: the model has {len(outputs)} outputs; a digit model has one")
        self._input, self._output = inputs[0], outputs[0]
        if np.dtype(self._input["dtype"]) != np.float32:
            raise ModelRefusedError(f"{self.where}: the model takes {np.dtype(self._input['dtype']).name} input; "
                                    "digitkit feeds float32 digits in [0, 1]", hint="export it without quantised input")
        out_shape = tuple(int(d) for d in self._output["shape"])
        if len(out_shape) != 2 or out_shape[1] != NUM_CLASSES or np.dtype(self._output["dtype"]) != np.float32:
            raise ModelRefusedError(
                f"{self.where}: the model's output {shape_text((None, *out_shape[1:]))} "
                f"({np.dtype(self._output['dtype']).name}) is not one float score per digit class "
                f"(None, {NUM_CLASSES})", hint="it was made for another task")
        return spec_from_sample_shape(tuple(int(d) for d in self._input["shape"][1:]), where=self.where)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, e.g. ``(28, 28, 1)`` or ``(784,)``."""
        return tuple(self.input_spec.shape)

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], [batch, *self.sample_shape])
            with _quiet_native_stderr():
                self._interpreter.allocate_tensors()
            self._batch = batch

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Raw outputs for a batch, in chunks of :data:`CHUNK` (a short last chunk is padded)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape[1:] != self.sample_shape:
            raise ModelRefusedError(f"{self.where} expects samples of shape {self.sample_shape}. "
                                    f"Received: shape={x.shape[1:]}")
        chunk = min(CHUNK, len(x)) or 1
        outputs = []
        for start in range(0, len(x), chunk):
            part = x[start:start + chunk]
            count = len(part)
            if count < chunk:
                part = np.concatenate([part, np.zeros((chunk - count, *self.sample_shape), np.float32)])
            try:
                self._resize(chunk)
                self._interpreter.set_tensor(self._input["index"], part)
                self._interpreter.invoke()
                outputs.append(np.array(self._interpreter.get_tensor(self._output["index"])[:count]))
            except (RuntimeError, ValueError, IndexError) as exc:  # the runtime's errors for a broken graph
                raise self._refused(exc) from None
        if not outputs:
            return np.zeros((0, NUM_CLASSES), np.float32)
        return np.concatenate(outputs)
