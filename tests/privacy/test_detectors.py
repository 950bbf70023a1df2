"""Detectors against published test cases (python-stdnum's cn.ric and cn.uscc, Presidio's
recognizer examples for the shared entity types) and hard negatives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaosu.privacy.detectors import REGISTRY, Detector, register
from yaosu.privacy.validators import resident_id

STDNUM = json.loads(
    (Path(__file__).parent / "testdata" / "stdnum_cn.json").read_text(encoding="utf-8")
)


def found(entity: str, text: str, *, in_context: bool = False) -> list[str]:
    return [m.text for m in REGISTRY[entity].find(text, in_context=in_context)]


@pytest.mark.parametrize(
    "number", STDNUM["ric_valid"] + STDNUM["ric_valid_but_county_not_current_at_birth"]
)
def test_resident_ids_from_stdnum_are_found(number: str) -> None:
    assert found("CN_RESIDENT_ID", f"证件号码{number}。") == [number]


@pytest.mark.parametrize(("number", "why"), STDNUM["ric_invalid"].items())
def test_invalid_resident_ids_from_stdnum_are_not(number: str, why: str) -> None:
    assert found("CN_RESIDENT_ID", number) == [], why


def test_resident_id_old_form_and_the_stdnum_keyerror(monkeypatch: pytest.MonkeyPatch) -> None:
    assert found("CN_RESIDENT_ID", "老证 110105491231002 有效") == ["110105491231002"]
    assert found("CN_RESIDENT_ID", "110105491331002") == []  # month 13
    # python-stdnum 2.2 can raise KeyError from inside its checks; that is "not an ID", not a crash
    from stdnum.cn import ric

    def broken(_: str) -> str:
        raise KeyError("region")

    monkeypatch.setattr(ric, "calc_check_digit", broken)
    assert resident_id("360426199101010071") is None


@pytest.mark.parametrize("code", STDNUM["uscc_valid"])
def test_social_credit_codes_from_stdnum(code: str) -> None:
    assert found("CN_USCC", code) == [code]
    assert not REGISTRY["CN_USCC"].personal  # an organisation, reported but not personal


@pytest.mark.parametrize("code", STDNUM["uscc_invalid"])
def test_invalid_social_credit_codes(code: str) -> None:
    assert found("CN_USCC", code) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", ["13812345678"]),
        ("电话：+86 138-1234-5678，", ["+86 138-1234-5678"]),
        ("0086 13912345678", ["0086 13912345678"]),
        ("订单号 14012345678", []),  # 140 is not an assigned mobile range
        ("10012345678", []),
        ("2024年11月30日13812345678号订单12345678901234", ["13812345678"]),
    ],
)
def test_mobile_numbers(text: str, expected: list[str]) -> None:
    assert found("CN_MOBILE", text) == expected


def test_landlines() -> None:
    assert found("CN_LANDLINE", "办公电话 010-12345678") == ["010-12345678"]
    assert found("CN_LANDLINE", "0755 86012345") == ["0755 86012345"]
    assert found("CN_LANDLINE", "13812345678") == []


def test_bank_cards_luhn_and_unionpay_without_luhn() -> None:
    luhn_ok = found("CN_BANK_CARD", "卡号 6222 0212 3456 7890 128")
    assert luhn_ok == ["6222 0212 3456 7890 128"]
    detector = REGISTRY["CN_BANK_CARD"]
    failing = next(detector.find("卡号6222021234567890123"))
    assert (
        failing.confidence < 0.5
    )  # some Chinese debit cards skip Luhn: kept, with less confidence
    assert found("CN_BANK_CARD", "1234567890123456") == []  # fails Luhn, not UnionPay
    assert found("CN_BANK_CARD", "1111111111111111") == []


# Presidio's recognizer test cases (presidio-analyzer tests) for the types we share.
PRESIDIO = {
    "EMAIL_ADDRESS": [
        ("info@presidio.site", ["info@presidio.site"]),
        ("my email address is info@presidio.site", ["info@presidio.site"]),
        (
            "try one of these emails: info@presidio.site or anotherinfo@presidio.site",
            ["info@presidio.site", "anotherinfo@presidio.site"],
        ),
        ("my email is info@presidio.", []),
    ],
    "CREDIT_CARD": [
        (
            "4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881",
            ["4012888888881881", "4012-8888-8888-1881", "4012 8888 8888 1881"],
        ),
        ("122000000000003", ["122000000000003"]),
        ("my credit card: 371449635398431", ["371449635398431"]),
        ("5555555555554444", ["5555555555554444"]),
        ("5019717010103742", ["5019717010103742"]),
        ("30569309025904", ["30569309025904"]),
        ("6011000400000000", ["6011000400000000"]),
        ("4111111111111111", ["4111111111111111"]),
        ("4111111111111112", []),
        ("4012-8888-8888-1882", []),
    ],
    "IP_ADDRESS": [
        ("microsoft.com 192.168.0.1", ["192.168.0.1"]),
        ("my ip: 10.0.0.1", ["10.0.0.1"]),
        ("2001:db8::1", ["2001:db8::1"]),
        ("fe80::1ff:fe23:4567:890a", ["fe80::1ff:fe23:4567:890a"]),
        ("192.168.0", []),
        ("999.1.1.1", []),
    ],
    "IBAN_CODE": [
        ("GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32"]),
        ("DE89370400440532013000", ["DE89370400440532013000"]),
        ("AL47212110090000000235698741", ["AL47212110090000000235698741"]),
        ("GB82 WEST 1234 5698 7654 33", []),
    ],
    "URL": [
        ("https://www.microsoft.com/", ["https://www.microsoft.com/"]),
        ("www.microsoft.com", ["www.microsoft.com"]),
        ("访问 http://data.jiangzhou.gov.cn/open。", ["http://data.jiangzhou.gov.cn/open"]),
    ],
}


@pytest.mark.parametrize(
    ("entity", "text", "expected"),
    [(e, t, x) for e, cases in PRESIDIO.items() for t, x in cases],
)
def test_presidio_recognizer_cases(entity: str, text: str, expected: list[str]) -> None:
    assert found(entity, text) == expected


def test_plates_passports_coordinates_mac() -> None:
    assert found("CN_VEHICLE_PLATE", "浙A12345、粤BD12345、沪AF1234") == [
        "浙A12345",
        "粤BD12345",
        "沪AF1234",
    ]
    assert found("CN_PASSPORT", "护照 E12345678") == ["E12345678"]
    assert found("COORDINATE", "位置 30.274085, 120.155070") == ["30.274085, 120.155070"]
    assert found("COORDINATE", "30.27, 120.15") == []  # too coarse to locate a person
    assert found("MAC_ADDRESS", "设备 00:1A:2B:3C:4D:5E") == ["00:1A:2B:3C:4D:5E"]


def test_names_need_context_and_addresses_need_a_number() -> None:
    assert found("CN_PERSON_NAME", "客户张伟来电") and found("CN_PERSON_NAME", "联系人：李娜")
    assert (
        found("CN_PERSON_NAME", "石桥镇农产品") == []
    )  # 石 is a surname, but nothing says "person"
    assert found("CN_PERSON_NAME", "王芳", in_context=True) == ["王芳"]  # under a 姓名 header
    assert found("CN_ADDRESS", "江州市城关镇人民路18号") == ["江州市城关镇人民路18号"]
    assert found("CN_ADDRESS", "人民路") == []
    assert found("DATE_OF_BIRTH", "交易日期 2024-01-05") == []
    assert found("DATE_OF_BIRTH", "出生日期：1990-03-07") == ["1990-03-07"]


def test_third_parties_register_detectors_the_same_way() -> None:
    import re

    detector = Detector("TEST_EMPLOYEE_NO", r"EMP\d{6}", re.compile(r"EMP\d{6}"), lambda v: 0.9)
    try:
        register(detector)
        assert found("TEST_EMPLOYEE_NO", "工号EMP123456") == ["EMP123456"]
        with pytest.raises(ValueError):
            register(detector)
    finally:
        REGISTRY.pop("TEST_EMPLOYEE_NO", None)


# --- the vectorised path must judge a whole cell exactly as find() does ---------------------

_digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def whole_cells(draw: st.DrawFn) -> str:
    """Cells shaped like what the vectorised detectors look at, valid or not."""
    from stdnum import luhn
    from stdnum.cn import ric

    kind = draw(st.sampled_from(["ric", "ric_bad", "card", "card_any", "mobile", "email"]))
    if kind.startswith("ric"):
        region = draw(st.sampled_from(["110105", "440305", "990101", "330106", "710000"]))
        body = (
            region
            + f"{draw(st.integers(1890, 2030))}{draw(st.integers(0, 13)):02d}"
            + f"{draw(st.integers(0, 32)):02d}{draw(st.integers(0, 999)):03d}"
        )
        check = ric.calc_check_digit(body + "0")
        last = check if kind == "ric" else draw(st.sampled_from("0123456789Xx"))
        return body + last
    if kind.startswith("card"):
        prefix = draw(st.sampled_from(["62", "4", "5", "35", "9", "1111"]))
        length = draw(st.integers(13, 19))
        body = prefix + draw(
            st.text(
                "0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1
            )
        )
        number = body + (luhn.calc_check_digit(body) if kind == "card" else draw(_digits))
        sep = draw(st.sampled_from(["", " ", "-"]))
        return sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    if kind == "mobile":
        lead = draw(st.sampled_from(["", "+86", "0086", "+86 ", "86"]))
        prefix = draw(st.sampled_from(["138", "199", "140", "100", "170", "192", "145"]))
        rest = draw(st.text("0123456789", min_size=8, max_size=8))
        sep = draw(st.sampled_from(["", " ", "-"]))
        return f"{lead}{prefix}{sep}{rest[:4]}{sep}{rest[4:]}"
    local = draw(st.sampled_from(["a", "a.b", "a..b", "x_y+z", "用户"]))
    domain = draw(st.sampled_from(["example.com", "-bad.com", "a.b.cn", "a..cn", "x.c"]))
    return f"{local}@{domain}"


@given(st.lists(whole_cells(), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_vectorised_validation_agrees_with_find(cells: list[str]) -> None:
    import re

    import numpy as np
    import pyarrow as pa

    for detector in REGISTRY.values():
        if detector.vector is None or detector.whole is None:
            continue
        whole = [c for c in cells if re.fullmatch(detector.whole.strip("^$"), c)]
        got = detector.vector(pa.array(whole, pa.string()))
        for cell, confidence in zip(whole, got, strict=True):
            matches = list(detector.find(cell))
            expected = (
                matches[0].confidence
                if len(matches) == 1 and (matches[0].start, matches[0].end) == (0, len(cell))
                else None
            )
            assert (None if np.isnan(confidence) else confidence) == expected, (
                detector.entity,
                cell,
            )
