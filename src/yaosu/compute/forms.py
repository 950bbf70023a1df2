"""A console form's fields checked as the API's body: every problem pydantic finds, worded for
the reader (the field's label, not its path), raised as one ``InvalidInput``. The compute
pages and the ethics pages share it, each with its own field labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Message, Sentences, _

Model = TypeVar("Model", bound=BaseModel)


def problem(error: Mapping[str, Any], fields: Mapping[str, str]) -> Message:
    """One problem pydantic found, in the reader's language; ``fields`` labels the paths."""
    where = ".".join(str(p) for p in error["loc"])
    field = Message(fields[where]) if where in fields else where
    kind, limits = error["type"], error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and limits.get("min_length") == 1):
        return _("{field}: fill it in", field=field)
    if kind == "string_too_short":
        return _("{field}: at least {n} characters", field=field, n=limits.get("min_length"))
    if kind == "string_too_long":
        return _("{field}: at most {n} characters", field=field, n=limits.get("max_length"))
    if kind == "too_short":
        return _("{field}: choose at least {n}", field=field, n=limits.get("min_length"))
    if kind == "too_long":
        return _("{field}: choose at most {n}", field=field, n=limits.get("max_length"))
    if kind == "literal_error":
        return _("{field}: choose one of the offered values", field=field)
    if where.endswith("_on"):
        return _("{field}: a day, such as 2026-01-13", field=field)
    return _("{field}: {problem}", field=field, problem=error["msg"])


def validated(model: type[Model], doc: Mapping[str, Any], fields: Mapping[str, str]) -> Model:
    """A form's fields as the API's body, or every problem in the reader's language."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems = [problem(e, fields) for e in exc.errors()]
        raise InvalidInput(problem=Sentences(problems)) from None
