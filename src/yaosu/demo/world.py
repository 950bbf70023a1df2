"""Generated demo data with realistic Chinese columns. Deterministic: the same seed gives the
same files, byte for byte."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from stdnum.cn import ric, uscc

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏辉红建华志强婷雪梅海燕欣怡子涵浩然宇轩梓萱俊杰思远雨桐佳琪晨阳嘉怡一诺"
TOWNS = [
    "城关镇",
    "石桥镇",
    "河西乡",
    "龙泉镇",
    "清水乡",
    "白马镇",
    "东风乡",
    "新华镇",
    "桃源乡",
    "青山镇",
]
VILLAGES = [
    "东村",
    "西村",
    "南岗村",
    "北坡村",
    "柳湾村",
    "杏花村",
    "大王庄",
    "李家湾",
    "红旗村",
    "和平村",
]
PRODUCTS = [
    ("水稻", 2.8),
    ("小麦", 2.6),
    ("玉米", 2.4),
    ("柑橘", 4.5),
    ("茶叶", 180.0),
    ("生猪", 16.0),
    ("油菜籽", 5.8),
    ("蔬菜", 3.2),
    ("苹果", 6.5),
    ("大豆", 5.2),
]
REGIONS = ["330102", "330105", "330106", "330108", "330110", "330111", "330112"]
MOBILE_PREFIXES = ["138", "139", "150", "151", "158", "186", "187", "199", "177", "135", "136"]
INDUSTRIES = [
    "制造业",
    "批发和零售业",
    "信息传输、软件和信息技术服务业",
    "建筑业",
    "交通运输业",
    "住宿和餐饮业",
]
COMPANY_WORDS = [
    "华东",
    "江州",
    "瑞丰",
    "宏达",
    "新源",
    "恒通",
    "锦程",
    "万盛",
    "佳禾",
    "天成",
    "博远",
    "鑫达",
]
COMPANY_KINDS = ["机械制造", "纺织", "物流", "电子科技", "食品", "建材", "软件", "化工"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def resident_id(rng: random.Random, born: date, male: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + (
        rng.choice((1, 3, 5, 7, 9)) if male else rng.choice((0, 2, 4, 6, 8))
    )
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character given


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def social_credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = (
        "91"
        + rng.choice(["330102", "330105", "330106"])
        + "".join(rng.choice(alphabet) for _ in range(9))
    )
    return body + uscc.calc_check_digit(body)


def farm_sales(path: Path, *, rows: int = 6000, seed: int = 2024) -> Path:
    """2024年各乡镇农产品销售数据, as a GBK CSV (the way many bureaus still export)."""
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(
        ["乡镇", "村", "产品", "月份", "销量(吨)", "销售额(万元)", "收购均价(元/公斤)", "销售渠道"]
    )
    for _ in range(rows):
        town, village = rng.choice(TOWNS), rng.choice(VILLAGES)
        product, price = rng.choice(PRODUCTS)
        month = f"2024-{rng.randint(1, 12):02d}"
        tons = round(rng.lognormvariate(3, 0.8), 2)
        unit = round(price * rng.uniform(0.85, 1.2), 2)
        w.writerow(
            [
                town,
                village,
                product,
                month,
                tons,
                round(tons * unit / 10, 2),
                unit,
                rng.choice(["合作社收购", "电商平台", "批发市场", "商超直供"]),
            ]
        )
    path.write_bytes(out.getvalue().encode("gbk"))
    return path


def insured_residents(path: Path, *, rows: int = 2000, seed: int = 11643) -> Path:
    """城乡居民社会保险参保人员信息: names, resident IDs, mobiles. UTF-8 CSV with a BOM."""
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "姓名",
            "性别",
            "身份证号",
            "手机号",
            "出生日期",
            "参保类型",
            "参保状态",
            "所属乡镇",
            "缴费档次(元)",
            "备注",
        ]
    )
    for _ in range(rows):
        male = rng.random() < 0.5
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
        w.writerow(
            [
                person_name(rng),
                "男" if male else "女",
                resident_id(rng, born, male),
                mobile(rng),
                born.isoformat(),
                rng.choice(["城乡居民基本养老保险", "城乡居民基本医疗保险"]),
                rng.choice(["正常参保", "正常参保", "正常参保", "暂停缴费", "终止参保"]),
                rng.choice(TOWNS),
                rng.choice([200, 300, 500, 800, 1000, 2000]),
                rng.choice(["", "", "", "低保户代缴", f"联系人{person_name(rng)}", "已迁出"]),
            ]
        )
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    return path


def enterprise_power(path: Path, *, companies: int = 120, seed: int = 32100) -> Path:
    """重点企业月度用电量, as NDJSON: commercially sensitive, so not opened."""
    rng = random.Random(seed)
    lines = []
    for _ in range(companies):
        name = f"江州{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_KINDS)}有限公司"
        code = social_credit_code(rng)
        industry = rng.choice(INDUSTRIES)
        base = rng.lognormvariate(12, 1)
        for month in range(1, 13):
            lines.append(
                json.dumps(
                    {
                        "企业名称": name,
                        "统一社会信用代码": code,
                        "行业": industry,
                        "月份": f"2024-{month:02d}",
                        "用电量(千瓦时)": round(base * rng.uniform(0.8, 1.25), 1),
                    },
                    ensure_ascii=False,
                )
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The data dictionaries the bureau writes: what each column means, its unit, and what is
# public knowledge (the county's towns, the kinds of insurance, the fee schedule's range).
DICTIONARIES: dict[str, list[dict[str, Any]]] = {
    "参保人员": [
        {"column": "姓名", "description": "参保人姓名"},
        {"column": "性别", "description": "参保人性别", "domain": ["男", "女"]},
        {"column": "身份证号", "description": "居民身份证号码（18 位）"},
        {"column": "手机号", "description": "参保登记时留存的手机号码"},
        {"column": "出生日期", "description": "参保人出生日期"},
        {
            "column": "参保类型",
            "description": "参加的城乡居民社会保险险种",
            "domain": ["城乡居民基本养老保险", "城乡居民基本医疗保险"],
        },
        {
            "column": "参保状态",
            "description": "截至统计日的参保状态",
            "domain": ["正常参保", "暂停缴费", "终止参保"],
        },
        {"column": "所属乡镇", "description": "户籍所在乡镇", "domain": TOWNS},
        {
            "column": "缴费档次(元)",
            "description": "个人年缴费档次（按县政府公布的档次表）",
            "unit": "元/年",
            "lower": 200,
            "upper": 2000,
        },
        {"column": "备注", "description": "经办人填写的说明，可能含个人信息"},
    ],
    "农产品销售": [
        {"column": "乡镇", "description": "销售发生的乡镇", "domain": TOWNS},
        {"column": "村", "description": "销售发生的行政村", "domain": VILLAGES},
        {"column": "产品", "description": "农产品品类", "domain": [p for p, _ in PRODUCTS]},
        {
            "column": "月份",
            "description": "统计月份",
            "domain": [f"2024-{m:02d}" for m in range(1, 13)],
        },
        {"column": "销量(吨)", "description": "当月销量", "unit": "吨"},
        {"column": "销售额(万元)", "description": "当月销售额", "unit": "万元"},
        {"column": "收购均价(元/公斤)", "description": "当月收购均价", "unit": "元/公斤"},
        {
            "column": "销售渠道",
            "description": "主要销售渠道",
            "domain": ["合作社收购", "电商平台", "批发市场", "商超直供"],
        },
    ],
}


# --- agricultural-input demand, 2023-2025 (the contributors of a forecast product) -----------------

INPUTS = [("化肥", 12.0), ("种子", 3.0), ("农药", 1.5)]  # category, a village's base tons a month
SEASON = [0.3, 0.5, 1.6, 1.9, 1.2, 0.8, 0.7, 0.9, 1.4, 1.1, 0.6, 0.4]  # spring and autumn sowing
DEMAND_HEADER = [
    "村",
    "品类",
    "年月",
    "月份",
    "种植面积(亩)",
    "降雨量(mm)",
    "上年同期需求(吨)",
    "需求量(吨)",
]


def input_demand(
    villages: list[str], *, seed: int, noise: float, first_year: int = 2023, years: int = 3
) -> list[list[Any]]:
    """Monthly demand for agricultural inputs per village and category: seasons, planted area,
    rain, last year's demand; ``noise`` is how carelessly the holder records it (the data's
    quality, which the contributors' valuation measures)."""
    rng = random.Random(seed)
    rows: list[list[Any]] = []
    for village in villages:
        area = rng.randint(800, 4200)  # mu
        last = {c: [base * area / 2000 * s for s in SEASON] for c, base in INPUTS}
        for year in range(first_year, first_year + years):
            for month in range(1, 13):
                rain = max(0.0, rng.gauss(60 + 90 * SEASON[month - 1] / 1.9, 25))
                for category, base in INPUTS:
                    true = base * area / 2000 * SEASON[month - 1] * (1 + (rain - 80) / 800)
                    recorded = max(0.0, true * (1 + rng.gauss(0, noise)) + rng.gauss(0, noise))
                    rows.append(
                        [
                            village,
                            category,
                            f"{year}-{month:02d}",
                            month,
                            area,
                            round(rain, 1),
                            round(last[category][month - 1], 2),
                            round(recorded, 2),
                        ]
                    )
                    last[category][month - 1] = recorded
    return rows


def demand_file(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8") -> Path:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(DEMAND_HEADER)
    w.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path
