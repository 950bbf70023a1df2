"""Lineage: every derivation as OpenLineage run events, stored beside the data it describes."""

from yaosu.lineage import labels as _labels  # noqa: F401  (registers the labels on import)
