"""Helpers every room uses and no user calls: atomic file writes, quiet TensorFlow, environment facts.

Internal: names here may change without notice. Nothing here imports TensorFlow at module level.
"""
