"""What other domains and the composition layers call in the market."""

from __future__ import annotations

from yaosu.market import certificates as _certificates
from yaosu.market import dcat as _dcat  # noqa: F401  (adds listed products to the catalog)
from yaosu.market import objections as _objections
from yaosu.market import orders as _orders
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
from yaosu.market.listing import (
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
from yaosu.market.negotiation import (
    get_negotiation,
    list_negotiations,
    open_negotiation,
    respond,
)
from yaosu.market.orders import expectation_of, get_order, list_orders, steps_waiting
from yaosu.market.periods import (
    add_revenue,
    allowed_fen,
    close_period,
    current_period,
    get_period,
    list_periods,
    open_period,
)
from yaosu.market.pricing import Quote
from yaosu.market.products import (
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

# Orders, by the names the composition layers read them under.
accept_order = _orders.accept
advance_order = _orders.advance
advance_orders = _orders.advance_all
cancel_order = _orders.cancel
dispute_order = _orders.dispute
escalate_order = _orders.escalate
import_payments = _orders.import_statement  # a bank statement, and the orders it paid
place_order = _orders.place
resolve_order = _orders.resolve
settle_and_certify = _certificates.settle  # clear a day, then certify its released orders
certificate_of = _certificates.of_order
certificate_file = _certificates.certificate_file
check_certificate = _certificates.check_file
# Revenue shares' objections waiting for whoever may decide them (objections)
objections_waiting = _objections.waiting

# The ledger, clearing and settlement, bank payments (ledger, settlement, bank); data
# products, their listing, prices, negotiations and revenue periods (products, listing,
# pricing, negotiation, periods); orders, their payment, delivery, acceptance and disputes
# (orders): what the composition layers and other domains call.
__all__ = [
    "CHART",
    "MAX_FEN",
    "Quote",
    "Spec",
    "accept_order",
    "accounts_of",
    "add_revenue",
    "advance_order",
    "advance_orders",
    "allowed_fen",
    "assess",
    "balance",
    "cancel_order",
    "certificate_file",
    "certificate_of",
    "change",
    "check_certificate",
    "close_period",
    "create_product",
    "cst_day",
    "current_period",
    "dispute_order",
    "escalate_order",
    "expect_payment",
    "expectation_of",
    "expire",
    "fen",
    "findings",
    "get_negotiation",
    "get_order",
    "get_period",
    "get_product",
    "get_statement",
    "get_transfer",
    "import_payments",
    "import_statement",
    "imports",
    "last_clearable",
    "lines_of",
    "list_negotiations",
    "list_orders",
    "list_periods",
    "list_products",
    "list_statements",
    "new_reference",
    "objections_waiting",
    "open_account",
    "open_negotiation",
    "open_period",
    "parse",
    "period_bounds",
    "place_order",
    "platform_org_id",
    "post_batch",
    "post_pending",
    "product_resource",
    "product_terms",
    "publish",
    "quote",
    "reconciliation",
    "report",
    "reports_of",
    "resolve_order",
    "respond",
    "revenue_accounts_for",
    "reverse",
    "review",
    "reviews_of",
    "set_cap",
    "set_price",
    "settle",
    "settle_and_certify",
    "sources_of",
    "steps_waiting",
    "submit",
    "tariffs",
    "transfer",
    "void_pending",
    "yuan",
]
