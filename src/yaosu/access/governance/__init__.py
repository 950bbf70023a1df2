"""Governed SQL as a package of rules: ``pipeline`` composes them (its ``RULES``), one rule
per module. What the rest of Yaosu uses is re-exported here."""

from yaosu.access.governance.model import Aggregate, Governed, Grant, units_of
from yaosu.access.governance.order import apply_order
from yaosu.access.governance.pipeline import RULES, govern
from yaosu.access.governance.view import policy_view

__all__ = [
    "RULES",
    "Aggregate",
    "Governed",
    "Grant",
    "apply_order",
    "govern",
    "policy_view",
    "units_of",
]
