"""HTTP routes of the market domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["market"])

# --- ledger ---

# --- end ledger ---

# --- products ---

# --- end products ---
