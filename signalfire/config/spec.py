"""Pieces shared by the page file's models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def null_as(empty: Any) -> BeforeValidator:
    # A key left empty (``groups:`` with its entries commented out) reads as null.
    return BeforeValidator(lambda v: empty() if v is None else v)


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Name = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=200)]
Text = Annotated[str, null_as(str)]


class Spec(BaseModel):
    # strict: YAML already types its scalars; `name: 404` or `only_show_if_degraded: "no"`
    # is a mistake, not something to coerce.
    model_config = ConfigDict(extra="forbid", strict=True)
