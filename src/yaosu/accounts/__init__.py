"""Accounts domain."""

from yaosu.accounts import labels as _labels  # noqa: F401  (registers the labels on import)
