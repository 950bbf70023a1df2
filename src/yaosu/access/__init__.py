"""Access domain."""

from yaosu.access import labels as _labels  # noqa: F401  (registers the labels on import)
