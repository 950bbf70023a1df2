"""Detectors of personal and sensitive information, one small registered object each.

A detector has a loose ``prefilter`` in RE2 syntax (run vectorised by Arrow over a whole
column to find candidate rows), a precise Python ``pattern`` that finds matches and their
positions in a candidate, and ``validate`` for the checksums and ranges a format has.
Entity names follow Microsoft Presidio's where they overlap (EMAIL_ADDRESS, CREDIT_CARD,
IP_ADDRESS, IBAN_CODE, URL, PHONE_NUMBER ...); Chinese types are prefixed ``CN_``.
Built-ins are registered exactly as a third party would register its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import phonenumbers
import pyarrow as pa

from yaosu.privacy.validators import (
    bank_card,
    bank_card_vector,
    birth_date,
    cn_phone,
    coordinate,
    credit_card,
    credit_card_vector,
    email_vector,
    iban_code,
    ip_address,
    phone_vector,
    resident_id,
    resident_id_vector,
    social_credit_code,
)

# GB/T 35273 Annex B categories of sensitive personal information.
IDENTITY = "identity_document"
FINANCIAL = "financial_account"
LOCATION = "precise_location"
CONTACT = "contact"  # personal, not sensitive by itself
# The PIPL Art. 28 categories no detector finds by shape, which a reviewer can name for a
# column (a remark saying 低保户 is a specific identity).
SENSITIVE_CATEGORIES = (
    IDENTITY,
    FINANCIAL,
    LOCATION,
    "health",
    "specific_identity",
    "biometric",
    "religion",
    "minor",
)


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
