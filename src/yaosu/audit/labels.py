"""The audit log's own words: the state of its hash chain."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

INTEGRITY = "log_integrity"

register_labels(INTEGRITY, {"intact": N_("intact"), "TAMPERED": N_("TAMPERED")})
