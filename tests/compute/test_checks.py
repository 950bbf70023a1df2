"""Output checks: each fires on its pattern and stays silent on a clean output.

Output folders are written by hand here (manifest.json and Parquet files with PyArrow), as the
in-sandbox harness would write them; the inputs are a small farm register with identifying
columns (valid resident IDs, mobile numbers) and categorical ones."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from yaosu.compute.checks import Finding, InputIndex, Report, Rules, check_log, check_outputs
from yaosu.kernel.errors import InvalidInput

ROWS = 60
TOWNS = ["城关镇", "石桥镇", "青山乡"]
PRODUCTS = ["茶叶", "香菇", "柑橘"]


def resident_id(n: int) -> str:
    """A valid GB 11643 number (python-stdnum's check digit), born 1960-1989 in Chaoyang."""
    body = f"110105{1960 + n % 30}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


FARM = pa.table(
    {
        "身份证号": [resident_id(i) for i in range(ROWS)],
        "手机号": [13_812_340_000 + 7 * i for i in range(ROWS)],
        "乡镇": [TOWNS[i % 3] for i in range(ROWS)],
        "产品": [PRODUCTS[(i // 3) % 3] for i in range(ROWS)],
        "销量": [round(10 + i * 1.37, 2) for i in range(ROWS)],
        "年份": [2020 + i % 4 for i in range(ROWS)],
    }
)
INDEX = InputIndex.build({"farm": FARM})
OUTSIDER_ID = resident_id(999)  # a valid resident ID that is not in the inputs
assert OUTSIDER_ID not in FARM.column("身份证号").to_pylist()
assert all(ric.is_valid(n) for n in [*FARM.column("身份证号").to_pylist(), OUTSIDER_ID])


def write_folder(
    root: Path,
    *,
    tables: dict[str, pa.Table] | None = None,
    statistics: dict[str, pa.Table] | None = None,
    metrics: dict[str, Any] | None = None,
    report: str | None = None,
    model: bytes | None = None,
) -> Path:
    """An output folder as the harness writes it, with its manifest."""
    root.mkdir(parents=True, exist_ok=True)
    outputs: list[dict[str, Any]] = []
    for kind, folder, named in (
        ("table", "tables", tables),
        ("statistics", "statistics", statistics),
    ):
        for name, table in (named or {}).items():
            (root / folder).mkdir(exist_ok=True)
            pq.write_table(table, root / folder / f"{name}.parquet")
            outputs.append(
                {"name": name, "kind": kind, "file": f"{folder}/{name}.parquet", "rows": len(table)}
            )
    if metrics is not None:
        (root / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        outputs.append({"name": "metrics", "kind": "metrics", "file": "metrics.json"})
    if report is not None:
        (root / "report.md").write_text(report, encoding="utf-8")
        outputs.append({"name": "report", "kind": "report", "file": "report.md"})
    if model is not None:
        (root / "model.bin").write_bytes(model)
        outputs.append({"name": "model", "kind": "model", "file": "model.bin"})
    manifest = {"outputs": outputs, "harness": "yaosu-harness/1"}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def edit_manifest(root: Path, change: Any) -> None:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def check(root: Path, rules: Rules | None = None, log: str = "") -> Report:
    return check_outputs(root, index=INDEX, rules=rules or Rules(), log=log)


def only(report: Report, check_name: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check_name]


def assert_never_shown(report: Report, *values: str) -> None:
    """What a report says (in both languages, outputs included) never holds the value."""
    said = json.dumps(report.as_json(), ensure_ascii=False)
    for value in values:
        assert value not in said


def forecasts() -> pa.Table:
    """A derived table the way a forecast leaves: keyed by categories, values computed."""
    return pa.table(
        {
            "乡镇": [t for t in TOWNS for _ in PRODUCTS],
            "产品": PRODUCTS * 3,
            "预测销量": [round(40.5 + 3.1 * i, 3) for i in range(9)],
        }
    )


def safe_statistics() -> pa.Table:
    return pa.table(
        {
            "乡镇": TOWNS,
            "销量": [200.0, 210.0, 190.0],
            "_n": [20, 20, 20],
            "_max1": [30.0, 31.0, 29.0],
            "_max2": [28.0, 29.0, 27.0],
            "_total": [200.0, 210.0, 190.0],
        }
    )


# --- a clean output passes ---------------------------------------------------------------------


def test_a_clean_output_passes_every_check(tmp_path: Path) -> None:
    root = write_folder(
        tmp_path / "out",
        tables={"forecast": forecasts()},
        statistics={"by_town": safe_statistics()},
        metrics={"mae": 0.42, "rmse": 0.61, "rows_used": 60},
        report="# 需求预测\n\n三个乡镇的茶叶、香菇、柑橘销量预测见表 forecast，平均绝对误差 0.42。\n",
    )
    report = check(root, log="fitted 9 series in 0.8 s\n")
    assert report.findings == ()
    assert report.verdict == "pass"
    assert [o["name"] for o in report.outputs] == ["forecast", "by_town", "metrics", "report"]
    assert all(o["verdict"] == "pass" for o in report.outputs)


def test_inputs_without_identifying_columns_check_the_same_way(tmp_path: Path) -> None:
    index = InputIndex.build({"towns": FARM.select(["乡镇", "产品"]), "none": pa.table({})})
    assert index.identifying == ()
    root = write_folder(
        tmp_path / "out",
        tables={"forecast": forecasts()},
        statistics={"s": safe_statistics()},
        report=f"# 报告\n{OUTSIDER_ID}\n",
    )
    report = check_outputs(root, index=index, rules=Rules())
    assert [(f.check, f.output) for f in report.findings] == [("personal", "report")]


def test_the_report_as_json_has_one_shape(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", statistics={"s": safe_statistics().slice(0, 1)})
    table = safe_statistics().slice(0, 1).set_column(2, "_n", pa.array([3]))
    pq.write_table(table, root / "statistics" / "s.parquet")
    doc = check(root).as_json()
    assert doc["verdict"] == "review"
    assert doc["outputs"] == [
        {
            "name": "s",
            "kind": "statistics",
            "file": "statistics/s.parquet",
            "rows": 1,
            "bytes": (root / "statistics" / "s.parquet").stat().st_size,
            "verdict": "review",
        }
    ]
    first = doc["findings"][0]
    assert first["check"] == "min_cell" and first["cells"] == 1 and first["output"] == "s"
    assert first["message"]["en"] == "1 cells count fewer than 10 records (the threshold rule)"
    assert first["message"]["zh"] == "有 1 个单元格的记录数少于 10（阈值规则）"


def test_what_the_harness_writes_is_what_the_checks_read(tmp_path: Path) -> None:
    from yaosu.compute import harness

    by_town = harness.summarise(FARM, ["乡镇"], "销量")  # 20 records a town
    by_year = harness.summarise(FARM.filter(pc.equal(FARM["年份"], 2020)), ["乡镇", "年份"])
    root = tmp_path / "out"
    root.mkdir()
    harness.write_outputs(
        {"statistics": {"by_town": by_town, "by_year": by_year}, "metrics": {"towns": 3}}, root
    )
    report = check(root)
    assert [(f.check, f.output, f.cells) for f in report.findings] == [("min_cell", "by_year", 3)]


# --- raw rows ----------------------------------------------------------------------------------


def raw_rows(table: pa.Table, tmp_path: Path) -> Report:
    return check(write_folder(tmp_path / "out", tables={"scores": table}))


def test_whole_input_rows_fail(tmp_path: Path) -> None:
    report = raw_rows(FARM.slice(0, 10), tmp_path)
    assert report.verdict == "fail"
    assert [f.cells for f in only(report, "raw_rows")] == [10]


def test_shuffled_rows_with_columns_reordered_and_renamed_are_found(tmp_path: Path) -> None:
    picked = FARM.take([7, 3, 41, 0, 19])
    table = pa.table(
        {f"c{i}": picked.column(name) for i, name in enumerate(reversed(FARM.column_names))}
    )
    assert [f.cells for f in only(raw_rows(table, tmp_path), "raw_rows")] == [5]


def test_rows_whose_types_changed_are_found(tmp_path: Path) -> None:
    picked = FARM.slice(5, 4)
    table = pa.table(
        {
            "年份": pa.array([str(v) for v in picked.column("年份").to_pylist()]),  # "2021"
            "销量": pa.array([f"{v:.4f}" for v in picked.column("销量").to_pylist()]),  # "16.8500"
            "手机号": pa.array([float(v) for v in picked.column("手机号").to_pylist()]),
            "乡镇": picked.column("乡镇"),
            "产品": picked.column("产品").dictionary_encode(),
            "身份证号": picked.column("身份证号"),
        }
    )
    assert [f.cells for f in only(raw_rows(table, tmp_path), "raw_rows")] == [4]


def test_input_rows_with_a_score_appended_are_found(tmp_path: Path) -> None:
    table = FARM.slice(0, 6).append_column("score", pa.array([0.5] * 6))
    assert [f.cells for f in only(raw_rows(table, tmp_path), "raw_rows")] == [6]


def test_a_record_singled_out_by_three_of_its_values_is_found(tmp_path: Path) -> None:
    # no identifying column, but 销量 is unique to each record: these rows point at records
    table = FARM.select(["乡镇", "产品", "销量"]).slice(10, 3)
    report = raw_rows(table, tmp_path)
    (finding,) = only(report, "raw_rows")
    assert finding.cells == 3 and finding.verdict == "fail"
    assert "3 values of one record" in finding.message.render("en")


def test_categories_shared_by_several_records_are_not_raw_rows(tmp_path: Path) -> None:
    # three input columns, but each combination is shared by records: none is singled out
    groups = FARM.group_by(["乡镇", "产品", "年份"]).aggregate([([], "count_all")])
    shared = groups.filter(pc.greater(groups["count_all"], 1))
    assert shared.num_rows >= 5
    keyed = shared.drop_columns(["count_all"]).append_column(
        "预测", pa.array([1.5] * shared.num_rows)
    )
    assert only(raw_rows(keyed, tmp_path), "raw_rows") == []
    single = groups.filter(pc.equal(groups["count_all"], 1)).drop_columns(["count_all"])
    assert [f.cells for f in only(raw_rows(single, tmp_path / "b"), "raw_rows")] == [len(single)]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_permutation_of_input_rows_and_columns_is_found(tmp_path: Path, data: Any) -> None:
    rows = data.draw(st.lists(st.integers(0, ROWS - 1), min_size=1, max_size=12, unique=True))
    columns = data.draw(st.permutations(FARM.column_names))
    table = FARM.take(rows).select(columns)
    root = write_folder(tmp_path / f"out-{len(os.listdir(tmp_path))}", tables={"t": table})
    assert [f.cells for f in only(check(root), "raw_rows")] == [len(rows)]


# --- raw values --------------------------------------------------------------------------------

PHONES = [str(p) for p in FARM.column("手机号").to_pylist()]
IDS = FARM.column("身份证号").to_pylist()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_an_identifying_column_copied_out_alone_fails(tmp_path: Path) -> None:
    report = raw_rows(pa.table({"x": FARM.column("身份证号")}), tmp_path)
    (finding,) = only(report, "raw_values")
    assert finding.cells == ROWS and finding.verdict == "fail"
    assert only(report, "raw_rows") == []  # one column is not a row
    assert_never_shown(report, *IDS)


def test_categorical_columns_copied_out_are_not_identifying(tmp_path: Path) -> None:
    report = raw_rows(FARM.select(["乡镇", "产品"]), tmp_path)
    assert only(report, "raw_values") == []
    assert ("farm", "身份证号") in INDEX.identifying and ("farm", "乡镇") not in INDEX.identifying


def test_a_rare_category_is_not_an_identifying_value(tmp_path: Path) -> None:
    # two records of a long, rare variety: rare, but the column is a category, not an identity
    varieties = ["普通品种"] * (ROWS - 2) + ["有机富硒黑木耳"] * 2
    index = InputIndex.build({"farm": FARM.append_column("品种", pa.array(varieties))})
    assert [column for _table, column in index.identifying] == ["身份证号", "手机号"]
    root = write_folder(tmp_path / "out", report="# 报告\n有机富硒黑木耳的销量最高。\n")
    assert check_outputs(root, index=index, rules=Rules()).verdict == "pass"


def test_a_value_many_records_share_is_not_identifying(tmp_path: Path) -> None:
    # a remark column is mostly distinct (identifying), but its default remark is everyone's
    remarks = [f"第{i}户已上门回访并登记" for i in range(ROWS - 15)] + ["暂无补充说明信息"] * 15
    index = InputIndex.build({"farm": FARM.append_column("备注", pa.array(remarks))})
    assert ("farm", "备注") in index.identifying
    common = write_folder(tmp_path / "common", report="# 报告\n多数为：暂无补充说明信息。\n")
    assert check_outputs(common, index=index, rules=Rules()).verdict == "pass"
    rare = write_folder(tmp_path / "rare", report=f"# 报告\n例如：{remarks[3]}。\n")
    assert check_outputs(rare, index=index, rules=Rules()).verdict == "fail"


@pytest.mark.parametrize(
    "encode",
    [
        b64,
        lambda v: b64(v).rstrip("="),
        lambda v: base64.urlsafe_b64encode(v.encode()).decode(),
        lambda v: v.encode().hex(),
        lambda v: v.encode().hex().upper(),
        lambda v: v[::-1],
        lambda v: v.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),
    ],
    ids=["base64", "base64-unpadded", "base64-url", "hex", "HEX", "reversed", "full-width"],
)
def test_encoded_values_in_a_table_fail(tmp_path: Path, encode: Any) -> None:
    table = pa.table({"token": [encode(p) for p in PHONES[:5]], "score": [0.1] * 5})
    report = raw_rows(table, tmp_path)
    assert [f.cells for f in only(report, "raw_values")] == [5]


def test_values_inside_free_text_cells_fail(tmp_path: Path) -> None:
    notes = [f"第 {i} 条：已回访客户，编号 {b64(IDS[i])}，下次再联系。" for i in range(2)]
    notes.append(f"第 2 条：已回访客户，证件{IDS[2]}，下次再联系。")
    notes.append("这一条只是很长的普通说明文字，与任何人都没有关系，不应被当作泄露。")
    report = raw_rows(pa.table({"说明": notes}), tmp_path)
    assert [f.cells for f in only(report, "raw_values")] == [3]


def test_values_in_metric_names_fail(tmp_path: Path) -> None:
    metrics = {"mae": 0.4, f"error_{PHONES[3].encode().hex()}": 1.2}
    report = check(write_folder(tmp_path / "out", metrics=metrics))
    (finding,) = only(report, "raw_values")
    assert finding.output == "metrics" and finding.cells == 1
    assert_never_shown(report, PHONES[3], PHONES[3].encode().hex())


def test_an_identity_number_as_a_metric_value_fails(tmp_path: Path) -> None:
    metrics = {"mae": 0.4, "best": int(IDS[2][:17] if IDS[2][-1] == "X" else IDS[2])}
    report = check(write_folder(tmp_path / "out", metrics=metrics))
    assert report.verdict == "fail"


def test_values_in_the_report_fail(tmp_path: Path) -> None:
    text = f"# 结果\n\n样本 {b64(IDS[4])} 的预测误差最大。\n其余均正常。\n"
    report = check(write_folder(tmp_path / "out", report=text))
    (finding,) = only(report, "raw_values")
    assert finding.output == "report" and finding.cells == 1
    assert finding.message.render("zh-CN") == "报告含有 1 处输入中标识性字段的值（原样或经编码）"


@pytest.mark.parametrize(
    "written",
    [lambda v: v, lambda v: v[::-1], lambda v: b64(f"id={v};"), lambda v: v.encode().hex()],
    ids=["plain", "reversed", "base64-with-other-text", "hex"],
)
def test_values_written_any_way_in_the_report_fail(tmp_path: Path, written: Any) -> None:
    text = f"# 结果\n\n编号 {written(IDS[7])} 需要复核。\n"
    report = check(write_folder(tmp_path / "out", report=text))
    assert [(f.check, f.cells) for f in only(report, "raw_values")] == [("raw_values", 1)]


def test_values_in_a_file_name_fail_and_the_name_is_hidden(tmp_path: Path) -> None:
    hexed = PHONES[0].encode().hex()
    report = check(write_folder(tmp_path / "out", tables={f"t_{hexed}": forecasts()}))
    (finding,) = only(report, "raw_values")
    assert finding.output == "" and finding.verdict == "fail"
    assert [o["name"] for o in report.outputs] == ["t_***"]
    assert report.outputs[0]["file"] == "***"
    assert_never_shown(report, hexed)


def test_encoded_values_among_other_words_in_a_name_fail(tmp_path: Path) -> None:
    name = f"user_{b64(PHONES[9]).rstrip('=')}_scores"
    report = check(write_folder(tmp_path / "out", tables={name: forecasts()}))
    assert [f.check for f in report.findings] == ["raw_values"]
    assert report.outputs[0]["name"] == "user_***_scores"


def test_values_in_column_names_fail(tmp_path: Path) -> None:
    pivot = pa.table({"乡镇": TOWNS, PHONES[1]: [1.0, 2.0, 3.0]})
    report = raw_rows(pivot, tmp_path)
    (finding,) = only(report, "raw_values")
    assert finding.output == "scores"
    assert "column names" in finding.message.render("en")


def test_the_log_comes_back_redacted() -> None:
    log = f"loading\nrow {PHONES[2]} has a gap\nid={b64(IDS[1])} done\nbye {OUTSIDER_ID}\n"
    redacted, findings = check_log(log, index=INDEX)
    assert redacted == "loading\nrow [已隐去] has a gap\nid=[已隐去] done\nbye [已隐去]\n"
    assert {(f.check, f.verdict, f.cells) for f in findings} == {
        ("raw_values", "fail", 2),
        ("personal", "fail", 2),  # the phone and the outsider's resident ID
    }
    english, _findings = check_log(log, index=INDEX, locale="en")
    assert "row [redacted] has a gap" in english


def test_a_clean_log_is_returned_as_it_is() -> None:
    log = "epoch 1 loss 0.53\nepoch 2 loss 0.41\n"
    assert check_log(log, index=INDEX) == (log, [])


def test_a_log_with_values_fails_the_outputs(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    report = check(root, log=f"debug {PHONES[0]}\n")
    assert report.verdict == "fail"
    assert {f.output for f in report.findings} == {""}
    assert report.outputs[0]["verdict"] == "pass"  # the table itself is clean


# --- personal information ----------------------------------------------------------------------


def test_a_resident_id_in_the_report_fails(tmp_path: Path) -> None:
    assert ric.is_valid(OUTSIDER_ID)
    text = f"# 个案\n\n身份证号 {OUTSIDER_ID} 的农户需求最高。\n"
    report = check(write_folder(tmp_path / "out", report=text))
    (finding,) = only(report, "personal")
    assert finding.output == "report" and finding.verdict == "fail"
    assert "CN_RESIDENT_ID" in finding.message.render("en")
    assert only(report, "raw_values") == []  # not from the inputs: found as what it is
    assert_never_shown(report, OUTSIDER_ID)


def test_personal_information_in_a_table_fails(tmp_path: Path) -> None:
    table = pa.table({"联系邮箱": ["a.zhang@example.com", "li.si@example.org"], "评分": [0.3, 0.7]})
    (finding,) = only(raw_rows(table, tmp_path), "personal")
    assert finding.cells == 2 and "EMAIL_ADDRESS" in finding.message.render("en")


def test_sums_in_a_statistics_table_are_not_taken_for_phone_numbers(tmp_path: Path) -> None:
    table = safe_statistics().set_column(1, "销量", pa.array([13_800_138_000] * 3))
    report = check(write_folder(tmp_path / "out", statistics={"s": table}))
    assert only(report, "personal") == []


# --- statistics: ACRO's rules ------------------------------------------------------------------


def stats_report(tmp_path: Path, rules: Rules | None = None, **columns: list[Any]) -> Report:
    base = {
        "乡镇": TOWNS,
        "_n": [20, 20, 20],
        "_max1": [30.0, 31.0, 29.0],
        "_max2": [28.0, 29.0, 27.0],
        "_total": [200.0, 210.0, 190.0],
    }
    table = pa.table(base | columns)
    return check(write_folder(tmp_path / "out", statistics={"s": table}), rules)


def test_a_safe_statistics_table_passes(tmp_path: Path) -> None:
    assert stats_report(tmp_path).verdict == "pass"


def test_small_cells_are_reviewed(tmp_path: Path) -> None:
    report = stats_report(tmp_path, _n=[9, 1, 10])
    (finding,) = only(report, "min_cell")
    assert (finding.verdict, finding.cells) == ("review", 2)
    assert report.verdict == "review"
    assert only(stats_report(tmp_path / "b", Rules(min_cell=5), _n=[9, 5, 10]), "min_cell") == []


def test_zero_cells_are_reviewed_when_zeros_are_disclosive(tmp_path: Path) -> None:
    columns: dict[str, list[Any]] = {
        "_n": [0, 20, 20],
        "_max1": [None, 31.0, 29.0],
        "_max2": [None, 29.0, 27.0],
        "_total": [0.0, 210.0, 190.0],
    }
    report = stats_report(tmp_path, **columns)
    assert [(f.check, f.cells) for f in report.findings] == [("zeros", 1)]
    allowed = stats_report(tmp_path / "b", Rules(zeros_disclosive=False), **columns)
    assert allowed.verdict == "pass"


def test_a_cell_dominated_by_two_contributors_is_reviewed(tmp_path: Path) -> None:
    # 90 of 100 is ACRO's boundary: top_n_sum / sum >= 0.9 is flagged
    report = stats_report(
        tmp_path, _max1=[60.0, 31.0, 80.0], _max2=[30.0, 29.0, 9.0], _total=[100.0, 210.0, 100.0]
    )
    (finding,) = only(report, "dominance")
    assert (finding.verdict, finding.cells) == ("review", 1)
    assert "90%" in finding.message.render("en")


def test_dominance_is_not_defined_with_negative_contributions(tmp_path: Path) -> None:
    report = stats_report(tmp_path, _max2=[-1.0, 29.0, 27.0])
    (finding,) = only(report, "dominance")
    assert finding.cells == 1 and "negative" in finding.message.render("en")


def test_a_cell_the_second_contributor_could_unpick_is_reviewed(tmp_path: Path) -> None:
    # the rest (10 and 9.9) against p = 10 % of the largest (100): 9.9 < 10 is flagged, 10 not
    report = stats_report(
        tmp_path, _max1=[100.0, 100.0, 29.0], _max2=[5.0, 5.0, 27.0], _total=[115.0, 114.9, 190.0]
    )
    (finding,) = only(report, "p_ratio")
    assert (finding.verdict, finding.cells) == ("review", 1)
    # with ACRO's defaults a p-ratio cell is always dominated too: rest < max1 / 10 means the
    # two largest make more than 90 % of the total
    assert [f.cells for f in only(report, "dominance")] == [2]


def test_a_statistics_table_without_its_evidence_fails(tmp_path: Path) -> None:
    root = write_folder(
        tmp_path / "out", statistics={"s": pa.table({"乡镇": TOWNS, "n": [20] * 3})}
    )
    (finding,) = only(check(root), "kind")
    assert finding.verdict == "fail" and "_n" in finding.message.render("en")
    half = pa.table({"乡镇": TOWNS, "_n": [20] * 3, "_max1": [1.0] * 3})
    root = write_folder(tmp_path / "half", statistics={"s": half})
    assert only(check(root), "kind")[0].verdict == "fail"


# --- the folder ------------------------------------------------------------------------------


def test_a_file_outside_the_manifest_fails(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    (root / "tables" / "extra.parquet").write_bytes(b"PAR1")
    (finding,) = only(check(root), "files")
    assert finding.verdict == "fail" and "tables/extra.parquet" in finding.message.render("en")


def test_a_symbolic_link_fails_and_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "input.parquet"
    pq.write_table(FARM, secret)
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    os.symlink(secret, root / "tables" / "leak.parquet")
    report = check(root)
    assert [f.check for f in report.findings] == ["files"]  # nothing read through the link


def test_a_hard_link_fails(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    os.link(root / "tables" / "forecast.parquet", tmp_path / "elsewhere.parquet")
    assert check(root).verdict == "fail"


def test_a_folder_that_cannot_be_listed_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod 0 stops no one running as root (CI does), so the walk is told it was refused
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    walk = os.walk

    def refused(top: Path, onerror: Any = None, followlinks: bool = False) -> Any:
        onerror(PermissionError(13, "Permission denied", str(Path(top) / "tables")))
        return walk(top, onerror=onerror, followlinks=followlinks)

    monkeypatch.setattr(os, "walk", refused)
    (finding,) = check(root).findings
    assert (finding.check, finding.verdict, finding.cells) == ("files", "fail", 1)


def test_an_unexpected_folder_fails(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    (root / "tables" / "deeper").mkdir()
    assert only(check(root), "files")[0].cells == 1


@pytest.mark.parametrize(
    "path",
    ["../forecast.parquet", "/tmp/forecast.parquet", "tables/../../forecast.parquet"],
)
def test_a_path_outside_the_folder_fails(tmp_path: Path, path: str) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    pq.write_table(forecasts(), tmp_path / "forecast.parquet")
    edit_manifest(root, lambda m: m["outputs"][0].update(file=path))
    messages = [f.message.render("en") for f in only(check(root), "files")]
    assert "an output's file is outside the output folder" in messages


def test_a_wrong_place_or_extension_fails(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    os.rename(root / "tables" / "forecast.parquet", root / "tables" / "forecast.csv")
    edit_manifest(root, lambda m: m["outputs"][0].update(file="tables/forecast.csv"))
    messages = [f.message.render("en") for f in only(check(root), "files")]
    assert messages == [
        "a table output is kept in tables/forecast.parquet",
        "tables/forecast.csv is not an output the manifest names",
    ]


def test_a_parquet_file_that_does_not_parse_fails(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    (root / "tables" / "forecast.parquet").write_bytes(b"not parquet at all")
    (finding,) = check(root).findings
    assert (finding.check, finding.output) == ("files", "forecast")


def test_a_missing_or_foreign_manifest_fails(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    edit_manifest(root, lambda m: m.update(harness="something-else/2"))
    assert [f.check for f in check(root).findings] == ["files", "files"]  # and the stray table
    (root / "manifest.json").unlink()
    assert "no manifest.json" in check(root).findings[0].message.render("en")


def test_a_table_and_a_statistics_table_may_share_a_name(tmp_path: Path) -> None:
    root = write_folder(
        tmp_path / "out", tables={"sales": forecasts()}, statistics={"sales": safe_statistics()}
    )
    assert check(root).verdict == "pass"
    edit_manifest(root, lambda m: m["outputs"].append(dict(m["outputs"][0])))
    messages = [f.message.render("en") for f in check(root).findings]
    assert messages == ["two outputs have the same name or file"]


def test_rows_that_disagree_with_the_manifest_fail(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"forecast": forecasts()})
    edit_manifest(root, lambda m: m["outputs"][0].update(rows=3))
    (finding,) = check(root).findings
    assert finding.message.render("en") == "manifest.json gives 3 rows; the file has 9"


def test_two_columns_of_one_name_fail(tmp_path: Path) -> None:
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4])], names=["x", "x"])
    (finding,) = only(raw_rows(table, tmp_path), "files")
    assert finding.message.render("en") == "the table has two columns of the same name"


def test_an_output_folder_that_is_a_link_fails(tmp_path: Path) -> None:
    real = write_folder(tmp_path / "real", tables={"forecast": forecasts()})
    os.symlink(real, tmp_path / "out")
    report = check(tmp_path / "out")
    assert [f.check for f in report.findings] == ["files"] and report.outputs == ()


def test_nested_columns_fail(tmp_path: Path) -> None:
    table = pa.table({"ids": pa.array([[p] for p in PHONES[:3]]), "x": [1, 2, 3]})
    (finding,) = only(raw_rows(table, tmp_path), "kind")
    assert finding.verdict == "fail"


def test_an_oversized_folder_fails_unread(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={"copy": FARM})
    report = check(root, Rules(max_output_bytes=1000))
    assert [f.check for f in report.findings] == ["size"]  # the raw rows were not even read
    assert report.outputs == ()


def test_too_many_files_fail(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", tables={f"t{i}": forecasts() for i in range(4)})
    assert [f.check for f in check(root, Rules(max_files=4)).findings] == ["size"]
    assert check(root, Rules(max_files=5)).verdict == "pass"


def test_tables_too_large_once_decompressed_fail(tmp_path: Path) -> None:
    big = pa.table({"x": pa.array(["同一个值"] * 200_000)})  # compresses to almost nothing
    root = write_folder(tmp_path / "out", tables={"big": big})
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    report = check(root, Rules(max_output_bytes=size * 2))
    assert [f.check for f in report.findings] == ["size"]


def test_long_text_repeated_is_measured_before_it_is_decoded(tmp_path: Path) -> None:
    # 20,000 rows of one 1,000-character value: a few kB on disk, 20 MB decoded
    big = pa.table({"x": pa.array(["长" * 1000] * 20_000)})
    root = write_folder(tmp_path / "out", tables={"big": big})
    assert sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) < 100_000
    report = check(root, Rules(max_output_bytes=100_000))
    assert [(f.check, f.output) for f in report.findings] == [("size", "big")]


# --- kinds and models ------------------------------------------------------------------------


def test_a_model_fails_when_the_contract_does_not_allow_it(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", model=b"\x00weights")
    (finding,) = check(root).findings
    assert (finding.check, finding.verdict) == ("kind", "fail")
    assert finding.message.render("zh-CN") == "合同不允许导出模型"


def test_an_allowed_model_is_reviewed_by_a_person(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", model=b"\x00weights")
    rules = Rules(kinds=frozenset({"table", "model"}))
    (finding,) = check(root, rules).findings
    assert (finding.check, finding.verdict, finding.output) == ("model", "review", "model")
    assert "membership-inference" in finding.message.render("en")


def test_an_undeclared_kind_fails(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "out", report="# 报告\n")
    (finding,) = check(root, Rules(kinds=frozenset({"table"}))).findings
    assert (finding.check, finding.verdict) == ("kind", "fail")


# --- the rules ---------------------------------------------------------------------------------


def test_the_default_rules_are_acros() -> None:
    # acro/default.yaml (ACRO 1.0.2): safe_threshold 10, safe_nk_n 2, safe_nk_k 0.90,
    # safe_pratio_p 0.10, zeros_are_disclosive True
    rules = Rules.parse({})
    assert (rules.min_cell, rules.dominance_n, rules.dominance_k, rules.p_ratio) == (
        10,
        2,
        0.9,
        0.1,
    )
    assert rules.zeros_disclosive and "model" not in rules.kinds


def test_a_datasets_overrides_are_read() -> None:
    rules = Rules.parse({"min_cell": 5, "p_ratio": 0, "kinds": ["table", "model"]})
    assert (rules.min_cell, rules.p_ratio, rules.kinds) == (5, 0.0, frozenset({"table", "model"}))


def test_bad_rules_are_refused_with_every_problem_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        Rules.parse(
            {"min_cell": 0, "dominance_n": 3, "dominance_k": True, "kinds": ["csv"], "k": 1}
        )
    message = caught.value.message("zh-CN")
    for part in ("未知的输出检查规则", "min_cell", "dominance_n", "dominance_k", "kinds"):
        assert part in message
    with pytest.raises(InvalidInput):
        Rules.parse(["min_cell"])  # type: ignore[arg-type]


def test_the_checks_leave_no_duckdb_open(tmp_path: Path) -> None:
    """A DuckDB left open in the process broke what it forked later (Spark's gateway died at
    its start after a compute job had run in the same process): each entry point closes its."""
    from yaosu.compute.checks import keys

    table = pa.table({"id": [f"ID{i:08d}" for i in range(200)], "n": list(range(200))})
    index = InputIndex.build({"t": table})
    assert getattr(keys._LOCAL, "db", None) is None
    check_log("no values here", index=index)
    assert getattr(keys._LOCAL, "db", None) is None
    (tmp_path / "manifest.json").write_text('{"outputs": [], "harness": "yaosu-harness/1"}')
    check_outputs(tmp_path, index=index, rules=Rules())
    assert getattr(keys._LOCAL, "db", None) is None
