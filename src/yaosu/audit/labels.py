"""The audit log's own words: the state of its hash chain, what each entry's action was, and
what the offline verifier found wrong with an entry."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

INTEGRITY = "log_integrity"
ACTION = "audit_action"
FLAW = "audit_flaw"

register_labels(INTEGRITY, {"intact": N_("intact"), "TAMPERED": N_("TAMPERED")})

# Every action an entry can record: the changes and accesses each domain writes, and the
# actions of decide() that a refusal records (tests/audit/test_pages.py holds the census).
register_labels(
    ACTION,
    {
        # accounts
        "session.login": N_("logged in"),
        "session.logout": N_("logged out"),
        "session.csrf": N_("sent a form without its security token"),
        "org.create": N_("created an organisation"),
        "org.view": N_("viewed an organisation"),
        "org.manage": N_("managed an organisation"),
        "user.create": N_("created a user"),
        "token.create": N_("created an API token"),
        "token.revoke": N_("revoked an API token"),
        # catalog
        "dataset.create": N_("registered a dataset"),
        "dataset.edit": N_("edited a dataset"),
        "dataset.update": N_("changed a dataset's description"),
        "dataset.version.create": N_("uploaded a version"),
        "dataset.open": N_("changed a dataset's openness"),
        "dataset.view": N_("viewed a dataset"),
        "dataset.read": N_("read a dataset's rows"),
        "dataset.profile": N_("viewed a column profile"),
        "dataset.download": N_("downloaded a dataset"),
        "dataset.preview": N_("previewed a dataset"),
        "dataset.dictionary": N_("edited a data dictionary"),
        "dataset.request": N_("asked to use a dataset"),
        # privacy
        "dataset.screen": N_("asked for a privacy screen"),
        "dataset.review": N_("reviewed a privacy screen"),
        "screen.view": N_("viewed a privacy screen"),
        "privacy.screen": N_("screened a version for personal information"),
        "privacy.review": N_("confirmed or corrected a screen"),
        "privacy.preview": N_("previewed a de-identification"),
        "privacy.deidentify": N_("de-identified a version"),
        "privacy.unit.declare": N_("declared a privacy unit"),
        # authorization
        "purpose.set": N_("set a purpose's pricing"),
        "purpose.manage": N_("managed the purposes"),
        "request.submit": N_("submitted an access request"),
        "request.view": N_("viewed an access request"),
        "request.review": N_("reviewed an access request"),
        "request.withdraw": N_("withdrew an access request"),
        "request.expire": N_("an access request expired"),
        "requests.read": N_("opened the requests"),
        "reviews.read": N_("opened the reviews"),
        "contract.create": N_("a contract was offered to the data user"),
        "contract.view": N_("viewed a contract"),
        "contract.use": N_("used a contract"),
        "contract.accept": N_("accepted a contract's terms"),
        "contract.decline": N_("declined a contract's terms"),
        "contract.manage": N_("managed a contract"),
        "contract.import": N_("imported a contract"),
        "contract.suspend": N_("suspended a contract"),
        "contract.resume": N_("resumed a contract"),
        "contract.revoke": N_("revoked a contract"),
        # access
        "query.run": N_("ran a governed query"),
        "query.result": N_("received a query's answer"),
        "query.refund": N_("was refunded for a query"),
        "query.failed": N_("a governed query failed"),
        "query.export": N_("downloaded a query's answer"),
        "extract.create": N_("made a de-identified extract"),
        "extract.download": N_("downloaded an extract"),
        # rights
        "right.apply": N_("applied to register a right"),
        "right.view": N_("viewed a right"),
        "right.accept": N_("accepted a registration for review"),
        "right.review": N_("reviewed a registration"),
        "right.register": N_("registered a right"),
        "right.object": N_("objected to a registration"),
        "right.resolve": N_("resolved an objection"),
        "registration.view": N_("viewed a registration"),
        "registration.decide": N_("decided a registration"),
        "registration.object": N_("objected to a registration"),
        # background jobs
        "job.create": N_("started a background job"),
        "job.view": N_("viewed a background job"),
        "job.cancel": N_("cancelled a background job"),
        "job.recover": N_("restarted a background job after its worker died"),
        "job.done": N_("a background job finished"),
        "job.failed": N_("a background job failed"),
        "job.cancelled": N_("a background job was cancelled"),
        # the console's own sections
        "home.datasets": N_("opened the home page"),
        "home.usable": N_("opened the home page"),
        "home.openings": N_("opened the home page"),
        "home.oversight": N_("opened the oversight overview"),
        "home.health": N_("opened the platform's health"),
        # the audit log itself
        "audit.view": N_("read the audit log"),
        "audit.export": N_("exported the audit log"),
        "audit.checkpoint": N_("signed a checkpoint"),
        "audit.witness": N_("acted as a witness"),
        "audit.witness.register": N_("registered a witness key"),
        "audit.cosign": N_("cosigned a checkpoint"),
    },
)

# What ``audit.verify`` finds at the first bad entry (``VerificationError.kind``).
register_labels(
    FLAW,
    {
        "edited": N_("edited"),
        "deleted": N_("deleted"),
        "reordered": N_("reordered"),
        "inserted": N_("inserted"),
        "rewritten": N_("changed, with its tree hashes rewritten"),
    },
)
