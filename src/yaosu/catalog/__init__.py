"""Catalog domain."""

from yaosu.catalog import labels as _labels  # noqa: F401  (registers the labels on import)
