"""The market's API bodies and answers."""

from __future__ import annotations

# --- ledger ---

# --- end ledger ---

# --- products ---

# --- end products ---
