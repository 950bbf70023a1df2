"""What other domains and the composition layers call in the market."""

from __future__ import annotations

# --- ledger ---
# The ledger, clearing and settlement, bank payments (issue 14): what orders, the tasks
# domain and the composition layers call. The work is in ``ledger``, ``settlement`` and
# ``bank``; this block re-exports it.
from yaosu.market.bank import (
    expect_payment,
    import_statement,
    imports,
    lines_of,
    new_reference,
    parse,
)
from yaosu.market.ledger import (
    CHART,
    MAX_FEN,
    Spec,
    accounts_of,
    balance,
    expire,
    fen,
    get_transfer,
    open_account,
    platform_org_id,
    post_batch,
    post_pending,
    revenue_accounts_for,
    reverse,
    transfer,
    void_pending,
    yuan,
)
from yaosu.market.settlement import (
    cst_day,
    get_statement,
    last_clearable,
    list_statements,
    period_bounds,
    reconciliation,
    settle,
)

__all__ = [  # the products block extends it with `__all__ += [...]`
    "CHART",
    "MAX_FEN",
    "Spec",
    "accounts_of",
    "balance",
    "cst_day",
    "expect_payment",
    "expire",
    "fen",
    "get_statement",
    "get_transfer",
    "import_statement",
    "imports",
    "last_clearable",
    "lines_of",
    "list_statements",
    "new_reference",
    "open_account",
    "parse",
    "period_bounds",
    "platform_org_id",
    "post_batch",
    "post_pending",
    "reconciliation",
    "revenue_accounts_for",
    "reverse",
    "settle",
    "transfer",
    "void_pending",
    "yuan",
]
# --- end ledger ---

# --- products ---

# --- end products ---
