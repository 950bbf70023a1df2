"""Policy: the one decision function and its rules, one module per resource type.

``core`` holds ``decide``/``enforce``, the scope each action needs and the audit of refusals;
``decision`` the ``Resource`` and ``Decision`` a rule takes and gives; every other module the
rules of one resource type (``datasets``, ``contracts`` …), each exposing ``rule``.
"""

from yaosu.authorization.policy.core import (
    HIDE_ON_DENY,
    SCOPE_OF,
    Denial,
    decide,
    enforce,
    record_denial,
)
from yaosu.authorization.policy.datasets import (
    PROFILE_NO_VALUES,
    PROFILE_WITHHOLD_PERSONAL,
    dataset_visibility,
)
from yaosu.authorization.policy.decision import Decision, Resource, allow, deny

__all__ = [
    "HIDE_ON_DENY",
    "PROFILE_NO_VALUES",
    "PROFILE_WITHHOLD_PERSONAL",
    "SCOPE_OF",
    "Decision",
    "Denial",
    "Resource",
    "allow",
    "dataset_visibility",
    "decide",
    "deny",
    "enforce",
    "record_denial",
]
