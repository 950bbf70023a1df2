"""Which columns hold identifiers (codes) rather than quantities, so they are stored as text.

A phone number, a resident ID, a card number or a postal code is a string of digits, not a
number: read as an integer it loses its leading zeros and its ``+86``, and its min and max
become two real people's values. A column is taken as an identifier when its header says so
(Chinese or English), when its digits say so (a leading zero, more than 15 digits), or when
the privacy detectors recognise identifiers in most of its values. Every reader whose format
infers types asks this module.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from yaosu.privacy.detectors import REGISTRY
from yaosu.privacy.scan import scan_table

# Detectors whose entities are codes: their values are never quantities.
IDENTIFIER_ENTITIES = (
    "CN_RESIDENT_ID",
    "CN_USCC",
    "CN_MOBILE",
    "CN_LANDLINE",
    "CN_BANK_CARD",
    "CREDIT_CARD",
    "IBAN_CODE",
    "CN_PASSPORT",
    "CN_HMT_PERMIT",
)
# Header words beyond the detectors' own hints (those are added below).
_CHINESE = (
    "手机",
    "电话",
    "联系方式",
    "身份证",
    "证件号",
    "证件号码",
    "公民身份号码",
    "银行卡",
    "卡号",
    "账号",
    "帐号",
    "邮编",
    "邮政编码",
    "社保号",
    "社会保障号",
    "医保号",
    "护照",
    "传真",
    "编码",
    "代码",
    "工号",
    "学号",
    "户号",
    "账户号",
    "qq号",
    "微信号",
)
_ENGLISH = re.compile(
    r"(?<![a-z])(?:phone|mobile|cellphone|tel|telephone|fax|msisdn|zip|zipcode|"
    r"postcode|postal|passport|iban|ssn|imei|"
    r"(?:id|card|account|acct|cert|license|licence)[ _.\-]?(?:no|num|number|code)|"
    r"(?:id|bank)[ _.\-]?card|(?:national|resident|citizen|personal)[ _.\-]?id)(?![a-z])"
)
DETECTOR_SAMPLE = 10_000  # values the detectors look at (a whole XLSX column can be long)
SHORTEST = 7  # characters in the shortest of those identifiers (a local landline number)
# Share of a sample's present values the detectors must recognise to call a column codes.
DETECTED_SHARE = 0.5


def _hints() -> tuple[str, ...]:
    words = set(_CHINESE)
    for entity in IDENTIFIER_ENTITIES:
        detector = REGISTRY.get(entity)
        if detector is not None:
            words.update(h.lower() for h in detector.header_hints)
    return tuple(sorted(words))


HEADER_WORDS = _hints()


# A header that ends in a quantity word counts something about identifiers (电话费, 账号数).
_QUANTITY = re.compile(
    r"(?:费|额|量|数|率|次|价|元|时长|(?<![a-z])(?:count|amount|fee|fees|rate|total|sum|"
    r"duration|minutes|cost|price|qty))$"
)
_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


def header_says_identifier(name: str) -> bool:
    """The header names an identifier, in Chinese or English.

    >>> [header_says_identifier(h) for h in ("手机号", "邮政编码", "id_no", "Zip", "销量")]
    [True, True, True, True, False]
    >>> header_says_identifier("电话费(元)"), header_says_identifier("phone_count")
    (False, False)
    """
    lowered = _BRACKETS.sub("", name).strip().lower()
    if _QUANTITY.search(lowered):
        return False
    if any(word in lowered for word in HEADER_WORDS):
        return True
    # camelCase to words: "mobilePhone" -> "mobile_phone", "IDNo" -> "id_no"
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    return bool(_ENGLISH.search(spaced))


def digits_say_identifier(values: pa.Array | pa.ChunkedArray) -> bool:
    """Digits that are codes, not quantities: a leading zero, or too long for an exact double.

    >>> digits_say_identifier(pa.array(["010000", "5"])), digits_say_identifier(pa.array(["10"]))
    (True, False)
    """
    text = pc.utf8_trim_whitespace(values.drop_null())
    body = pc.utf8_ltrim(text, characters="+-")
    digits = pc.match_substring_regex(body, r"^[0-9]+$")
    leading_zero = pc.and_(pc.starts_with(body, "0"), pc.greater(pc.utf8_length(body), 1))
    too_long = pc.greater(pc.utf8_length(body), 15)
    signed = pc.starts_with(text, "+")  # +86...: a quantity is never written so
    codes = pc.and_(digits, pc.or_(pc.or_(leading_zero, too_long), signed))
    return bool(pc.any(codes).as_py())


def all_digits(values: pa.Array | pa.ChunkedArray) -> bool:
    """Every present value is written as digits (an optional leading + or -), nothing else."""
    text = pc.utf8_trim_whitespace(values.drop_null())
    return bool(pc.all(pc.match_substring_regex(text, r"^[+-]?[0-9]+$")).as_py())


def detectors_say_identifier(name: str, values: pa.Array | pa.ChunkedArray) -> bool:
    """The privacy detectors find identifiers in most of the column's present values."""
    text = values.drop_null().slice(0, DETECTOR_SAMPLE)
    if len(text) == 0 or (pc.max(pc.utf8_length(text)).as_py() or 0) < SHORTEST:
        return False  # too short to be any of them (and wide files stay fast)
    detectors = [REGISTRY[e] for e in IDENTIFIER_ENTITIES if e in REGISTRY]
    screen = scan_table(pa.table({name: text}), detectors=detectors)
    return any(e.share >= DETECTED_SHARE for c in screen.columns for e in c.entities)


def is_identifier(name: str, values: pa.Array | pa.ChunkedArray) -> bool:
    """``values``: a column read as numbers, its cells as text exactly as the file spells them.
    Only columns written as whole numbers can be codes (12.5 is a quantity whatever its name).

    >>> is_identifier("联系方式", pa.array(["13500851980", None]))
    True
    >>> is_identifier("批次", pa.array(["3", "10"])), is_identifier("手机号", pa.array(["1.5"]))
    (False, False)
    """
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    if not all_digits(values):
        return False
    return (
        header_says_identifier(name)
        or digits_say_identifier(values)
        or detectors_say_identifier(name, values)
    )
