"""Background tasks' states (their kinds are labelled by the domains that run them)."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

TASK_STATE = "task_state"

register_labels(
    TASK_STATE,
    {
        "queued": N_("queued"),
        "running": N_("running"),
        "done": N_("done"),
        "failed": N_("failed"),
        "cancelled": N_("cancelled"),
    },
)
