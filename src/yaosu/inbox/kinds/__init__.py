"""The built-in inbox kinds, one module per domain they read; importing this registers them."""

from yaosu.inbox.kinds import authorization, privacy, rights, tasks

__all__ = ["authorization", "privacy", "rights", "tasks"]
