"""The one statement of responsibility boundaries (责任边界): every duty is translated and
cites a translated rule; the duties for personal information and for a filed algorithm come
only when they apply."""

from __future__ import annotations

from yaosu.accounts import responsibility
from yaosu.kernel.i18n import label


def test_every_duty_and_rule_reads_in_chinese() -> None:
    for part, duty, rule, _when in responsibility.DUTIES:
        assert part in responsibility.PARTS and duty.startswith(f"{part}.")
        for kind, code in (("responsibility_duty", duty), ("responsibility_rule", rule)):
            message = label(kind, code)
            assert message.context == kind  # registered, not shown raw
            assert message.render("zh-CN") != message.render("en"), code


def test_duties_that_apply_only_sometimes() -> None:
    plain = [d["duty"] for d in responsibility.duties_of("provider")]
    assert plain == ["provider.source", "provider.security"]
    both = [d["duty"] for d in responsibility.duties_of("provider", personal=True, algorithm=True)]
    assert both == [
        "provider.source",
        "provider.security",
        "provider.personal",
        "provider.approval",
    ]
    (personal,) = [
        d for d in responsibility.duties_of("consumer", personal=True) if d["rule"] == "pipl_23"
    ]
    assert personal["rule_text"]["zh"] == "《个人信息保护法》第二十三条"
