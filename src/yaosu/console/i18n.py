"""Locale-aware formatting of dates, numbers and money for console pages (the message
catalogs themselves are ``yaosu.kernel.i18n``)."""

from __future__ import annotations

import math
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


def _step(spread: float) -> int:
    """The decimal position to round to for a ± of ``spread``: its two leading digits."""
    return math.floor(math.log10(spread)) - 1 if spread > 0 else 0


def format_estimate(value: float | int | None, spread: float | None, locale: str) -> str:
    """A noisy number as a reader can use it: rounded to the digits its ± leaves meaningful,
    with grouping ("68,400"), never "6.839e+04". Without a ±, four significant digits.

    >>> format_estimate(68390.123, 1797.2, "en"), format_estimate(0.123456, None, "en")
    ('68,400', '0.1235')
    >>> format_estimate(12.3456, 0.042, "zh-CN"), format_estimate(None, 3.0, "en")
    ('12.346', '—')
    """
    if value is None:
        return "—"
    code = BABEL_LOCALES.get(locale, "zh_CN")
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=code)
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if spread is None or not math.isfinite(spread) or spread <= 0:
        digits = max(0, 3 - math.floor(math.log10(abs(number)))) if number else 0
    else:
        digits = -_step(spread)  # negative: round to tens, hundreds...
    digits = min(digits, 6)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(round(number, digits), format=pattern, locale=code)


def format_spread(spread: float | None, locale: str) -> str:
    """A ± with its two leading digits and grouping: "±1,800", "±0.042"."""
    if spread is None or not math.isfinite(spread):
        return "—"
    digits = min(-_step(spread), 6) if spread > 0 else 0
    rounded = round(spread, digits)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    code = BABEL_LOCALES.get(locale, "zh_CN")
    return "±" + format_decimal(rounded, format=pattern, locale=code)
