"""The names a contract gives its datasets in governed SQL (``FROM 参保人员``, not ``FROM ds_…``).

A request maps each alias to one of its datasets: the consumer's choice, or by default the
dataset's title made into an SQL identifier. An alias is a name an analyst can type without
quotes: letters (CJK among them), digits and underscores, at most ``MAX_LENGTH`` characters,
not starting with a digit or with ``ds_`` (dataset ids keep that prefix, so an alias never
hides one), never an SQL keyword, one per dataset and unique within the request, compared
without case as DuckDB compares names. The contract copies the request's aliases when it is
made and never renames them. Pure functions: the caller reads the titles.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Message, Sentences, _

MAX_LENGTH = 40
RESERVED_PREFIX = "ds_"
FALLBACK = "dataset"  # a title with no letter or digit in it


@cache
def _keywords() -> frozenset[str]:
    """SQL keywords as sqlglot knows them for DuckDB: its tokenizer's keywords (each word of
    ``ORDER BY`` too) and the words its generator quotes as reserved."""
    from sqlglot.dialects.duckdb import DuckDB

    words = {w for k in DuckDB.Tokenizer.KEYWORDS for w in k.split() if w.isidentifier()}
    words |= set(DuckDB.Generator.RESERVED_KEYWORDS)
    return frozenset(w.upper() for w in words)


def _allowed(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdecimal()


def _one_name(alias: str) -> bool:
    """sqlglot reads ``alias`` as one plain name (not a keyword, number or operator)."""
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = DuckDB().tokenize(alias)
    except TokenError:
        return False
    return len(tokens) == 1 and tokens[0].token_type == TokenType.VAR and tokens[0].text == alias


def alias_problems(alias: str) -> list[Message]:
    """What makes ``alias`` unusable as a table name in governed SQL (empty: nothing).

    >>> alias_problems("参保人员")
    []
    >>> [m.id for m in alias_problems("select")]
    ['{alias} is an SQL keyword; choose another name']
    >>> len(alias_problems("ds_people")), len(alias_problems("2024年")), len(alias_problems("a b"))
    (1, 1, 1)
    """
    if not alias:
        return [_("a table name may not be empty")]
    problems = []
    if len(alias) > MAX_LENGTH:
        problems.append(
            _(
                "{alias} is longer than {max_length} characters",
                alias=alias,
                max_length=MAX_LENGTH,
            )
        )
    bad = sorted({ch for ch in alias if not _allowed(ch)})
    if bad:
        problems.append(
            _(
                "{alias} holds {characters}: a table name has only letters, digits and underscores",
                alias=alias,
                characters="".join(bad),
            )
        )
    elif alias[0].isdecimal():
        problems.append(_("{alias} starts with a digit", alias=alias))
    elif alias.lower().startswith(RESERVED_PREFIX):
        problems.append(
            _(
                "{alias} starts with {prefix}, which only dataset ids do",
                alias=alias,
                prefix=RESERVED_PREFIX,
            )
        )
    elif alias.upper() in _keywords() or not _one_name(alias):
        problems.append(_("{alias} is an SQL keyword; choose another name", alias=alias))
    return problems


def identifier_from(title: str) -> str:
    """A title made into a table name: only its letters, digits and underscores, at most
    ``MAX_LENGTH`` of them, led by an underscore when it would start with a digit or ``ds_``
    or be an SQL keyword.

    >>> identifier_from("江州市城乡居民社会保险参保人员信息")
    '江州市城乡居民社会保险参保人员信息'
    >>> identifier_from("2024年各乡镇农产品销售数据（示例）")
    '_2024年各乡镇农产品销售数据示例'
    >>> identifier_from("Order"), identifier_from("ds_x"), identifier_from("·—·")
    ('_Order', '_ds_x', 'dataset')
    """
    name = "".join(ch for ch in title if _allowed(ch))[:MAX_LENGTH] or FALLBACK
    if alias_problems(name):
        name = ("_" + name)[:MAX_LENGTH]
    return name if not alias_problems(name) else FALLBACK


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f"_{n}"
        name = base[: MAX_LENGTH - len(suffix)] + suffix
    return name


def default_aliases(titles: Mapping[str, str]) -> dict[str, str]:
    """Each dataset's default alias, from its title, unique within the request.

    >>> default_aliases({"ds_a": "参保人员", "ds_b": "参保人员", "ds_c": "参保人员_2"})
    {'参保人员': 'ds_a', '参保人员_2': 'ds_b', '参保人员_2_2': 'ds_c'}
    """
    return choose_aliases(titles, chosen={})


def choose_aliases(titles: Mapping[str, str], *, chosen: Mapping[str, str]) -> dict[str, str]:
    """The request's aliases {alias: dataset id}: those ``chosen`` (checked: each names a
    dataset of the request, one per dataset, a usable and unique name), and for every other
    dataset its default. ``titles``: {dataset id: title}, in the request's order. Raises
    InvalidInput naming every problem.

    >>> choose_aliases({"ds_a": "参保人员", "ds_b": "用电量"}, chosen={"居民": "ds_a"})
    {'居民': 'ds_a', '用电量': 'ds_b'}
    >>> choose_aliases({"ds_a": "参保人员"}, chosen={"居民": "ds_z"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.InvalidInput: ...
    """
    problems: list[Message] = []
    mine: dict[str, str] = {}  # dataset id -> its chosen alias
    taken: set[str] = set()
    for alias, dataset_id in chosen.items():
        alias = alias.strip()
        if dataset_id not in titles:
            problems.append(
                _(
                    "the table name {alias} is for {dataset_id}, which the request does not ask for",
                    alias=alias,
                    dataset_id=dataset_id,
                )
            )
            continue
        if dataset_id in mine:
            problems.append(
                _(
                    "{title} is given two table names ({first}, {second}); give it one",
                    title=titles[dataset_id],
                    first=mine[dataset_id],
                    second=alias,
                )
            )
            continue
        found = alias_problems(alias)
        if not found and alias.lower() in taken:
            found = [_("the table name {alias} is given twice", alias=alias)]
        problems += found
        mine[dataset_id] = alias
        taken.add(alias.lower())
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    out: dict[str, str] = {}
    for dataset_id, title in titles.items():
        alias = mine.get(dataset_id) or _unique(identifier_from(title), taken)
        taken.add(alias.lower())
        out[alias] = dataset_id
    return out


def alias_of(aliases: Mapping[str, str] | None, dataset_id: str) -> str | None:
    """The alias a contract or request gives ``dataset_id`` (None: it has none).

    >>> alias_of({"参保人员": "ds_a"}, "ds_a"), alias_of({}, "ds_a")
    ('参保人员', None)
    """
    return next((a for a, d in (aliases or {}).items() if d == dataset_id), None)
