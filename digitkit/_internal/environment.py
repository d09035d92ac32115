"""Versions and devices, for `digitkit info` and run manifests."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

from digitkit import __version__, home

PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "keras": ("keras",),
            "tensorflow-datasets": ("tensorflow-datasets",), "numpy": ("numpy",),
            "ai-edge-litert": ("ai-edge-litert",)}


def package_version(*names: str) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries a run depends on, read from metadata (no imports)."""
    versions = {"python": platform.python_version(), "digitkit": __version__}
    versions.update({key: package_version(*names) for key, names in PACKAGES.items()})
    return versions


def machine() -> dict[str, Any]:
    import os

    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()}


def list_devices() -> list[str]:
    """Devices TensorFlow sees (imports TensorFlow)."""
    import tensorflow as tf

    return [f"{d.device_type}:{d.name.split(':', 1)[-1]}" for d in tf.config.list_physical_devices()]


def describe_environment(with_devices: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {**library_versions(), "executable": sys.executable, "home": str(home.home_dir())}
    info.update(machine())
    if with_devices:
        info["devices"] = list_devices()
    return info
