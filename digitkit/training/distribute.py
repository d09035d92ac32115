"""Devices and ``tf.distribute`` strategies for ``--gpu``, ``--devices`` and multi-machine runs.

- ``--gpu`` requires a visible GPU (UnavailableError otherwise).
- ``--devices N|all`` trains data-parallel with ``MirroredStrategy`` over N local GPUs
  (or N logical CPU devices when there is no GPU).
- With ``TF_CONFIG`` set in the environment, ``--devices`` uses
  ``MultiWorkerMirroredStrategy`` across machines (see docs/training.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from digitkit.errors import UnavailableError, UsageError

GPU_HINT = 'install GPU support with: pip install "tensorflow[and-cuda]" (Linux, NVIDIA driver needed)'


@dataclass
class Placement:
    """Where training runs."""

    strategy: Any  # a tf.distribute.Strategy
    kind: str  # "default", "mirrored", "multi-worker"
    devices: list[str]
    on_gpu: bool

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    def describe(self) -> dict[str, Any]:
        return {"strategy": self.kind, "devices": self.devices, "replicas": self.replicas, "gpu": self.on_gpu}


def parse_devices(value: str | int | None) -> int | str | None:
    """``None``, a positive count, or ``"all"``."""
    if value is None:
        return None
    if isinstance(value, int) or str(value).isdigit():
        count = int(value)
        if count < 1:
            raise UsageError(f"expected --devices >= 1 or 'all'. Received: devices={value}")
        return count
    if str(value).lower() == "all":
        return "all"
    raise UsageError(f"expected --devices to be a number or 'all'. Received: devices={value!r}")


def _names(devices: list[Any]) -> list[str]:
    return [d.name.replace("/physical_device:", "/") for d in devices]


def choose_placement(*, gpu: bool, devices: str | int | None, mixed_precision: bool) -> Placement:
    """Check the request against what TensorFlow sees and build the strategy.

    Raises:
        UnavailableError: ``gpu`` without a visible GPU, or more devices than exist.
        UsageError: mixed precision without a GPU.
    """
    import tensorflow as tf

    count = parse_devices(devices)
    gpus = tf.config.list_physical_devices("GPU")
    if gpu and not gpus:
        raise UnavailableError("--gpu: TensorFlow sees no GPU on this machine", hint=GPU_HINT)
    if mixed_precision and not gpus:
        raise UsageError("--mixed-precision needs a GPU (on a CPU it is slower, not faster)", hint=GPU_HINT)
    on_gpu = bool(gpus)
    if count is None:
        return Placement(tf.distribute.get_strategy(), "default", _names(gpus[:1]) or ["/device:CPU:0"], on_gpu)
    if os.environ.get("TF_CONFIG"):
        _check_tf_config()
        from digitkit.training.keras_private import require_checked_keras

        require_checked_keras("multi-worker training (TF_CONFIG)")
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        return Placement(strategy, "multi-worker", [f"{strategy.num_replicas_in_sync} replicas"], on_gpu)
    pool = [d.name for d in tf.config.list_logical_devices("GPU" if gpus else "CPU")]
    wanted = len(pool) if count == "all" else count
    if wanted > len(pool):
        kind = "GPUs" if gpus else "CPU devices"
        raise UnavailableError(f"--devices {count}: only {len(pool)} {kind} visible",
                               hint=GPU_HINT if not gpus else "use --devices all")
    chosen = pool[:wanted]
    return Placement(tf.distribute.MirroredStrategy(chosen), "mirrored", chosen, on_gpu)


def prebuild_for_multi_worker(model: Any, batch: Any) -> None:
    """Build the model's metrics from a local batch before a multi-worker fit (see
    :func:`digitkit.training.keras_private.prebuild_metrics`)."""
    from digitkit.training.keras_private import prebuild_metrics

    prebuild_metrics(model, batch)


def is_chief() -> bool:
    """Whether this process keeps the run: the ``chief`` task, or worker 0 when the cluster
    has no chief (TensorFlow's convention); always True without ``TF_CONFIG``."""
    if not os.environ.get("TF_CONFIG"):
        return True
    try:
        config = json.loads(os.environ["TF_CONFIG"])
        task, cluster = config["task"], config["cluster"]
        kind, index = task.get("type"), int(task.get("index", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        return True
    if "chief" in cluster:
        return kind == "chief"
    return kind == "worker" and index == 0


def _check_tf_config() -> None:
    try:
        config = json.loads(os.environ["TF_CONFIG"])
        config["cluster"], config["task"]
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError("TF_CONFIG is not valid: expected JSON with 'cluster' and 'task'",
                         hint="see docs/training.md, 'Several machines'") from exc
