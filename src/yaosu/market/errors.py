"""The market's own error: a step that the object's state does not allow yet, or any more,
for a reason other than its state machine (that is ``IllegalTransition``)."""

from __future__ import annotations

from yaosu.kernel.errors import YaosuError


class NotNow(YaosuError):
    code = "NOT_NOW"
    status = 409
    en = "{what} {id} cannot take this step now: {why}"
