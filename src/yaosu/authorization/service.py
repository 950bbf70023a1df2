"""The authorization domain's service: what other domains, and this domain's routes, pages
and CLI, call. The work is done in ``purposes``, ``requests`` (requests, their routing and
reviews) and ``contracts`` (contracts and their use), ``responsibility`` (who answers for what under a
contract); the decision function is ``policy``."""

from yaosu.authorization.contracts import (
    accept,
    change_status,
    contract_resource,
    decline,
    duties_for,
    get_contract,
    list_contracts,
    refund,
    status_of,
    use,
)
from yaosu.authorization.purposes import active_purpose, list_purposes, set_purpose
from yaosu.authorization.requests import (
    count_requests,
    get_request,
    list_requests,
    listing_reviewers,
    request_resource,
    review,
    reviewing_orgs,
    reviews_of,
    row_filter_problems,
    submit_request,
    withdraw,
)
from yaosu.authorization.responsibility import (
    contract_boundaries,
    named_algorithm,
    personal_in,
    register_algorithm_finder,
)
from yaosu.authorization.waiting import (
    contracts_to_watch,
    count_contracts_to_watch,
    count_reviews_waiting,
    requests_ended,
    reviews_decided,
    reviews_waiting,
)

__all__ = [
    "accept",
    "active_purpose",
    "change_status",
    "contract_boundaries",
    "contract_resource",
    "contracts_to_watch",
    "count_contracts_to_watch",
    "count_requests",
    "count_reviews_waiting",
    "decline",
    "duties_for",
    "get_contract",
    "get_request",
    "list_contracts",
    "list_purposes",
    "list_requests",
    "listing_reviewers",
    "named_algorithm",
    "personal_in",
    "refund",
    "register_algorithm_finder",
    "request_resource",
    "requests_ended",
    "review",
    "reviewing_orgs",
    "reviews_decided",
    "reviews_of",
    "reviews_waiting",
    "row_filter_problems",
    "set_purpose",
    "status_of",
    "submit_request",
    "use",
    "withdraw",
]
