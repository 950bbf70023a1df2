"""The built-in inbox kinds, one module per domain they read; importing this registers them."""

from yaosu.inbox.kinds import authorization, compute, market, privacy, rights, tasks

__all__ = ["authorization", "compute", "market", "privacy", "rights", "tasks"]
