"""Settings that make training faster than a plain ``model.fit`` on NumPy arrays.

Measured on a 2-core CPU machine (see docs/training.md and benchmarks/train_speed.py):

- ``steps_per_execution`` runs many batches per call into the TensorFlow runtime; the
  Python overhead per batch dominates small dense models. It is capped at a tenth of an
  epoch so that progress moves at least 10 times per epoch.
- One intra-op thread for dense models: their matrices are too small to split, and
  the thread hand-offs cost more than they save.
- oneDNN kernels for convolutional models on CPU (``TF_ENABLE_ONEDNN_OPTS=1``, set before
  TensorFlow is imported). TensorFlow turns oneDNN on by default only on CPUs with AVX-512
  VNNI/BF16 or AMX; on an AVX2 CPU its Eigen conv and max-pool gradients made a cnn training
  step ~1.35x slower than oneDNN's (benchmarks/cnn_step_profile.py). Dense models keep Eigen:
  their single-threaded small matmuls gain nothing.
- No XLA on CPU (``jit_compile=False``): XLA made the cnn 5x slower there.
- No mixed precision on CPU (it is emulated, hence slower).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from typing import Any

DENSE_STEPS_PER_EXECUTION = 256
CONV_STEPS_PER_EXECUTION = 64
UPDATES_PER_EPOCH = 10  # progress moves at least this often
DENSE_LAYER_TYPES = {"InputLayer", "Dense", "Flatten", "Dropout", "Reshape", "Activation", "Rescaling"}


@dataclass(frozen=True)
class SpeedSettings:
    """How a fit runs; recorded in the manifest under ``speed``."""

    steps_per_execution: int
    intra_op_threads: int | None  # None: TensorFlow's default (all cores)
    jit_compile: bool
    kind: str  # "dense" or "conv"
    onednn: bool = False  # whether TensorFlow runs oneDNN's CPU kernels in this process

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_dense(model: Any) -> bool:
    """Whether every layer is cheap per sample (dense / reshaping / dropout only)."""
    from digitkit.training.keras_private import all_layers

    return all(type(layer).__name__ in DENSE_LAYER_TYPES for layer in all_layers(model))


def likely_dense(input_shape: tuple[int, ...]) -> bool:
    """Guess from the declared input alone (threads must be set before any model exists)."""
    return len(input_shape) <= 2


def steps_per_execution(dense: bool, steps_per_epoch: int) -> int:
    """Batches per runtime call: the model kind's best, but at most a tenth of an epoch."""
    best = DENSE_STEPS_PER_EXECUTION if dense else CONV_STEPS_PER_EXECUTION
    return max(1, min(best, steps_per_epoch // UPDATES_PER_EPOCH))


def choose_settings(model: Any, *, on_gpu: bool, steps_per_epoch: int, distributed: bool = False) -> SpeedSettings:
    """Settings for this model on this hardware.

    Under a distribution strategy ``steps_per_execution`` stays 1: Keras 3.15's multi-step
    loop fails there ("You must feed a value for placeholder tensor ... while/cond").
    """
    dense = is_dense(model)
    steps = steps_per_execution(dense, steps_per_epoch)
    return SpeedSettings(
        steps_per_execution=1 if distributed else steps,
        intra_op_threads=1 if dense and not on_gpu else None,
        jit_compile=False,  # XLA: 5x slower for the cnn on CPU; GPU gains too small to justify
        kind="dense" if dense else "conv",
        onednn=onednn_enabled(),
    )


def prefer_onednn(input_shape: tuple[int, ...]) -> None:
    """Ask for oneDNN's CPU kernels when the model looks convolutional; before TensorFlow starts.

    TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` once, at import: in a process that already
    imported it (a notebook, the test suite) this changes nothing, and a value the user set
    (``0`` included) is kept.
    """
    if "tensorflow" not in sys.modules and not likely_dense(input_shape):
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def onednn_enabled() -> bool:
    """Whether this process's TensorFlow runs oneDNN kernels (False when it cannot tell)."""
    try:
        from tensorflow.python.util import _pywrap_util_port  # no public API tells
    except ImportError:
        return False
    return bool(_pywrap_util_port.IsMklEnabled())


def apply_threading(threads: int | None) -> bool:
    """Set TensorFlow's intra-op threads; returns False when TensorFlow already started.

    TensorFlow fixes its thread pools when the runtime starts, so this only takes effect
    before the first operation runs in the process (a fresh ``digitkit fit`` always is).
    """
    import tensorflow as tf

    if threads is None or tf.config.threading.get_intra_op_parallelism_threads() == threads:
        return True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:
        return False
    return True


def seed_everything(seed: int, *, deterministic: bool) -> None:
    """Seed Python, NumPy and Keras; with ``deterministic``, ask TensorFlow for deterministic
    kernels too (process-wide once on; it cost ~15 % on the cnn, see docs/training.md)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
