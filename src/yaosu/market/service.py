"""What other domains and the composition layers call in the market."""

from __future__ import annotations

from yaosu.market import dcat as _dcat  # noqa: F401  (adds listed products to the catalog)
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
from yaosu.market.listing import (  # noqa: F401  (re-exported)
    assess,
    change,
    findings,
    publish,
    report,
    reports_of,
    review,
    reviews_of,
    submit,
)
from yaosu.market.negotiation import (  # noqa: F401  (re-exported)
    get_negotiation,
    list_negotiations,
    open_negotiation,
    respond,
)
from yaosu.market.periods import (  # noqa: F401  (re-exported)
    add_revenue,
    allowed_fen,
    close_period,
    current_period,
    get_period,
    list_periods,
    open_period,
)
from yaosu.market.pricing import Quote  # noqa: F401
from yaosu.market.products import (  # noqa: F401  (re-exported)
    create_product,
    get_product,
    list_products,
    product_resource,
    product_terms,
    quote,
    set_cap,
    set_price,
    sources_of,
    tariffs,
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

# --- ledger --------------------------------------------------------------------------------------
# The ledger, clearing and settlement, bank payments (issue 14): what orders, the tasks
# domain and the composition layers call. The work is in ``ledger``, ``settlement`` and
# ``bank``; this block re-exports it.

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

# --- products ------------------------------------------------------------------------------------
# Data products, their listing, prices, negotiations and revenue periods: the work is in
# products, listing, pricing, negotiation and periods; these are what others call.
PRODUCT_SERVICES = "products, listing, pricing, negotiation, periods"

PRODUCTS_API = [
    "Quote",
    "add_revenue",
    "allowed_fen",
    "assess",
    "change",
    "close_period",
    "create_product",
    "current_period",
    "findings",
    "get_negotiation",
    "get_period",
    "get_product",
    "list_negotiations",
    "list_periods",
    "list_products",
    "open_negotiation",
    "open_period",
    "product_resource",
    "product_terms",
    "publish",
    "quote",
    "report",
    "reports_of",
    "respond",
    "review",
    "reviews_of",
    "set_cap",
    "set_price",
    "sources_of",
    "submit",
    "tariffs",
    "yuan",
]
