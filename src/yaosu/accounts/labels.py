"""Organisation kinds and member roles, as people read them."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

ORG_KIND = "org_kind"
ROLE = "role"
RESPONSIBILITY = "responsibility"  # a part in responsibility boundaries (accounts.responsibility)
RESPONSIBILITY_DUTY = "responsibility_duty"
RESPONSIBILITY_RULE = "responsibility_rule"

register_labels(
    ORG_KIND,
    {
        "provider": N_("Data provider"),
        "operator": N_("Authorised operator"),
        "consumer": N_("Data user"),
        "regulator": N_("Regulator"),
        "platform": N_("Platform operator"),
        "assessor": N_("Assessor"),
    },
)
register_labels(
    ROLE, {"admin": N_("Administrator"), "member": N_("Member"), "reviewer": N_("Reviewer")}
)
register_labels(
    RESPONSIBILITY,
    {
        "provider": N_("data provider"),
        "seller": N_("data product operator"),
        "operator": N_("platform operator"),
        "algorithm_provider": N_("algorithm service provider"),
        "consumer": N_("data user"),
    },
)
register_labels(
    RESPONSIBILITY_DUTY,
    {
        "provider.source": N_(
            "the data's lawful source: it was collected lawfully and its holding right is registered"
        ),
        "provider.security": N_(
            "the data's security as its handler: a security management system, the data's classification and grade, and the measures they call for"
        ),
        "provider.personal": N_(
            "telling the individuals, and holding their separate consent or another lawful basis, before their personal information is provided"
        ),
        "provider.approval": N_(
            "approving each algorithm, by its hash, before it runs on the provider's data"
        ),
        "seller.operation": N_(
            "operating the product only within its registered product-operation right and the purposes that right covers"
        ),
        "seller.security": N_(
            "the product's data security, a true description of it, and its delivery to the buyer"
        ),
        "operator.intermediary": N_(
            "asking each provider for its data's source, checking both parties' identities, and keeping the review and transaction records"
        ),
        "operator.security": N_(
            "the governed use where the data is: the query rules, the sandbox and its output checks, and the audit log of every decision"
        ),
        "operator.circulation": N_(
            "the exchange's rules: a compliance assessment before listing, and suspending a use that breaks its terms"
        ),
        "algorithm_provider.safety": N_(
            "the main responsibility for the algorithm's safety: review of its mechanism, ethics review, security assessment and monitoring"
        ),
        "algorithm_provider.filing": N_(
            "filing the algorithm and keeping the filing current: its filing number is shown wherever it is used"
        ),
        "consumer.purpose": N_(
            "using the data only for the agreed purpose and within the terms agreed: fields, term, limits and territory"
        ),
        "consumer.personal": N_(
            "processing personal information only within the purpose, method and kinds the individuals were told of"
        ),
        "consumer.security": N_("the security of what is released to it, as a data handler"),
    },
)
# The rules the duties cite (责任依据).
register_labels(
    RESPONSIBILITY_RULE,
    {
        "dsl_27": N_("Data Security Law, Article 27"),
        "dsl_32": N_("Data Security Law, Article 32"),
        "dsl_33": N_("Data Security Law, Article 33"),
        "pipl_23": N_("Personal Information Protection Law, Article 23"),
        "ndsr_9": N_("Regulations on Network Data Security Management, Article 9"),
        "data20_rights": N_(
            "the Twenty Data Measures: data property rights (the product-operation right)"
        ),
        "data20_circulation": N_(
            "the Twenty Data Measures: the circulation and trading of data elements"
        ),
        "arr_7": N_(
            "Provisions on the Administration of Algorithmic Recommendation in Internet Information Services, Article 7"
        ),
        "arr_24": N_(
            "Provisions on the Administration of Algorithmic Recommendation in Internet Information Services, Article 24"
        ),
        "terms": N_("the terms agreed (the contract or licence)"),
    },
)
