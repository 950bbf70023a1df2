"""Privacy domain."""

from yaosu.privacy import labels as _labels  # noqa: F401  (registers the labels on import)
