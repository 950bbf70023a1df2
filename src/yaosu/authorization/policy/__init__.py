"""Policy: the one decision function and its rules, one module per resource type.

``core`` holds ``decide``/``enforce``, their SQL form ``visible`` for listings, the scope each
action needs and the audit of refusals; ``decision`` the ``Resource`` (and its SQL twin
``Rows``) and ``Decision`` a rule takes and gives; every other module the rules of one
resource type (``datasets``, ``contracts`` …), each exposing ``rule`` and, for a resource
that is listed, ``where``: the view rule as a clause over ``Rows``.
"""

from yaosu.authorization.policy.core import (
    HIDE_ON_DENY,
    SCOPE_OF,
    Denial,
    decide,
    enforce,
    record_denial,
    visible,
)
from yaosu.authorization.policy.datasets import PROFILE_NO_VALUES, PROFILE_WITHHOLD_PERSONAL
from yaosu.authorization.policy.decision import Decision, Resource, Rows, allow, deny

__all__ = [
    "HIDE_ON_DENY",
    "PROFILE_NO_VALUES",
    "PROFILE_WITHHOLD_PERSONAL",
    "SCOPE_OF",
    "Decision",
    "Denial",
    "Resource",
    "Rows",
    "allow",
    "decide",
    "deny",
    "enforce",
    "record_denial",
    "visible",
]
