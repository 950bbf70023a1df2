"""Where an unterminated string, quoted name or comment starts, when the tokenizer fails."""

from __future__ import annotations

from yaosu.access.governance.refusals import invalid_at
from yaosu.kernel.i18n import _


def scan(sql: str) -> None:
    """Finds an unterminated string, quoted name or comment and says where it starts (used
    when the tokenizer fails, to say why in words).

    >>> scan("SELECT 'a''b' -- fine")
    >>> scan("SELECT 'abc")
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryInvalid: The query cannot run: a text value in single quotes is not closed (line 1, column 8)
    """
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("$$", i):
            end = sql.find("$$", i + 2)
            if end == -1:
                raise invalid_at(_("a text value in $$ is not closed"), sql, i)
            i = end + 2
            continue
        if ch in ("'", '"'):
            backslash = ch == "'" and i > 0 and sql[i - 1] in "eE"
            end = i + 1
            while True:
                if backslash:
                    while end < n and sql[end] != ch:
                        end += 2 if sql[end] == "\\" else 1
                    end = end if end < n else -1
                else:
                    end = sql.find(ch, end)
                if end == -1:
                    if ch == "'":
                        raise invalid_at(
                            _("a text value in single quotes is not closed"),
                            sql,
                            i,
                        )
                    raise invalid_at(
                        _("a name in double quotes is not closed"),
                        sql,
                        i,
                    )
                if end + 1 < n and sql[end + 1] == ch:  # a doubled quote stands for itself
                    end += 2
                    continue
                break
            i = end + 1
            continue
        if sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline == -1 else newline + 1
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end == -1:
                raise invalid_at(_("a comment /* is not closed with */"), sql, i)
            i = end + 2
            continue
        i += 1
