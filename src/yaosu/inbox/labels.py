"""The inbox's words: its sections, and the kinds of item in them."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

SECTION = "inbox_section"
KIND = "inbox_kind"

register_labels(
    SECTION,
    {
        "waiting": N_("Waiting for you"),
        "watch": N_("Needs your attention"),
        "news": N_("Recent news"),
        "done": N_("Handled"),
    },
)
register_labels(
    KIND,
    {
        "review_request": N_("Access request"),
        "review_decided": N_("Access request"),
        "request_ended": N_("Your request"),
        "contract_watch": N_("Contract"),
        "contract_offer": N_("Contract"),
        "screen_screen": N_("Privacy screening"),
        "screen_confirm": N_("Privacy screening"),
        "screen_confirmed": N_("Privacy screening"),
        "registration_accept": N_("Rights registration"),
        "registration_review": N_("Rights registration"),
        "registration_issue": N_("Rights registration"),
        "registration_resolve": N_("Objection"),
        "task_failed": N_("Background task"),
        "task_ended": N_("Background task"),
        "order_pay": N_("Order"),
        "order_accept": N_("Order"),
        "order_decide": N_("Order dispute"),
        "share_objection": N_("Revenue share objection"),
    },
)
