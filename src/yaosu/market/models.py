"""The market's tables."""

from __future__ import annotations

# --- ledger ---

# --- end ledger ---

# --- products ---

# --- end products ---
