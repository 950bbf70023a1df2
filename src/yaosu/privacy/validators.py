"""Validators behind the detectors: the checksums and ranges each format has, one scalar
function per format (python-stdnum and phonenumbers do the standards), and the same checks
as digit arithmetic over whole Arrow arrays for columns that are mostly matches.

Each returns a confidence in [0, 1], or ``None`` when the value is not of that format.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import iban, luhn
from stdnum.cn import ric, uscc

_NONDIGIT = re.compile(r"\D")
_SEPARATORS = re.compile(r"[\s-]")

# --- validators ----------------------------------------------------------------------------


def resident_id(value: str) -> float | None:
    """GB 11643: province, a real birth date and the ISO 7064 MOD 11-2 check character
    (18 digits), or the old 15-digit form (province and a 19xx birth date, no check).

    python-stdnum computes the check character and the birth date. Its ``is_valid`` also
    demands that the county code existed on the birth date, which real IDs do not obey
    (codes are given at registration and counties are renamed), and version 2.2 raises
    KeyError for some codes instead of answering; so it is not used for the verdict.
    """
    value = value.upper()
    if value[:2] not in _PROVINCES:
        return None
    if len(value) == 18:
        try:
            if ric.calc_check_digit(value) != value[17]:  # stdnum drops the last character itself
                return None
            born = ric.get_birth_date(value)
        except (KeyError, ValueError, IndexError, ric.ValidationError):
            return None
        return 0.99 if date(1900, 1, 1) <= born <= date.today() else None
    if len(value) == 15 and value.isdigit():
        try:
            date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
        except ValueError:
            return None
        return 0.7
    return None


_PROVINCES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
}


def social_credit_code(value: str) -> float | None:
    try:
        return 0.99 if uscc.is_valid(value.upper()) else None
    except (KeyError, ValueError, IndexError):
        return None


def cn_phone(kind: int) -> Callable[[str], float | None]:
    def check(value: str) -> float | None:
        digits = _NONDIGIT.sub("", value)
        if digits.startswith("0086"):
            digits = digits[4:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        # Chinese numbering ranges are decided by the leading digits and the length, so the
        # (slow) phonenumbers verdict is cached per prefix; the rest of the number is free.
        return _phone_range(digits[:5], len(digits), kind)

    return check


@lru_cache(maxsize=1 << 16)
def _phone_range(prefix: str, length: int, kind: int) -> float | None:
    sample = prefix + "0" * (length - len(prefix))
    try:
        number = phonenumbers.parse(sample, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    return 0.95 if phonenumbers.number_type(number) == kind else None


def bank_card(value: str) -> float | None:
    """16-19 digits. Luhn where it applies; some Chinese debit cards do not pass Luhn, so a
    UnionPay (62) number that fails is kept with lower confidence rather than dropped."""
    digits = _SEPARATORS.sub("", value)
    if not 16 <= len(digits) <= 19 or len(set(digits)) < 4:
        return None
    if luhn.is_valid(digits):
        return 0.9 if digits.startswith(("62", "4", "5", "3", "6")) else 0.6
    return 0.4 if digits.startswith("62") else None


def credit_card(value: str) -> float | None:
    digits = _SEPARATORS.sub("", value)
    return (
        0.9
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits) and not digits.startswith("62")
        else None
    )


def ip_address(value: str) -> float | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return None
    return 0.9 if ":" in value or value.count(".") == 3 else None


def iban_code(value: str) -> float | None:
    return 0.95 if iban.is_valid(value) else None


def coordinate(value: str) -> float | None:
    """A latitude, longitude pair with at least 4 decimals (about 10 m): precise location."""
    numbers = re.findall(r"-?\d{1,3}\.(\d+)", value)
    parts = re.findall(r"-?\d{1,3}\.\d+", value)
    if len(parts) != 2 or min(len(n) for n in numbers) < 4:
        return None
    a, b = float(parts[0]), float(parts[1])
    if (abs(a) <= 90 and abs(b) <= 180) or (abs(b) <= 90 and abs(a) <= 180):
        return 0.8
    return None


def birth_date(value: str) -> float | None:
    m = re.search(r"(19\d\d|20\d\d)\D?(\d{1,2})\D?(\d{1,2})", value)
    if not m:
        return None
    try:
        born = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return 0.5 if born <= date.today() else None


# --- vectorised validators: the same checks as above, as digit arithmetic over whole arrays --


def _digit_matrix(values: pa.Array, width: int) -> np.ndarray:
    """An (n, width) matrix of the ASCII bytes of ``values``, all exactly ``width`` long,
    minus ord("0"): digits become 0-9 (and "X" becomes 40, "x" 72)."""
    values = pc.cast(values, pa.large_string())
    if len(values) == 0:
        return np.zeros((0, width), np.int64)
    offsets = np.frombuffer(values.buffers()[1], np.int64)[
        values.offset : values.offset + len(values) + 1
    ]
    data = np.frombuffer(values.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, width).astype(np.int64) - ord("0")


def _luhn_ok(d: np.ndarray) -> np.ndarray:
    """Luhn (ISO/IEC 7812) over each row of a digit matrix."""
    doubled = d[:, ::-1].copy()
    odd = doubled[:, 1::2] * 2
    doubled[:, 1::2] = np.where(odd > 9, odd - 9, odd)
    return doubled.sum(axis=1) % 10 == 0


def _by_length(values: pa.Array, confidence: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Applies a digit-matrix check to digit strings of mixed lengths, one length at a time."""
    out = np.full(len(values), np.nan)
    lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    for width in np.unique(lengths):
        rows = np.flatnonzero(lengths == width)
        out[rows] = confidence(_digit_matrix(values.take(pa.array(rows)), int(width)))
    return out


_RIC_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)])
_PROVINCE_CODES = np.array(sorted(int(p) for p in _PROVINCES))


def resident_id_vector(values: pa.Array) -> np.ndarray:
    """``resident_id`` for 18-character values: province, ISO 7064 MOD 11-2, birth date."""
    d = _digit_matrix(values, 18)
    body, last = d[:, :17], d[:, 17]
    last = np.where((last == ord("X") - ord("0")) | (last == ord("x") - ord("0")), 10, last)
    check_ok = (12 - (body * _RIC_WEIGHTS).sum(axis=1) % 11) % 11 == last
    province_ok = np.isin(d[:, 0] * 10 + d[:, 1], _PROVINCE_CODES)
    year = d[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    last_day = month_days[np.clip(month, 0, 12)] + ((month == 2) & leap)
    today = date.today()
    born = year * 10_000 + month * 100 + day
    date_ok = (
        (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= last_day)
        & (born >= 1900_01_01)
        & (born <= today.year * 10_000 + today.month * 100 + today.day)
    )
    return np.where(check_ok & province_ok & date_ok, 0.99, np.nan)


def phone_vector(kind: int) -> Callable[[pa.Array], np.ndarray]:
    """``cn_phone`` over an array: one phonenumbers verdict per distinct five-digit prefix."""

    def check(values: pa.Array) -> np.ndarray:
        digits = pc.replace_substring_regex(values, r"\D", "")
        digits = pc.replace_substring_regex(digits, r"^(?:0086|86)(\d{11})$", r"\1")
        lengths = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
        prefixes = pc.dictionary_encode(pc.utf8_slice_codeunits(digits, 0, 5))
        verdicts = np.array(
            [
                np.nan if (c := _phone_range(p, 11, kind)) is None else c
                for p in prefixes.dictionary.to_pylist()
            ]
            or [np.nan]
        )
        out = verdicts[prefixes.indices.to_numpy(zero_copy_only=False)]
        return np.where(lengths == 11, out, np.nan)

    return check


def bank_card_vector(values: pa.Array) -> np.ndarray:
    """``bank_card`` over an array of 16-19 digit numbers (separators allowed)."""

    def check(d: np.ndarray) -> np.ndarray:
        distinct = np.zeros((len(d), 10), bool)
        distinct[np.arange(len(d))[:, None], d] = True
        varied = distinct.sum(axis=1) >= 4
        ok = _luhn_ok(d)
        unionpay = (d[:, 0] == 6) & (d[:, 1] == 2)
        known = np.isin(d[:, 0], [3, 4, 5, 6])
        conf = np.where(ok, np.where(known, 0.9, 0.6), np.where(unionpay, 0.4, np.nan))
        return np.where(varied & (d.shape[1] >= 16) & (d.shape[1] <= 19), conf, np.nan)

    return _by_length(pc.replace_substring_regex(values, r"[\s-]", ""), check)


def credit_card_vector(values: pa.Array) -> np.ndarray:
    """``credit_card`` over an array: 13-19 digits, Luhn, not UnionPay."""

    def check(d: np.ndarray) -> np.ndarray:
        unionpay = (d[:, 0] == 6) & (d[:, 1] == 2)
        ok = _luhn_ok(d) & ~unionpay & (13 <= d.shape[1] <= 19)
        return np.where(ok, 0.9, np.nan)

    return _by_length(pc.replace_substring_regex(values, r"[\s-]", ""), check)


def email_vector(values: pa.Array) -> np.ndarray:
    bad = pc.or_(pc.match_substring(values, ".."), pc.match_substring_regex(values, r"@[.-]"))
    return np.where(bad.to_numpy(zero_copy_only=False), np.nan, 0.9)
