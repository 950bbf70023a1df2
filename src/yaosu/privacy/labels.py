"""Privacy's stored codes: grades and the rules that gave them, screen states and modes,
de-identification operations, sensitive categories, and its background jobs' kinds."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

GRADE = "grade"
GRADE_RULE = "grade_rule"
SCREEN_STATE = "screen_state"
SCREEN_MODE = "screen_mode"
OPERATION = "recipe_op"
LEVEL = "recipe_level"
SENSITIVE = "sensitive_category"
JOB_KIND = "job_kind"

register_labels(
    GRADE,
    {"general": N_("General data"), "important": N_("Important data"), "core": N_("Core data")},
)
# The rule is stored as grading wrote it, in English: the texts are the codes (a test keeps
# them in step with grading.py).
GRADE_RULES = (
    N_("public-security screen flagged the data for review"),
    N_("sensitive personal information of >= 100,000 people"),
    N_("personal information of >= 1,000,000 people"),
    N_("precise locations in >= 10,000 rows"),
    N_("no rule for important or core data applies"),
)
register_labels(GRADE_RULE, {rule: rule for rule in GRADE_RULES})
register_labels(
    SCREEN_STATE, {"proposed": N_("proposed, awaiting review"), "confirmed": N_("confirmed")}
)
register_labels(SCREEN_MODE, {"fast": N_("fast scan of a sample"), "full": N_("full scan")})
register_labels(
    OPERATION,
    {
        "keep": N_("keep"),
        "drop": N_("drop"),
        "mask": N_("mask"),
        "pseudonymise": N_("pseudonymise"),
        "generalise": N_("generalise"),
        "round": N_("round"),
        "top_code": N_("top-code"),
        "mask_spans": N_("mask what was found in the text"),
    },
)
register_labels(
    LEVEL,
    {
        "year": N_("year"),
        "month": N_("year and month"),
        "year_band": N_("band of years"),
        "region_birth_year": N_("region and birth year"),
        "county": N_("down to the county"),
        "age_band": N_("band of numbers"),
    },
)
# GB/T 35273 Annex B categories (detectors.py), and what only personal data is.
register_labels(
    SENSITIVE,
    {
        "identity_document": N_("identity document"),
        "financial_account": N_("financial account"),
        "precise_location": N_("precise location"),
        "contact": N_("contact details"),
        "health": N_("medical and health"),
        "specific_identity": N_("specific identity"),
        "biometric": N_("biometric"),
        "religion": N_("religious belief"),
        "minor": N_("information of a minor under 14"),
    },
)
register_labels(
    JOB_KIND,
    {
        "privacy.screen": N_("Full scan"),
        "privacy.deidentify": N_("De-identification"),
        "privacy.preview": N_("De-identification preview"),
    },
)
