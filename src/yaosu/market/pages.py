"""Console pages of the market domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

# --- ledger ---

# --- end ledger ---

# --- products ---

# --- end products ---
