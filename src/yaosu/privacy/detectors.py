"""Detectors of personal and sensitive information, one small registered object each.

A detector has a loose ``prefilter`` in RE2 syntax (run vectorised by Arrow over a whole
column to find candidate rows), a precise Python ``pattern`` that finds matches and their
positions in a candidate, and ``validate`` for the checksums and ranges a format has.
Entity names follow Microsoft Presidio's where they overlap (EMAIL_ADDRESS, CREDIT_CARD,
IP_ADDRESS, IBAN_CODE, URL, PHONE_NUMBER ...); Chinese types are prefixed ``CN_``.
Built-ins are registered exactly as a third party would register its own.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import iban, luhn
from stdnum.cn import ric, uscc

# GB/T 35273 Annex B categories of sensitive personal information.
IDENTITY = "identity_document"
FINANCIAL = "financial_account"
LOCATION = "precise_location"
CONTACT = "contact"  # personal, not sensitive by itself

_NONDIGIT = re.compile(r"\D")
_SEPARATORS = re.compile(r"[\s-]")

# Digits or letters must not run on into the match (CJK text is fine next to it).
_L = r"(?<![0-9A-Za-z])"
_R = r"(?![0-9A-Za-z])"


def _bounded(prefilter: str) -> str:
    """The RE2 spelling of ``_L ... _R`` (RE2 has no lookaround), for prefilters of patterns
    bounded so: "ORD1234567890123" is then not a card candidate to look at in Python."""
    return f"(?:^|[^0-9A-Za-z])(?:{prefilter})(?:$|[^0-9A-Za-z])"


@dataclass(frozen=True)
class Match:
    entity: str
    start: int
    end: int
    text: str
    confidence: float


@dataclass(frozen=True)
class Detector:
    entity: str
    prefilter: str  # RE2, applied to whole columns by Arrow: a superset of real matches
    pattern: re.Pattern[str]
    validate: Callable[[str], float | None] = lambda _: 0.85  # confidence, or None to reject
    personal: bool = True
    sensitive: str | None = None  # a GB/T 35273 Annex B category when sensitive
    header_hints: tuple[str, ...] = field(default=())  # column names that raise confidence
    # Some values are personal only in context: a date in a 出生日期 column, a name after 客户.
    needs_context: bool = False
    context: re.Pattern[str] | None = None  # in free text, what must come right before
    # The vectorised path for cells that hold one value and nothing else (a resident-ID
    # column, a mobile column): ``whole`` is an anchored RE2 pattern, and ``vector`` validates
    # a whole array of such cells at once, giving each a confidence or NaN (rejected). It must
    # agree with ``find`` on every such cell; a test holds the two to that.
    whole: str | None = None
    vector: Callable[[pa.Array], np.ndarray] | None = None

    def find(self, text: str, *, in_context: bool = False) -> Iterator[Match]:
        """Matches in ``text``. ``in_context``: the column header already says what this is."""
        for m in self.pattern.finditer(text):
            if self.needs_context and not in_context and not self._has_context(text, m.start()):
                continue
            confidence = self.validate(m.group(0))
            if confidence is not None:
                yield Match(self.entity, m.start(), m.end(), m.group(0), confidence)

    def _has_context(self, text: str, at: int) -> bool:
        return self.context is not None and bool(self.context.search(text[max(0, at - 8) : at]))

    def hinted_by(self, header: str) -> bool:
        lowered = header.lower()
        return any(h in lowered for h in self.header_hints)


REGISTRY: dict[str, Detector] = {}


def register(detector: Detector) -> Detector:
    if detector.entity in REGISTRY:
        raise ValueError(f"a detector for {detector.entity} is already registered")
    REGISTRY[detector.entity] = detector
    return detector


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


# --- the built-in detectors ----------------------------------------------------------------

register(
    Detector(
        "CN_RESIDENT_ID",
        _bounded(r"[1-9]\d{5}(19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx]|[1-9]\d{7}[01]\d[0-3]\d\d{3}"),
        re.compile(
            _L
            + r"(?:[1-9]\d{5}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx]|[1-9]\d{7}[01]\d[0-3]\d\d{3})"
            + _R
        ),
        resident_id,
        sensitive=IDENTITY,
        whole=r"^[1-9]\d{5}(19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx]$",
        vector=resident_id_vector,
        header_hints=("身份证", "证件号", "公民身份号码"),
    )
)
register(
    Detector(
        "CN_USCC",
        _bounded(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"),
        re.compile(_L + r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}" + _R),
        social_credit_code,
        personal=False,  # an organisation's code: reported, but not personal information
        header_hints=("统一社会信用代码", "信用代码"),
    )
)
register(
    Detector(
        "CN_MOBILE",
        r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}",
        re.compile(_L + r"(?:(?:\+|00)86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}" + _R),
        cn_phone(phonenumbers.PhoneNumberType.MOBILE),
        whole=r"^(?:(?:\+|00)86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}$",
        vector=phone_vector(phonenumbers.PhoneNumberType.MOBILE),
        header_hints=("手机", "电话", "联系方式"),
    )
)
register(
    Detector(
        "CN_LANDLINE",
        r"0[1-9]\d{1,2}[\s-]?\d{7,8}",
        re.compile(_L + r"(?:\(?0[1-9]\d{1,2}\)?[\s-]?)\d{7,8}" + _R),
        cn_phone(phonenumbers.PhoneNumberType.FIXED_LINE),
        header_hints=("电话", "座机"),
    )
)
register(
    Detector(
        "CN_BANK_CARD",
        _bounded(r"\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{4,7}"),
        re.compile(_L + r"\d{4}(?:[\s-]?\d{4}){3}(?:[\s-]?\d{1,3})?" + _R),
        bank_card,
        sensitive=FINANCIAL,
        whole=r"^\d{4}(?:[\s-]?\d{4}){3}(?:[\s-]?\d{1,3})?$",
        vector=bank_card_vector,
        header_hints=("银行卡", "卡号", "账号"),
    )
)
register(
    Detector(
        "CREDIT_CARD",
        _bounded(r"\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{1,7}"),
        re.compile(_L + r"(?:\d[\s-]?){12,18}\d" + _R),
        credit_card,
        sensitive=FINANCIAL,
        whole=r"^(?:\d[\s-]?){12,18}\d$",
        vector=credit_card_vector,
    )
)
register(
    Detector(
        "EMAIL_ADDRESS",
        r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}" + _R),
        lambda v: 0.9 if ".." not in v and not v.split("@")[1].startswith((".", "-")) else None,
        header_hints=("邮箱", "电子邮件", "email"),
        whole=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$",
        vector=email_vector,
    )
)
register(
    Detector(
        "IP_ADDRESS",
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]{2,}",
        re.compile(
            _L + r"(?:\d{1,3}(?:\.\d{1,3}){3}|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})" + _R
        ),
        ip_address,
    )
)
register(
    Detector(
        "MAC_ADDRESS",
        r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}",
        re.compile(_L + r"[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}" + _R),
        lambda v: 0.8,
    )
)
register(
    Detector(
        "URL",
        r"(?i)(https?://|www\.)",
        re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'，。；、]+"),
        lambda v: 0.6,
        personal=False,
    )
)
register(
    Detector(
        "IBAN_CODE",
        r"(?:^|[^0-9A-Za-z])[A-Z]{2}\d{2}[A-Z0-9 ]{11,30}",
        re.compile(_L + r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" + _R),
        iban_code,
        sensitive=FINANCIAL,
    )
)
register(
    Detector(
        "CN_PASSPORT",
        _bounded(r"[EeGgDdSsPpHh]\d{8}|[Ee][A-Za-z]\d{7}"),
        re.compile(_L + r"(?:[EGDSPH]\d{8}|E[A-HJ-NP-Z]\d{7})" + _R),
        lambda v: 0.6,
        sensitive=IDENTITY,
        header_hints=("护照",),
    )
)
register(
    Detector(
        "CN_HMT_PERMIT",
        _bounded(r"[CcHhMm]\d{8,10}"),
        re.compile(_L + r"(?:[CHM]\d{8}(?:\d{2})?)" + _R),
        lambda v: 0.5,
        sensitive=IDENTITY,
        header_hints=("通行证", "港澳", "台湾"),
    )
)
register(
    Detector(
        "CN_VEHICLE_PLATE",
        r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]",
        re.compile(
            r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]·?"
            r"(?:[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF]|[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳])" + _R
        ),
        lambda v: 0.85,
        header_hints=("车牌",),
    )
)
register(
    Detector(
        "COORDINATE",
        r"-?\d{1,3}\.\d{4,}\s*[,， ]\s*-?\d{1,3}\.\d{4,}",
        re.compile(r"-?\d{1,3}\.\d{4,}\s*[,， ]\s*-?\d{1,3}\.\d{4,}"),
        coordinate,
        sensitive=LOCATION,
        header_hints=("坐标", "经纬度", "位置"),
    )
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易"
    "乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴"
    "蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边"
    "卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# A third character that is a common verb or particle ends the name: 客户张伟来电 -> 张伟.
_NAME = f"[{SURNAMES}][\u4e00-\u9fff](?:(?![来于在说的和与是到已将向等去为电称])[\u4e00-\u9fff])?"

register(
    Detector(
        "CN_PERSON_NAME",
        f"[{SURNAMES}][\u4e00-\u9fff]",
        re.compile(f"(?:欧阳|司马|诸葛|上官|东方|皇甫|令狐|慕容)[\u4e00-\u9fff]{{1,2}}|{_NAME}"),
        lambda v: 0.6,
        header_hints=(
            "姓名",
            "联系人",
            "户主",
            "负责人",
            "申请人",
            "法定代表人",
            "客户名称",
            "患者",
        ),
        needs_context=True,
        context=re.compile(r"(?:客户|联系人|户主|姓名|负责人|申请人|患者|经办人)[:：\s]?$"),
    )
)
register(
    Detector(
        "CN_ADDRESS",
        r"(省|市|区|县|镇|乡|村|路|街|巷|弄|道)[^，,。]{0,20}\d+(号|弄|栋|幢|单元|室|组)",
        re.compile(
            r"(?:[\u4e00-\u9fff]{2,9}(?:省|自治区|市))?(?:[\u4e00-\u9fff]{1,9}(?:市|州|盟))?"
            r"(?:[\u4e00-\u9fff]{1,9}(?:区|县|旗))?(?:[\u4e00-\u9fff]{1,9}(?:镇|乡|街道))?"
            r"[\u4e00-\u9fff0-9]{0,12}(?:路|街|巷|弄|道|村)[\u4e00-\u9fff]{0,4}\d+(?:号|弄|栋|幢|组)"
            r"(?:\d+(?:单元|室|号))*"
        ),
        lambda v: 0.75 if len(v) >= 6 else None,
        header_hints=("地址", "住址", "住所", "居住地", "户籍"),
    )
)
register(
    Detector(
        "DATE_OF_BIRTH",
        r"(19|20)\d\d\D?\d{1,2}\D?\d{1,2}",
        re.compile(_L + r"(?:19|20)\d\d[-/年.]?\d{1,2}[-/月.]?\d{1,2}日?" + _R),
        birth_date,
        header_hints=("出生", "生日"),
        needs_context=True,  # a date is personal only as someone's birth date
        context=re.compile(r"(?:出生|生日|出生日期|生于)[:：]?$"),
    )
)
