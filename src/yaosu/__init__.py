"""Yaosu (要素): a trusted data-element exchange."""

from __future__ import annotations

__version__ = "0.1.0"

from yaosu.client import Client, YaosuClientError

__all__ = ["Client", "YaosuClientError", "__version__"]
