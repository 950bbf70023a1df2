"""The privacy domain's service: what other domains, the routes, the pages and the CLI call.

Screening and its review live in ``screening``; recipes, de-identification, previews and
derivation reports in ``derivations``. Importing this module registers both modules' background
tasks (``privacy.screen``, ``privacy.deidentify``).
"""

from __future__ import annotations

from yaosu.privacy.derivations import (
    derivation_report,
    plan,
    preview,
    pseudonym_key,
    run_deidentify,
    run_deidentify_request,
    suggested_recipe,
)
from yaosu.privacy.exposure import confirmed_screen
from yaosu.privacy.screening import (
    get_screen,
    list_screens,
    request_screen,
    review,
    reviewers_from,
    screen_resource,
    screen_version,
    shown_findings,
)
from yaosu.privacy.waiting import ScreenWork, screens_confirmed, screens_to_do

__all__ = [
    "ScreenWork",
    "confirmed_screen",
    "derivation_report",
    "get_screen",
    "list_screens",
    "plan",
    "preview",
    "pseudonym_key",
    "request_screen",
    "review",
    "reviewers_from",
    "run_deidentify",
    "run_deidentify_request",
    "screen_resource",
    "screen_version",
    "screens_confirmed",
    "screens_to_do",
    "shown_findings",
    "suggested_recipe",
]
