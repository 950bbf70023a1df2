"""Who is acting: the one value every service function, decision and audit entry takes."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    id: str  # user id, or "system:<os user>" for the local operator
    username: str
    org_id: str | None
    org_kinds: frozenset[str] = frozenset()
    department: str | None = None
    role: str | None = None
    # None means "all the user's rights" (console session, local CLI); a token narrows them.
    scopes: frozenset[str] | None = None
    via: str = "session"  # session | token | cli
    token_id: str | None = field(default=None, compare=False)

    @property
    def is_system(self) -> bool:
        return self.via == "cli" and self.id.startswith("system:")

    def has_kind(self, kind: str) -> bool:
        return kind in self.org_kinds

    @property
    def is_platform_admin(self) -> bool:
        return self.has_kind("platform") and self.role == "admin"


def system_actor() -> Actor:
    """The local operator running the CLI on the server: trusted, and still audited by name."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(id=f"system:{who}", username=who, org_id=None, via="cli")
