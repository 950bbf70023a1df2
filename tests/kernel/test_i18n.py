"""The one localisation: messages with parameters, labels per kind, and every catalog clean."""

from __future__ import annotations

from yaosu.kernel import i18n
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import Message, _, catalog_paths, label, read_catalog, register_labels


def test_a_message_renders_in_each_language_with_translated_parameters() -> None:
    message = _("{kind} {id} was not found, or you may not see it.", kind=_("Dataset"), id="ds_1")
    assert message.render("en") == "Dataset ds_1 was not found, or you may not see it."
    assert message.render("zh-CN") == "未找到数据集 ds_1，或您无权查看。"
    assert str(message) == message.render("en")


def test_an_error_detail_that_is_a_message_is_rendered_in_the_readers_language() -> None:
    error = NotFound(kind=_("Dataset"), id="ds_1")
    assert error.message("zh-CN") == "未找到数据集 ds_1，或您无权查看。"
    assert "Dataset ds_1" in error.message("en")


def test_lists_join_the_way_the_language_does() -> None:
    assert i18n.localise([_("Dataset"), "x"], "zh-CN") == "数据集、x"
    assert i18n.localise([_("Dataset"), "x"], "en") == "Dataset, x"


def test_a_missing_parameter_leaves_the_template_rather_than_failing() -> None:
    assert Message("Row {line} is bad").render("en") == "Row {line} is bad"
    assert _("Row {line} is bad", other=1).render("en") == "Row {line} is bad"


def test_labels_are_per_kind_so_one_word_can_read_two_ways() -> None:
    register_labels("test_a", {"pending": "pending"})
    register_labels("test_b", {"pending": "pending"})
    assert label("test_a", "pending").context == "test_a"
    assert label("test_b", "pending").context == "test_b"
    assert label("test_a", "unknown").render("zh-CN") == "unknown"


def test_every_catalog_is_complete_clean_and_consistent() -> None:
    """No empty or fuzzy entry in any package's catalog, and one translation per message id
    (with its context) across all of them."""
    paths = catalog_paths()
    assert len(paths) >= 2, paths
    seen: dict[tuple[str, str | None], tuple[str, str]] = {}
    for path in paths:
        for message in read_catalog(path):
            if not message.id:
                continue  # the header
            where = str(path.relative_to(i18n.PACKAGE))
            assert message.string, f"{where}: empty translation for {message.id!r}"
            assert not message.fuzzy, f"{where}: fuzzy translation for {message.id!r}"
            key = (message.id, message.context)
            if key in seen:
                other_where, other = seen[key]
                assert other == message.string, (
                    f"{message.id!r} reads {other!r} in {other_where} and {message.string!r} "
                    f"in {where}: keep one, or give them a context"
                )
            seen[key] = (where, str(message.string))


def test_every_catalog_ships_with_the_package() -> None:
    """Each package's catalog is package data: a wheel without it shows English."""
    import tomllib

    pyproject = i18n.PACKAGE.parents[1] / "pyproject.toml"
    patterns = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["yaosu"]
    shipped = {path for pattern in patterns for path in i18n.PACKAGE.glob(pattern)}
    assert [p for p in catalog_paths() if p not in shipped] == []
