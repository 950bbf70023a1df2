"""Authorization domain."""

from yaosu.authorization import labels as _labels  # noqa: F401  (registers the labels on import)
