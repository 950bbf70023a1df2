"""Locale-aware formatting of dates, numbers and money for console pages (the message
catalogs themselves are ``yaosu.kernel.i18n``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal

from yaosu.kernel.i18n import BABEL_LOCALES

BEIJING = ZoneInfo("Asia/Shanghai")  # users' wall-clock time; storage is UTC


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
