"""Audit domain."""

from yaosu.audit import labels as _labels  # noqa: F401  (registers the labels on import)
