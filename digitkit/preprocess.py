"""Kept for callers of the first version: preprocessing now lives in :mod:`digitkit.intake.preprocess`."""

from digitkit.intake.preprocess import BOX, SIZE, WORK_SIDE, preprocess_image, resize_only  # noqa: F401
