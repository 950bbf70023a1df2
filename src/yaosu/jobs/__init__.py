"""Jobs domain."""

from yaosu.jobs import labels as _labels  # noqa: F401  (registers the labels on import)
