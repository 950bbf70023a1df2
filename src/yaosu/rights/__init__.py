"""Rights domain."""

from yaosu.rights import labels as _labels  # noqa: F401  (registers the labels on import)
