"""``yaosu market ...``."""

from __future__ import annotations

import typer

app = typer.Typer(help="数据交易 / the market", no_args_is_help=True)

# --- ledger ---

# --- end ledger ---

# --- products ---

# --- end products ---
