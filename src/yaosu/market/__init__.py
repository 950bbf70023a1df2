"""Market domain: data products and their listing, prices, orders, the ledger, clearing and
settlement, transaction certificates (DESIGN.md, "market")."""

from yaosu.market import labels as _labels  # noqa: F401  (registers the labels on import)
