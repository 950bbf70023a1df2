"""The market's words: product kinds, pricing classes, listing and order states, ledger codes."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels  # noqa: F401

# --- ledger ---

# --- end ledger ---

# --- products ---

# --- end products ---
