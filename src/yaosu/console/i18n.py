"""Message catalogs (gettext .po files read with Babel, no compile step) and locale-aware
formatting of dates, numbers and money."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
BABEL_LOCALES = {"zh-CN": "zh_CN", "en": "en"}
BEIJING = ZoneInfo("Asia/Shanghai")  # users' wall-clock time; storage is UTC


@cache
def translations(locale: str) -> NullTranslations:
    """English is the source language; other locales come from ``locale/<l>/LC_MESSAGES``."""
    code = BABEL_LOCALES.get(locale, "zh_CN")
    po = LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def format_number(value: float | int | Decimal | None, locale: str) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=BABEL_LOCALES.get(locale, "zh_CN"))


def format_money(value: float | Decimal | None, locale: str) -> str:
    """Yuan with two decimals: "1,234.50 元" in Chinese, "¥1,234.50" in English."""
    if value is None:
        return "—"
    amount = format_decimal(value, format="#,##0.00", locale=BABEL_LOCALES.get(locale, "zh_CN"))
    return f"{amount} 元" if locale.startswith("zh") else f"¥{amount}"


def format_datetime(value: datetime | None, locale: str) -> str:
    if value is None:
        return "—"
    code = BABEL_LOCALES.get(locale, "zh_CN")
    return _format_datetime(value, format="medium", tzinfo=BEIJING, locale=Locale.parse(code))


def format_bytes(size: int | None, locale: str) -> str:
    if size is None:
        return "—"
    step, unit = 1024.0, 0
    units = ["B", "KB", "MB", "GB", "TB"]
    value = float(size)
    while value >= step and unit < len(units) - 1:
        value /= step
        unit += 1
    return f"{format_decimal(round(value, 1), locale=BABEL_LOCALES.get(locale, 'zh_CN'))} {units[unit]}"
