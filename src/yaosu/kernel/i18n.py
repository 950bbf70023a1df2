"""Locale negotiation: zh-CN by default, English on request (query, cookie, Accept-Language)."""

from __future__ import annotations

LOCALE_COOKIE = "yaosu_lang"


def negotiate(
    query: str | None, cookie: str | None, accept_language: str | None, default: str = "zh-CN"
) -> str:
    for choice in (query, cookie):
        if choice:
            return "en" if choice.lower().startswith("en") else "zh-CN"
    if accept_language:
        ranked = []
        for i, part in enumerate(accept_language.split(",")):
            lang, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            if weight > 0:  # q=0 means "not acceptable"
                ranked.append((-weight, i, lang.strip().lower()))
        for _, _, lang in sorted(ranked):
            if lang.startswith("zh"):
                return "zh-CN"
            if lang.startswith("en"):
                return "en"
    return default
