"""Screening benchmark: Yaosu's detectors against Presidio's pattern recognizers, in one run.

1. Labelled set: >= 5,000 values per Chinese entity type plus hard negatives (wrong check
   characters, unassigned mobile ranges, order numbers, timestamps, bank-like numbers that
   fail Luhn); precision and recall per type.
2. A generated 1,000,000-row table (names, resident IDs, mobiles, emails, addresses, bank
   cards, free-text notes, numbers): Yaosu's full scan (rows per second) and fast-mode
   classification; Presidio's EmailRecognizer, CreditCardRecognizer and PhoneRecognizer on a
   sample of the same rows (extrapolated: it runs per value in Python), with F1 against the
   generator's labels for the shared types.

Presidio is installed in ``bench/.peers`` (it pulls in spaCy; never a project dependency).
Its EmailRecognizer would download a public-suffix list at first use, which fails offline:
it is built with ``tldextract`` pointed at its bundled snapshot (see ``PRESIDIO``).

    python bench/scan.py [--rows 1000000] [--presidio-sample 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time

import pyarrow as pa
from common import HERE, machine, stamp
from stdnum.cn import ric, uscc

from yaosu.privacy.detectors import REGISTRY
from yaosu.privacy.scan import scan_table

PEERS = HERE / ".peers" / "bin" / "python"
PREFIXES = [
    "138",
    "139",
    "150",
    "151",
    "158",
    "186",
    "187",
    "199",
    "177",
    "135",
    "136",
    "182",
    "183",
]
REGIONS = ["110101", "110105", "310104", "330102", "330106", "440305", "510107", "420106"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华"


def resident(rng: random.Random) -> str:
    body = f"{rng.choice(REGIONS)}{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    from stdnum import luhn

    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


def labelled(rng: random.Random, n: int = 5000) -> dict[str, tuple[list[str], list[str]]]:
    """entity -> (positives, hard negatives)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    ids = [resident(rng) for _ in range(n)]
    bad_ids = []
    for value in ids[: n // 2]:  # a wrong check character
        wrong = rng.choice([c for c in "0123456789X" if c != value[-1]])
        bad_ids.append(value[:-1] + wrong)
    bad_ids += [
        f"2024{rng.randint(10**13, 10**14 - 1)}" for _ in range(n // 2)
    ]  # 18-digit order numbers
    codes = []
    for _ in range(n):
        body = "91" + rng.choice(REGIONS) + "".join(rng.choice(alphabet) for _ in range(9))
        codes.append(body + uscc.calc_check_digit(body))
    bad_codes = [c[:-1] + rng.choice([x for x in alphabet if x != c[-1]]) for c in codes]
    mobiles = [rng.choice(PREFIXES) + f"{rng.randint(0, 10**8 - 1):08d}" for _ in range(n)]
    bad_mobiles = [
        rng.choice(["100", "101", "102", "104", "140", "120"]) + f"{rng.randint(0, 10**8 - 1):08d}"
        for _ in range(n // 2)
    ]
    bad_mobiles += [
        str(int(time.time() * 1000) - rng.randint(0, 10**11)) for _ in range(n // 2)
    ]  # ms timestamps
    cards = [
        luhn_complete(rng.choice(["622202", "621700", "625", "4", "5"]), rng.choice([16, 19]), rng)
        for _ in range(n)
    ]
    bad_cards = []
    for card in cards:
        if card.startswith("62"):
            continue
        last = int(card[-1])
        bad_cards.append(
            card[:-1] + str((last + rng.randint(1, 9)) % 10)
        )  # fails Luhn, not UnionPay
    return {
        "CN_RESIDENT_ID": (ids, bad_ids),
        "CN_USCC": (codes, bad_codes),
        "CN_MOBILE": (mobiles, bad_mobiles),
        "CN_BANK_CARD": (cards, bad_cards),
    }


def precision_recall(
    entity: str, positives: list[str], negatives: list[str]
) -> tuple[float, float]:
    detector = REGISTRY[entity]
    tp = sum(1 for v in positives if any(m.text == v for m in detector.find(v)))
    fp = sum(1 for v in negatives if any(True for _ in detector.find(v)))
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, tp / len(positives)


def big_table(rows: int, rng: random.Random) -> tuple[pa.Table, dict[str, list[bool]]]:
    """The table and, per shared entity, which rows truly hold one (the generator's labels)."""
    names, ids, mobiles, emails, addresses, cards, notes, amounts = [], [], [], [], [], [], [], []
    truth: dict[str, list[bool]] = {"EMAIL_ADDRESS": [], "CREDIT_CARD": [], "PHONE_NUMBER": []}
    for i in range(rows):
        names.append(rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
        ids.append(resident(rng))
        mobiles.append(rng.choice(PREFIXES) + f"{rng.randint(0, 10**8 - 1):08d}")
        has_email = rng.random() < 0.7
        emails.append(f"user{i}@example{i % 50}.com" if has_email else "无")
        addresses.append(f"江州市城关镇人民路{rng.randint(1, 999)}号")
        card = (
            luhn_complete("4", 16, rng)
            if rng.random() < 0.5
            else f"ORD{rng.randint(10**12, 10**13)}"
        )
        cards.append(card)
        phone_in_note = rng.random() < 0.3
        notes.append(
            f"客户回访，联系电话{mobiles[-1]}，已处理" if phone_in_note else "客户回访，已处理"
        )
        amounts.append(round(rng.random() * 1000, 2))
        truth["EMAIL_ADDRESS"].append(has_email)
        truth["CREDIT_CARD"].append(not card.startswith("ORD"))
        truth["PHONE_NUMBER"].append(phone_in_note)
    table = pa.table(
        {
            "姓名": names,
            "身份证号": ids,
            "手机号": mobiles,
            "邮箱": emails,
            "地址": addresses,
            "卡号": cards,
            "备注": notes,
            "金额": amounts,
        }
    )
    return table, truth


PRESIDIO = r"""
import json, sys, time
import tldextract  # offline: use the public-suffix snapshot bundled with tldextract
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, EmailRecognizer, PhoneRecognizer
rows = json.load(open(sys.argv[1], encoding="utf-8"))
recognizers = {"EMAIL_ADDRESS": (EmailRecognizer(), "邮箱"), "CREDIT_CARD": (CreditCardRecognizer(), "卡号"),
               "PHONE_NUMBER": (PhoneRecognizer(supported_regions=("CN",)), "备注")}
found = {k: [] for k in recognizers}
started = time.perf_counter()
for row in rows:
    for entity, (recognizer, column) in recognizers.items():
        results = recognizer.analyze(row[column], [entity], None)
        found[entity].append(any(r.score >= 0.4 for r in results))
print(json.dumps({"seconds": time.perf_counter() - started, "found": found}))
"""


def f1(predicted: list[bool], truth: list[bool]) -> float:
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def yaosu_rows(table: pa.Table, entity: str, column: str) -> list[bool]:
    detector = REGISTRY[entity]
    return [
        bool(v) and any(True for _ in detector.find(v)) for v in table.column(column).to_pylist()
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--presidio-sample", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(43697)

    print(f"# scan benchmark, {stamp()}, {machine()}")
    print(
        "## labelled set (precision / recall)\n| entity | positives | hard negatives | precision | recall |\n|---|---:|---:|---:|---:|"
    )
    for entity, (pos, neg) in labelled(rng).items():
        p, r = precision_recall(entity, pos, neg)
        print(f"| {entity} | {len(pos):,} | {len(neg):,} | {p:.4f} | {r:.4f} |")

    table, truth = big_table(args.rows, rng)
    started = time.perf_counter()
    screen = scan_table(table)
    full = time.perf_counter() - started
    sample = table.take(
        sorted(random.Random(1).sample(range(table.num_rows), min(20_000, table.num_rows)))
    )
    started = time.perf_counter()
    scan_table(sample)
    fast = time.perf_counter() - started
    print(
        f"\n## {args.rows:,}-row table\nYaosu full scan: {full:.2f} s = {args.rows / full:,.0f} rows/s; fast mode (20,000-row sample): {fast:.2f} s"
    )
    print(
        "entities found:",
        {c.column: [e.entity for e in c.entities] for c in screen.columns if c.entities},
    )

    n = min(args.presidio_sample, table.num_rows)
    sample_rows = table.slice(0, n).to_pylist()
    if subprocess.run(
        [str(PEERS), "-c", "import presidio_analyzer"], capture_output=True
    ).returncode:
        subprocess.run([str(PEERS), "-m", "pip", "install", "-q", "presidio-analyzer"], check=True)
    path = HERE / ".data" / "scan_sample.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(sample_rows, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        [str(PEERS), "-c", PRESIDIO, str(path)], capture_output=True, text=True, timeout=3600
    )
    if done.returncode:
        sys.exit(done.stderr[-2000:])
    presidio = json.loads(done.stdout.strip().splitlines()[-1])
    per_row = presidio["seconds"] / n
    extrapolated = per_row * args.rows
    print(
        f"Presidio (3 pattern recognizers, {n:,}-row sample, extrapolated): {extrapolated:,.0f} s = {1 / per_row:,.0f} rows/s"
    )
    print(
        f"throughput ratio Yaosu / Presidio: {extrapolated / full:,.0f}x (Yaosu also runs 15 more detectors)"
    )
    sliced = table.slice(0, n)
    print("| entity | Yaosu F1 | Presidio F1 |\n|---|---:|---:|")
    ours = {
        "EMAIL_ADDRESS": ("EMAIL_ADDRESS", "邮箱"),
        "CREDIT_CARD": ("CREDIT_CARD", "卡号"),
        "PHONE_NUMBER": ("CN_MOBILE", "备注"),
    }
    for entity, (our_entity, column) in ours.items():
        labels = truth[entity][:n]
        print(
            f"| {entity} | {f1(yaosu_rows(sliced, our_entity, column), labels):.4f} | {f1(presidio['found'][entity], labels):.4f} |"
        )


if __name__ == "__main__":
    main()
