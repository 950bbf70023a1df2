"""De-identification recipes (GB/T 37964): per-column operations, then k-anonymity.

A recipe is plain data, so it can be suggested from a screen, edited in a form, stored
with the version it produced, and applied again:

    {"columns": {"姓名": {"op": "drop"},
                 "手机号": {"op": "mask", "keep_first": 3, "keep_last": 2},
                 "身份证号": {"op": "generalise", "to": "region_birth_year"},
                 "出生日期": {"op": "generalise", "to": "year"},
                 "客户编号": {"op": "pseudonymise"},
                 "备注": {"op": "mask_spans", "entities": ["CN_PERSON_NAME", "CN_MOBILE"]},
                 "缴费档次(元)": {"op": "round", "to": 500}},
     "k_anonymity": {"quasi_identifiers": ["出生日期", "所属乡镇"], "k": 5,
                     "sensitive": "参保状态", "l": 2}}

Operations run on Arrow columns; pseudonyms are keyed HMAC-SHA-256 with a per-dataset key
kept outside the data (same input, same token, so joins still work). ``mask_spans`` masks only
what the screen's detectors find inside a text (a name or a phone number in a remark), so the
rest of the remark (低保户代缴) is kept.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Message, Sentences, _
from yaosu.privacy.detectors import REGISTRY

OPS = ("drop", "mask", "pseudonymise", "generalise", "round", "top_code", "mask_spans")
GENERALISE = ("year", "month", "year_band", "region_birth_year", "county", "age_band")


@dataclass
class Recipe:
    columns: dict[str, dict[str, Any]]
    quasi_identifiers: list[str] = field(default_factory=list)
    k: int | None = None
    sensitive: str | None = None
    l: int | None = None  # noqa: E741 - the letter the literature uses

    @classmethod
    def parse(cls, doc: dict[str, Any], table_columns: list[str]) -> Recipe:
        problems: list[Message] = []
        columns = doc.get("columns") or {}
        if not isinstance(columns, dict):
            raise InvalidInput(problem=_("'columns' must be an object"))
        for name, step in columns.items():
            if name not in table_columns:
                problems.append(_("no column {name}", name=repr(name)))
            elif not isinstance(step, dict) or step.get("op") not in OPS:
                problems.append(_("{name}: op must be one of {OPS}", name=name, OPS=OPS))
            elif step["op"] == "generalise" and step.get("to") not in GENERALISE:
                problems.append(
                    _("{name}: 'to' must be one of {GENERALISE}", name=name, GENERALISE=GENERALISE)
                )
            elif step["op"] in ("round", "top_code") and not _number(step.get("to")):
                problems.append(_("{name}: {op} needs a number 'to'", name=name, op=step["op"]))
            elif step["op"] == "round" and step["to"] <= 0:
                problems.append(_("{name}: round needs a 'to' above 0", name=name))
            elif step["op"] == "mask" and not all(
                _count(step.get(k, 0)) for k in ("keep_first", "keep_last")
            ):
                problems.append(
                    _("{name}: keep_first and keep_last must be whole numbers >= 0", name=name)
                )
            elif step["op"] == "generalise" and "width" in step and not _positive(step["width"]):
                problems.append(_("{name}: width must be a whole number >= 1", name=name))
            elif step["op"] == "mask_spans" and not _entities(step.get("entities")):
                problems.append(
                    _(
                        "{name}: mask_spans needs 'entities', a list of detector entities such"
                        " as CN_MOBILE",
                        name=name,
                    )
                )
        anon = doc.get("k_anonymity") or {}
        quasi = list(anon.get("quasi_identifiers") or [])
        kept = [c for c in table_columns if columns.get(c, {}).get("op") != "drop"]
        problems += [_("no quasi-identifier {q}", q=repr(q)) for q in quasi if q not in kept]
        k = anon.get("k")
        if k is not None and (not isinstance(k, int) or k < 2 or not quasi):
            problems.append(_("k must be an integer >= 2 with quasi-identifiers"))
        sensitive, ell = anon.get("sensitive"), anon.get("l")
        if ell is not None and (not isinstance(ell, int) or ell < 2 or sensitive not in kept):
            problems.append(_("l needs an integer >= 2 and a sensitive column"))
        if problems:
            raise InvalidInput(problem=Sentences(problems))
        return cls(dict(columns), quasi, k, sensitive, ell)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _positive(value: Any) -> bool:
    return _count(value) and value >= 1


def _entities(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(e, str) and e in REGISTRY for e in value)
    )


@dataclass
class Result:
    table: pa.Table
    rows_in: int
    suppressed: int
    k: int | None  # the k the output reaches on the quasi-identifiers (None without any)
    l: int | None  # noqa: E741
    # Every input row with the column operations applied, before any suppression (a preview
    # compares it with the input row by row).
    transformed: pa.Table | None = None


def apply(table: pa.Table, recipe: Recipe, *, key: bytes) -> Result:
    out = table
    for name, step in recipe.columns.items():
        if step["op"] == "drop":
            out = out.drop_columns([name])
            continue
        index = out.schema.get_field_index(name)
        out = out.set_column(index, name, _column(out.column(name), step, key, name))
    transformed, suppressed = out, 0
    if recipe.k:
        out, suppressed = _suppress(out, recipe)
    return Result(out, table.num_rows, suppressed, *_reached(out, recipe), transformed)


def _column(
    column: pa.ChunkedArray, step: dict[str, Any], key: bytes, name: str
) -> pa.ChunkedArray | pa.Array:
    op = step["op"]
    if op == "mask_spans":
        return mask_spans(column, [REGISTRY[e] for e in step["entities"]], header=name)
    if op == "mask":
        text = _text(column)
        first, last = int(step.get("keep_first", 1)), int(step.get("keep_last", 0))
        length = pc.utf8_length(text)
        head = pc.utf8_slice_codeunits(text, 0, first)
        tail = pc.if_else(
            pc.greater(length, first + last), pc.utf8_slice_codeunits(text, pc_neg(last)), ""
        )
        stars = pc.binary_repeat("*", pc.max_element_wise(pc.subtract(length, first + last), 1))
        return pc.binary_join_element_wise(head, stars, tail, "")
    if op == "pseudonymise":
        text = _text(column)
        distinct = pc.unique(text.drop_null())
        tokens = pa.array(
            [
                hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:20]
                for v in distinct.to_pylist()
            ],
            pa.string(),
        )
        return pc.take(tokens, pc.index_in(text, value_set=distinct))
    if op == "round":
        step_size = float(step["to"])
        rounded = pc.multiply(
            pc.round(pc.divide(pc.cast(column, pa.float64()), step_size)), step_size
        )
        return (
            pc.cast(rounded, column.type, safe=False)
            if pa.types.is_integer(column.type)
            else rounded
        )
    if op == "top_code":
        cap = pa.scalar(step["to"]).cast(column.type)
        return pc.min_element_wise(column, cap)
    return _generalise(column, step["to"], step)


def mask_spans(
    column: pa.ChunkedArray, detectors: list[Any], *, header: str = ""
) -> pa.ChunkedArray | pa.Array:
    """Each span the detectors find in a text becomes as many ``*``; the rest of the text is
    kept. The detectors' RE2 prefilters run over the whole column in Arrow, so a cell none of
    them could match never reaches Python; each distinct candidate is then matched (and its
    check characters validated) once, exactly as the screen found it, and the masked texts go
    back to their rows with one ``index_in``/``take``. ``header`` gives the detectors their
    context (a name is a name in a 联系人 column)."""
    text = _text(column).combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(text) == 0:
        return text
    hit = pc.fill_null(
        functools.reduce(pc.or_, [pc.match_substring_regex(text, d.prefilter) for d in detectors]),
        False,
    )
    candidates = pc.unique(pc.filter(text, hit)).to_pylist()
    before, after = [], []
    for value in candidates:
        spans = [
            (m.start, m.end)
            for d in detectors
            for m in d.find(value, in_context=d.hinted_by(header))
        ]
        if spans:
            chars = list(value)
            for start, end in spans:
                chars[start:end] = "*" * (end - start)
            before.append(value)
            after.append("".join(chars))
    if not before:
        return text
    keys = pa.array(before, pa.string())
    at = pc.index_in(text, value_set=keys)
    return pc.if_else(pc.is_valid(at), pc.take(pa.array(after, pa.string()), at), text)


def pc_neg(n: int) -> int:
    """utf8_slice_codeunits start for "the last n characters" (n = 0 means none)."""
    return -n if n else 2**31 - 1


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _generalise(column: pa.ChunkedArray, to: str, step: dict[str, Any]) -> pa.ChunkedArray:
    if to == "year_band":  # a date (or a text starting with its year) -> "1950-1959"
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            year = pc.cast(pc.year(column), pa.float64())
        else:
            text = _text(column)
            digits = pc.if_else(
                pc.fill_null(pc.match_substring_regex(text, r"^\d{4}"), False),
                pc.utf8_slice_codeunits(text, 0, 4),
                pa.scalar(None, pa.string()),
            )
            year = pc.cast(digits, pa.float64())
        return _band(year, int(step.get("width", 10)))
    if to in ("year", "month"):
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            return pc.strftime(column, format="%Y" if to == "year" else "%Y-%m")
        return pc.utf8_slice_codeunits(_text(column), 0, 4 if to == "year" else 7)
    if to == "region_birth_year":  # a resident ID becomes its county code and birth year
        text = _text(column)
        return pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(text, 0, 6), pc.utf8_slice_codeunits(text, 6, 10), "-"
        )
    if to == "county":  # an address keeps everything up to its county (区/县/旗/市) ...
        text = _text(column)
        pattern = r"^(.*?[区县旗]|.*?市).*$"
        county = pc.replace_substring_regex(text, pattern, r"\1")
        # ... and one with no county to cut at is withheld, not passed on whole.
        return pc.if_else(
            pc.match_substring_regex(text, pattern), county, pa.scalar(None, pa.string())
        )
    # age_band: 30 -> "30-39"
    return _band(pc.cast(column, pa.float64()), int(step.get("width", 10)))


def _band(values: Any, width: int) -> pa.ChunkedArray:
    low = pc.multiply(pc.floor(pc.divide(values, width)), width)
    low_text = pc.cast(pc.cast(low, pa.int64()), pa.string())
    high_text = pc.cast(pc.cast(pc.add(low, width - 1), pa.int64()), pa.string())
    return pc.binary_join_element_wise(low_text, high_text, "-")


def _suppress(table: pa.Table, recipe: Recipe) -> tuple[pa.Table, int]:
    """Drop the records whose quasi-identifier group is smaller than k (or, with l, has fewer
    than l distinct sensitive values): Arrow group-by, then a semi-join on the kept groups."""
    quasi = recipe.quasi_identifiers
    aggregations: list[Any] = [([], "count_all")]
    if recipe.l and recipe.sensitive:
        aggregations.append((recipe.sensitive, "count_distinct"))
    groups = table.group_by(quasi, use_threads=False).aggregate(aggregations)
    keep = pc.greater_equal(groups.column("count_all"), recipe.k)
    if recipe.l and recipe.sensitive:
        keep = pc.and_(
            keep, pc.greater_equal(groups.column(f"{recipe.sensitive}_count_distinct"), recipe.l)
        )
    kept_groups = groups.filter(keep).select(quasi)
    out = table.join(kept_groups, keys=quasi, join_type="left semi", use_threads=False)
    return out, table.num_rows - out.num_rows


def _reached(table: pa.Table, recipe: Recipe) -> tuple[int | None, int | None]:
    if not recipe.quasi_identifiers or table.num_rows == 0:
        return None, None
    quasi = recipe.quasi_identifiers
    aggs: list[Any] = [([], "count_all")]
    if recipe.sensitive:
        aggs.append((recipe.sensitive, "count_distinct"))
    groups = table.group_by(quasi, use_threads=False).aggregate(aggs)
    k = pc.min(groups.column("count_all")).as_py()
    ell = (
        pc.min(groups.column(f"{recipe.sensitive}_count_distinct")).as_py()
        if recipe.sensitive
        else None
    )
    return k, ell


# Operations after which a column's values stay (nearly) one per person: grouping on them
# for k-anonymity would suppress every row, so a proposal leaves them out of the groups.
_SINGLING_OUT = ("drop", "mask", "pseudonymise", "mask_spans")
IN_TEXT = 0.5  # a column whose entities sit inside longer text in this share of rows


def spans_in_text(column: dict[str, Any]) -> bool:
    """Whether a screened column's personal information sits inside text (a remark naming
    a contact) rather than filling its cells: then the spans are masked, not the column."""
    found = [e for e in column.get("entities", []) if e["personal"]]
    return bool(found) and (
        bool(column.get("free_text"))
        or all(e.get("in_text", 0) >= IN_TEXT * max(1, e["rows"]) for e in found)
    )


def suggest(findings: dict[str, Any], *, k: int | None = None) -> dict[str, Any]:
    """A starting recipe from a screen: what each personal column usually needs. Text with
    names or numbers inside gets exactly those spans masked. With ``k``, when the screen
    found personal information and quasi-identifiers (性别, 出生日期, 所属乡镇 ...),
    k-anonymity on them is proposed, with birth dates cut to decades and resident IDs dropped
    (an ID cut to region and birth year is one more quasi-identifier, and groups that fine
    would suppress nearly every row)."""
    by_entity: dict[str, dict[str, Any]] = {
        "CN_RESIDENT_ID": {"op": "generalise", "to": "region_birth_year"},
        "CN_MOBILE": {"op": "mask", "keep_first": 3, "keep_last": 2},
        "CN_LANDLINE": {"op": "mask", "keep_first": 4, "keep_last": 0},
        "CN_PERSON_NAME": {"op": "pseudonymise"},
        "EMAIL_ADDRESS": {"op": "pseudonymise"},
        "CN_BANK_CARD": {"op": "drop"},
        "CREDIT_CARD": {"op": "drop"},
        "CN_ADDRESS": {"op": "generalise", "to": "county"},
        "DATE_OF_BIRTH": {"op": "generalise", "to": "year"},
        "COORDINATE": {"op": "drop"},
    }
    found = findings.get("columns", [])
    personal = any(e["personal"] for c in found for e in c["entities"])
    quasi_found = list(findings.get("quasi_identifiers") or []) if personal and k else []
    if quasi_found:
        by_entity["CN_RESIDENT_ID"] = {"op": "drop"}
        by_entity["DATE_OF_BIRTH"] = {"op": "generalise", "to": "year_band", "width": 10}
    columns: dict[str, Any] = {}
    for column in found:
        if spans_in_text(column):
            entities = sorted({e["entity"] for e in column["entities"] if e["personal"]})
            columns[column["column"]] = {"op": "mask_spans", "entities": entities}
            continue
        for e in sorted(column["entities"], key=lambda e: -e["share"]):
            if e["personal"] and e["entity"] in by_entity:
                columns[column["column"]] = dict(by_entity[e["entity"]])
                break
    doc: dict[str, Any] = {"columns": columns}
    quasi = [q for q in quasi_found if columns.get(q, {}).get("op") not in _SINGLING_OUT]
    if quasi:
        doc["k_anonymity"] = {"quasi_identifiers": quasi, "k": k}
    return doc
