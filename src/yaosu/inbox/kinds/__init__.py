"""The built-in inbox kinds, one module per domain they read; importing this registers them."""

from yaosu.inbox.kinds import authorization, market, privacy, rights, tasks

__all__ = ["authorization", "market", "privacy", "rights", "tasks"]
