"""The market's words: product kinds, pricing classes, listing and order states, ledger codes."""

from __future__ import annotations  # noqa: I001

from yaosu.kernel.i18n import N_, register_labels
from yaosu.authorization.labels import RESOURCE_TYPE


# --- ledger --------------------------------------------------------------------------------------

ACCOUNT_CODE = "ledger_account"
BANK_LINE_STATE = "bank_line_state"
BANK_LAYOUT = "bank_layout"
PROBLEM = "ledger_problem"

register_labels(RESOURCE_TYPE, {"ledger": N_("Ledger")})
register_labels(
    "audit_action",
    {
        "ledger.view": N_("viewed a settlement statement"),
        "ledger.post": N_("posted a ledger transfer"),
        "ledger.expire": N_("released expired holds on buyers' funds"),
        "ledger.settle": N_("settled a day's trades"),
        "ledger.import": N_("imported a bank statement"),
        "ledger.expect": N_("recorded an expected bank receipt"),
        "ledger.reconcile": N_("reconciled the ledger with the bank"),
    },
)
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
    BANK_LAYOUT,
    {
        "icbc": N_("ICBC statement"),
        "ccb": N_("CCB statement"),
        "abc": N_("ABC statement"),
        "generic": N_("generic statement"),
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

# --- products ------------------------------------------------------------------------------------
PRODUCT_KIND = "product_kind"
PRICING_CLASS = "pricing_class"
CHARGE_UNIT = "charge_unit"
PRICE_MODEL = "price_model"
LISTING_STATE = "listing_state"
LISTING_REVIEW_STATE = "listing_review_state"
NEGOTIATION_STATE = "negotiation_state"
PERIOD_STATE = "period_state"
REPORT_KIND = "report_kind"
LISTING_RULE = "listing_rule"

register_labels(
    PRODUCT_KIND,
    {
        "query_service": N_("governed-query service"),
        "extract_subscription": N_("extract subscription"),
        "compute_service": N_("compute service"),
        "release": N_("released result or model"),
        "dataset_version": N_("whole dataset version"),
    },
)
register_labels(
    PRICING_CLASS,
    {"free": N_("free"), "capped": N_("capped public-data fee"), "market": N_("market price")},
)
register_labels(
    CHARGE_UNIT,
    {
        "count": N_("per product"),
        "calls": N_("per call"),
        "hours": N_("per hour of service"),
        "megabytes": N_("per MB"),
    },
)
register_labels(
    PRICE_MODEL,
    {
        "free": N_("free of charge"),
        "fixed": N_("fixed price"),
        "tiered": N_("progressive tiers"),
        "negotiated": N_("negotiated"),
    },
)
register_labels(
    LISTING_STATE,
    {
        "draft": N_("draft"),
        "assessing": N_("compliance assessment"),
        "in_review": N_("under review"),
        "in_notice": N_("in public notice"),
        "listed": N_("listed"),
        "suspended": N_("suspended"),
        "delisted": N_("delisted"),
        "rejected": N_("rejected"),
    },
)
register_labels(
    LISTING_REVIEW_STATE,
    {"pending": N_("pending"), "approved": N_("approved"), "rejected": N_("rejected")},
)
register_labels(
    NEGOTIATION_STATE,
    {
        "offered": N_("buyer's offer"),
        "countered": N_("seller's counter-offer"),
        "accepted": N_("accepted"),
        "declined": N_("declined"),
    },
)
register_labels(PERIOD_STATE, {"open": N_("open"), "closed": N_("closed")})
register_labels(REPORT_KIND, {"quality": N_("quality report"), "valuation": N_("valuation report")})
register_labels(
    LISTING_RULE,
    {
        "provider": N_("the data's provider"),
        "public": N_("public data: the data bureau"),
        "personal": N_("personal information: the cyberspace office"),
    },
)
register_labels(
    "resource_type",
    {
        "product": N_("Data product"),
        "negotiation": N_("Negotiation"),
        "period": N_("Revenue period"),
    },
)
register_labels(
    "audit_action",
    {
        "product.view": N_("viewed a data product"),
        "product.create": N_("drafted a data product"),
        "product.edit": N_("edited a data product"),
        "product.price": N_("set a data product's price"),
        "product.cap": N_("set a data product's cap"),
        "product.submit": N_("submitted a data product for assessment"),
        "product.assess": N_("concluded a compliance assessment"),
        "product.report": N_("attached an assessor's report"),
        "product.review": N_("reviewed a listing"),
        "product.publish": N_("listed a data product"),
        "product.suspend": N_("suspended a listing"),
        "product.resume": N_("resumed a listing"),
        "product.delist": N_("delisted a data product"),
        "product.revise": N_("sent a rejected product back to draft"),
        "negotiation.view": N_("viewed a negotiation"),
        "negotiation.open": N_("made an offer"),
        "negotiation.respond": N_("answered a negotiation"),
        "negotiation.counter": N_("made a counter-offer"),
        "negotiation.accept": N_("accepted a negotiated price"),
        "negotiation.decline": N_("declined a negotiation"),
        "period.view": N_("viewed a revenue period"),
        "period.manage": N_("managed a revenue period"),
        "period.open": N_("opened a revenue period"),
        "period.revenue": N_("counted revenue against the allowed revenue"),
        "period.close": N_("closed a revenue period"),
        "period.report": N_("generated an operator's annual report"),
    },
)

# --- orders ----------------------------------------------------------------------------------

ORDER_STATE = "order_state"
ORDER_OUTCOME = "order_outcome"
ORDER_END = "order_end"

register_labels(
    ORDER_STATE,
    {
        "contracting": N_("under review for a contract"),
        "awaiting_payment": N_("awaiting payment"),
        "delivering": N_("being delivered"),
        "accepted": N_("accepted"),
        "disputed": N_("disputed"),
        "refunded": N_("refunded"),
        "cancelled": N_("cancelled"),
    },
)
register_labels(
    ORDER_END,
    {
        "accepted_by_buyer": N_("accepted by the buyer"),
        "accepted_automatically": N_("accepted automatically after the stated days"),
        "released_on_decision": N_("dispute decided: the seller is paid"),
        "refunded_on_decision": N_("dispute decided: the buyer is refunded"),
        "hold_lapsed": N_("the hold timed out with the dispute open: the buyer is refunded"),
        "cancelled_by_buyer": N_("cancelled by the buyer"),
        "request_rejected": N_("its access request was rejected"),
        "request_withdrawn": N_("its access request was withdrawn"),
        "request_expired": N_("its access request's reviews were overdue"),
        "contract_declined": N_("the buyer declined the contract's terms"),
        "contract_revoked": N_("its contract was revoked"),
        "contract_expired": N_("its contract expired before delivery"),
    },
)
register_labels(ORDER_OUTCOME, {"release": N_("pay the seller"), "refund": N_("refund the buyer")})
register_labels(RESOURCE_TYPE, {"order": N_("Order")})
register_labels(
    "audit_action",
    {
        "order.view": N_("viewed an order"),
        "order.create": N_("placed an order"),
        "order.advance": N_("moved an order to its next step"),
        "order.cancel": N_("cancelled an order"),
        "order.accept": N_("accepted an order's delivery"),
        "order.dispute": N_("disputed an order's delivery"),
        "order.escalate": N_("took an order's dispute to a regulator"),
        "order.resolve": N_("decided an order's dispute"),
        "order.certify": N_("issued a transaction certificate"),
    },
)


# --- revenue shares ------------------------------------------------------------------------------

SHARE_STATE = "share_state"
SHARE_KIND = "share_kind"
SHARE_ROLE = "share_role"
SHARE_METHOD = "share_method"
OBJECTION_STATE = "share_objection_state"

register_labels(
    SHARE_STATE,
    {
        "held": N_("held for objections"),
        "frozen": N_("frozen by an objection"),
        "paid": N_("paid"),
        "voided": N_("returned to the seller"),
    },
)
register_labels(
    SHARE_KIND,
    {
        "role": N_("role share"),
        "contributor": N_("contributor's share"),
        "royalty": N_("royalty from a derived product"),
        "seller": N_("the seller's rest"),
    },
)
register_labels(
    SHARE_ROLE,
    {
        "collection": N_("collection"),
        "deidentification": N_("de-identification"),
        "cleaning": N_("cleaning"),
        "labelling": N_("labelling"),
        "modelling": N_("modelling"),
        "other": N_("other processing"),
    },
)
register_labels(
    SHARE_METHOD,
    {
        "declared": N_("declared shares (by contract)"),
        "volume": N_("rows used by the delivered answers"),
        "shapley": N_("Shapley value of the model's validation score"),
        "leave_one_out": N_("leave-one-out value"),
        "knn": N_("KNN-Shapley value"),
        "as_shared": N_("as the upstream sale was shared"),
    },
)
register_labels(
    OBJECTION_STATE,
    {
        "open": N_("open"),
        "escalated": N_("with a regulator"),
        "upheld": N_("upheld"),
        "dismissed": N_("dismissed"),
    },
)
register_labels(
    "audit_action",
    {
        "order.share": N_("split an order's revenue among its contributors"),
        "share.pay": N_("paid revenue shares whose objection window closed"),
        "share.object": N_("objected to a revenue share"),
        "share.escalate": N_("took an objection to a regulator"),
        "share.decide": N_("decided an objection to a revenue share"),
        "share.view": N_("viewed a contributor statement"),
        "product.value": N_("valued a product's contributors"),
        "product.sharing": N_("set a product's sharing rule"),
    },
)
register_labels(RESOURCE_TYPE, {"share": N_("Revenue share")})
