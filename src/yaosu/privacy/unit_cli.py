"""``yaosu privacy-unit``: show or declare a dataset's privacy unit on the server itself."""

from __future__ import annotations

import typer
from rich.console import Console

from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, say
from yaosu.privacy import unit

console = Console()


def privacy_unit(
    dataset: str = typer.Option(..., "--dataset", "-d", help="数据集 ID / dataset id"),
    column: list[str] = typer.Option(
        [], "--column", "-c", help="代表一个人的字段，可重复 / a column naming one person (repeat)"
    ),
    each_row: bool = typer.Option(
        False, "--each-row", help="每行是不同的人 / each row is a distinct person"
    ),
    note: str = typer.Option("", "--note", help="说明 / why"),
) -> None:
    """查看或声明数据集的隐私单位 / Show or declare what one person is in a dataset."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        if column or each_row:
            unit.declare(
                session,
                system_actor(),
                dataset_id=dataset,
                columns=list(column),
                each_row_is_a_person=each_row,
                note=note,
            )
        shown = unit.view(session, system_actor(), dataset_id=dataset)
    if not shown["declared"]:
        console.print(say(_("privacy unit: not declared")))
    elif shown["each_row_is_a_person"]:
        console.print(say(_("privacy unit: each row is a distinct person")))
    else:
        console.print(say(_("privacy unit: {value}", value=" + ".join(shown["columns"]))))
    if shown["proposal"]:
        proposal = shown["proposal"]
        console.print(
            say(
                _(
                    "proposed: {columns} ({why})",
                    columns=" + ".join(proposal["columns"]),
                    why={"zh": proposal["why_zh"], "en": proposal["why_en"]},
                )
            )
        )
