"""The market's words: product kinds, pricing classes, listing and order states, ledger codes."""

from __future__ import annotations  # noqa: I001

from yaosu.kernel.i18n import N_, register_labels  # noqa: F401, RUF100

# --- ledger ---
from yaosu.authorization.labels import RESOURCE_TYPE

ACCOUNT_CODE = "ledger_account"
BANK_LINE_STATE = "bank_line_state"
PROBLEM = "ledger_problem"

register_labels(RESOURCE_TYPE, {"ledger": N_("Ledger")})
register_labels(
    ACCOUNT_CODE,
    {
        "bank": N_("bank account"),
        "escrow": N_("escrow (buyer funds held)"),
        "revenue": N_("revenue"),
        "operator_fee": N_("operator fee"),
        "service_fee": N_("platform service fee"),
        "payable": N_("payable"),
        "receivable": N_("receivable"),
    },
)
register_labels(
    BANK_LINE_STATE,
    {"matched": N_("matched"), "partial": N_("partly paid"), "unmatched": N_("unmatched")},
)
register_labels(
    PROBLEM,
    {
        "posted_unmatched": N_("an unmatched line was posted"),
        "missing_transfer": N_("a matched line has no transfer"),
        "missing_line": N_("a bank receipt has no bank line"),
    },
)
# --- end ledger ---

# --- products ---

# --- end products ---
