"""The one localisation: every user-facing text is a gettext message id (the English source)
with named parameters, resolved in the reader's language at the edge.

- ``_("Dataset {id} has no version {number}.", id=..., number=...)`` makes a ``Message``;
  services raise and return these, never text glued in two languages.
- ``Message.render(locale)`` translates the id and then its parameters (a parameter may itself
  be a ``Message``, or a list of them) and fills the template.
- Each package keeps its catalog beside its code, as Django apps do:
  ``src/yaosu/<package>/locale/zh_CN/LC_MESSAGES/messages.po``; ``translations(locale)``
  merges them all. English is the source language and needs no catalog.
- Codes stored in the database (states, kinds, grades…) are shown through ``label(kind, code)``;
  each domain registers its own with ``register_labels`` (and states get theirs from their
  ``StrEnum``), so two domains can both have a "pending" that reads differently.

Locale negotiation is here too: ``negotiate`` for a request (query, cookie, Accept-Language),
``cli_locale`` for a terminal (YAOSU_LANG, then LC_ALL / LANG).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_COOKIE = "yaosu_lang"
LOCALES = ("zh-CN", "en")
BABEL_LOCALES = {"zh-CN": "zh_CN", "en": "en"}
PACKAGE = Path(__file__).resolve().parent.parent  # src/yaosu


def catalog_paths(code: str = "zh_CN") -> list[Path]:
    """Every package's catalog for one Babel locale code, the shared one first."""
    relative = Path("locale") / code / "LC_MESSAGES" / "messages.po"
    paths = [PACKAGE / relative, *sorted(PACKAGE.glob(f"*/{relative}"))]
    paths += sorted(PACKAGE.glob(f"*/*/{relative}"))  # e.g. kernel/tasks, catalog/ingest
    return [p for p in paths if p.exists()]


def read_catalog(path: Path, code: str = "zh_CN") -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=code)


@cache
def translations(locale: str) -> NullTranslations:
    code = BABEL_LOCALES.get(locale, "zh_CN")
    if code == "en":
        return NullTranslations()
    merged = Catalog(locale=code)
    for path in catalog_paths(code):
        for message in read_catalog(path, code):
            if message.id and message.string and not message.fuzzy:
                merged[message.id] = message  # keyed by (id, context) inside Babel
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(fp=buffer)


@dataclass(frozen=True, slots=True)
class Message:
    """A text for a person: a message id with parameters, rendered in their language."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    context: str | None = None  # gettext msgctxt, for short words that mean two things

    def render(self, locale: str) -> str:
        tr = translations(locale)
        text = str(tr.pgettext(self.context, self.id) if self.context else tr.gettext(self.id))
        if not self.params:
            return text
        values = {key: localise(value, locale) for key, value in self.params.items()}
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):  # a template must never become a crash
            return text

    def __str__(self) -> str:
        return self.render("en")


def _(msgid: str, /, **params: Any) -> Message:
    """Mark a message for the catalog; resolved later, in the reader's language."""
    return Message(msgid, params)


def N_(msgid: str) -> str:
    """Mark a message id for the catalog without making a ``Message`` (tables of labels)."""
    return msgid


class Sentences(tuple[Any, ...]):
    """Several messages said one after another ("；" in Chinese, "; " in English), such as
    every problem found in a form."""

    __slots__ = ()


def localise(value: Any, locale: str) -> str:
    """Text of any value a message may carry: messages translated, texts stored in both
    languages (``{"zh": …, "en": …}``) read in one, lists joined the way the language joins
    them, everything else as ``str``."""
    if isinstance(value, Message):
        return value.render(locale)
    if isinstance(value, Mapping) and value.keys() == {"zh", "en"}:
        # a text stored in both languages (a screen's findings), read back in one
        return str(value["en" if locale.startswith("en") else "zh"])
    if isinstance(value, Sentences):
        sep = "；" if locale.startswith("zh") else "; "
        return sep.join(localise(v, locale) for v in value)
    if isinstance(value, (list, tuple, set, frozenset)):
        sep = "、" if locale.startswith("zh") else ", "
        return sep.join(localise(v, locale) for v in value)
    return str(value)


# --- labels for stored codes -------------------------------------------------------------------

_LABELS: dict[tuple[str, str], str] = {}


def register_labels(kind: str, labels: Mapping[str, str]) -> None:
    """``kind`` names the set ("openness", "request_state"…) and is the gettext context, so the
    same English word can be translated differently in two sets."""
    for code, msgid in labels.items():
        _LABELS[(kind, str(code))] = msgid


def label(kind: str, code: Any) -> Message:
    """The label of a stored code; an unregistered code is shown as itself."""
    msgid = _LABELS.get((kind, str(code)))
    if msgid is None:
        return Message(str(code), context=f"raw:{kind}")  # no catalog entry: shown verbatim
    return Message(msgid, context=kind)


def labels(kind: str) -> dict[str, str]:
    return {code: msgid for (k, code), msgid in _LABELS.items() if k == kind}


def labels_in(kind: str, locale: str) -> dict[str, str]:
    """Every code of a kind with its label in one language (a vocabulary, a parser's table)."""
    return {code: label(kind, code).render(locale) for code in labels(kind)}


def label_kinds() -> Iterable[str]:
    return sorted({k for k, _code in _LABELS})


# --- negotiation -------------------------------------------------------------------------------


def negotiate(
    query: str | None, cookie: str | None, accept_language: str | None, default: str = "zh-CN"
) -> str:
    for choice in (query, cookie):
        if choice:
            return "en" if choice.lower().startswith("en") else "zh-CN"
    if accept_language:
        ranked = []
        for i, part in enumerate(accept_language.split(",")):
            lang, _sep, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            if weight > 0:  # q=0 means "not acceptable"
                ranked.append((-weight, i, lang.strip().lower()))
        for _w, _i, lang in sorted(ranked):
            if lang.startswith("zh"):
                return "zh-CN"
            if lang.startswith("en"):
                return "en"
    return default


def cli_locale(environ: Mapping[str, str] | None = None) -> str:
    """The language of a terminal user: ``YAOSU_LANG`` if set, else English when ``LC_ALL``
    (or, unset, ``LANG``) starts with "en", else Chinese."""
    env = os.environ if environ is None else environ
    chosen = env.get("YAOSU_LANG")
    if chosen:
        return "en" if chosen.lower().startswith("en") else "zh-CN"
    system = env.get("LC_ALL") or env.get("LANG") or ""
    return "en" if system.lower().startswith("en") else "zh-CN"


def say(message: Message) -> str:
    """A message as text for the terminal, in the user's language (``cli_locale``)."""
    return message.render(cli_locale())
