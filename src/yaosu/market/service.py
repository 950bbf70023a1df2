"""What other domains and the composition layers call in the market."""

from __future__ import annotations

# --- ledger ---

# --- end ledger ---

# --- products ---

# --- end products ---
