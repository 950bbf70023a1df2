"""What happened, and what comes next: the one way a console page answers a form that took
effect.

The form's handler redirects with ``render.done(target, code)``, which adds ``?done=<code>``;
the page it lands on shows, above its own content (base.html includes next_step.html), the
step registered here under that code: a sentence on what happened, one on what comes next,
and a link to where that is done, its path filled from the landing page's own path
parameters. Only registered codes show anything, and nothing the link carries becomes text
(unlike ``?error=``, which carries a rendered message).

A step may read differently when the reader can take the next step itself: ``yours`` names
the action (asked in the landing page's ``can`` map, built from ``decide``) and its words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class Next:
    """What comes next: a sentence (a msgid) and, optionally, a link (path template, words)."""

    text: str
    href: str = ""
    link: str = ""


@dataclass(frozen=True)
class Step:
    happened: str  # msgid
    next: Next
    yours: tuple[str, Next] | None = None  # (action, what comes next when ``can[action]``)


STEPS: dict[str, Step] = {
    # catalog
    "dataset.created": Step(
        N_("The dataset is registered."),
        Next(N_("Next: upload its first version, a file with its data.")),
    ),
    "dictionary.saved": Step(
        N_("The data dictionary is saved."),
        Next(
            N_(
                "Private answers now release every group of the columns whose public values you listed; the dataset page shows the dictionary to everyone who may see the dataset."
            )
        ),
    ),
    "version.uploaded": Step(
        N_("The file is stored as a new version."),
        Next(
            N_(
                "Next: screen it for personal information. Nobody outside your organisation can use it until a reviewer confirms the screen."
            ),
            "/datasets/{dataset_id}/privacy",
            N_("Screen it"),
        ),
    ),
    # privacy
    "screen.done": Step(
        N_("The screen is done: its proposal is below."),
        Next(
            N_(
                "Next: a reviewer of your organisation confirms or corrects it; it waits in their inbox."
            )
        ),
        ("dataset.review", Next(N_("Next: check the proposal below, then confirm or correct it."))),
    ),
    "screen.queued": Step(
        N_("The full screen runs in the background; its progress is shown below."),
        Next(
            N_(
                "When it ends, a reviewer of your organisation confirms it; your inbox tells you when it is done."
            ),
            "/inbox",
            N_("Inbox"),
        ),
    ),
    "screen.confirmed": Step(
        N_("The screen is confirmed."),
        Next(
            N_(
                "Next: data users can find the dataset and, if it is conditionally open, request it. Register your rights over it if you have not yet."
            ),
            "/rights",
            N_("Rights"),
        ),
    ),
    "screen.unit_needed": Step(
        N_("The screen is confirmed: the dataset holds personal information."),
        Next(
            N_(
                "Next: declare what one person is in it (its privacy unit). Until then no private answer about it is given, and a contract for it cannot be used."
            ),
            "/datasets/{dataset_id}/privacy-unit",
            N_("Declare the privacy unit"),
        ),
    ),
    "unit.declared": Step(
        N_("The privacy unit is declared."),
        Next(
            N_(
                "Differential privacy now counts one person as declared: every private answer about this dataset protects each person, not each row."
            ),
            "/datasets/{dataset_id}/dictionary",
            N_("Describe its columns in the data dictionary"),
        ),
    ),
    "deidentified": Step(
        N_("The de-identified version is stored and screened."),
        Next(
            N_("Next: a reviewer of your organisation confirms its screen."),
            "/datasets/{dataset_id}/privacy",
            N_("Privacy screening"),
        ),
    ),
    "deidentify.queued": Step(
        N_("De-identification runs in the background; its progress is shown below."),
        Next(
            N_("When it ends, the new version is screened and waits for a reviewer's confirmation.")
        ),
    ),
    # authorization
    "request.submitted": Step(
        N_("Your request is submitted."),
        Next(
            N_(
                "Next: each reviewer listed below decides. A contract is made once all have approved; their decisions show here and in your inbox."
            ),
            "/inbox",
            N_("Inbox"),
        ),
    ),
    "review.recorded": Step(
        N_("Your decision is recorded."),
        Next(
            N_(
                "Next: the other reviewers listed below decide; the contract is made once all have approved."
            ),
            "/inbox",
            N_("Back to your inbox"),
        ),
    ),
    "review.rejected": Step(
        N_("The request is rejected."),
        Next(
            N_("The requester sees your reasons; nothing more is needed from you."),
            "/inbox",
            N_("Back to your inbox"),
        ),
    ),
    "contract.made": Step(
        N_("Every reviewer approved: the contract is offered to the data user."),
        Next(
            N_(
                "It comes into force when the data user's admin accepts its terms; every use is then checked against them, debited and audited."
            ),
            "/inbox",
            N_("Back to your inbox"),
        ),
    ),
    "contract.accepted": Step(
        N_("You accepted the terms: the contract is in force."),
        Next(
            N_(
                "You can use it now: run a governed query; each one is checked against these terms and debited."
            ),
            "/query?contract={contract_id}",
            N_("Run a governed query"),
        ),
    ),
    "contract.declined": Step(
        N_("You declined the contract: it will not come into force."),
        Next(N_("Submit a new request if you still need the data.")),
    ),
    "request.withdrawn": Step(
        N_("The request is withdrawn."),
        Next(N_("Its pending reviews are void; submit a new request if you still need the data.")),
    ),
    "contract.suspend": Step(
        N_("The contract is suspended."),
        Next(N_("Every use is refused until it is resumed.")),
    ),
    "contract.resume": Step(
        N_("The contract is resumed."),
        Next(N_("The data user may use it again within its terms.")),
    ),
    "contract.revoke": Step(
        N_("The contract is revoked."),
        Next(N_("No use is possible any more; the data user needs a new request.")),
    ),
    # rights
    "rights.applied": Step(
        N_("Your application is filed."),
        Next(
            N_(
                "Next: the platform accepts it and reviews it formally; then it is published for public notice, and registered if no objection stands."
            )
        ),
    ),
    "registration.accepted": Step(
        N_("The application is accepted."),
        Next(N_("Next: its formal review, below.")),
    ),
    "registration.in_notice": Step(
        N_("The formal review passed: the public notice is open."),
        Next(
            N_(
                "Anyone may object until the notice ends; then it waits in your inbox to be registered."
            ),
            "/inbox",
            N_("Back to your inbox"),
        ),
    ),
    "registration.rejected": Step(
        N_("The application is rejected."),
        Next(N_("The applicant sees your note."), "/inbox", N_("Back to your inbox")),
    ),
    "registration.registered": Step(
        N_("The right is registered and its certificate issued."),
        Next(
            N_("Anyone can check the certificate on the verification page."),
            "/certificates/verify",
            N_("Verify a certificate"),
        ),
    ),
    "objection.filed": Step(
        N_("Your objection is filed."),
        Next(N_("The registration cannot be completed until the platform resolves it.")),
    ),
    "objection.resolved": Step(
        N_("The objection is resolved."),
        Next(
            N_("An upheld objection rejects the registration; a dismissed one lets it proceed."),
            "/inbox",
            N_("Back to your inbox"),
        ),
    ),
    # the market's ledger
    "ledger.imported": Step(
        N_("The bank statement is imported and its payments matched."),
        Next(N_("Unmatched lines stay listed below until a person decides what they pay for.")),
    ),
    # the market's orders
    "order.placed": Step(
        N_("The order is placed: its access request went to the reviewers the data needs."),
        Next(
            N_(
                "Once they approve, accept the contract's terms; a paid order then shows its payment reference."
            ),
        ),
    ),
    "order.changed": Step(
        N_("The order moved on: its status and the money are below."),
        Next(N_("Settlement statements show the money once the day is cleared.")),
    ),
    "ledger.settled": Step(
        N_("The day is settled: each participant's statement is below."),
        Next(
            N_("The reconciliation checks them against the ledger and the bank."),
            "/market/reconciliation",
            N_("Open the reconciliation"),
        ),
    ),
}


def landing(request: Request, can: Mapping[str, bool]) -> dict[str, Any] | None:
    """The step to show on this page (its ``?done=`` code), as msgids and a filled-in link."""
    step = STEPS.get(request.query_params.get("done") or "")
    if step is None:
        return None
    after = step.next
    if step.yours is not None and can.get(step.yours[0]):
        after = step.yours[1]
    params = {k: quote(str(v), safe="") for k, v in request.path_params.items()}
    try:
        href = after.href.format(**params)
    except (KeyError, IndexError):  # a step shown on a page without the parameter
        href = ""
    return {"happened": step.happened, "next": after.text, "href": href, "link": after.link}
