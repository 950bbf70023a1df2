"""Lineage's API shapes: events are OpenLineage's own JSON, graphs are Yaosu's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class EventsPublic(BaseModel):
    """OpenLineage run events, as emitted (https://openlineage.io/spec/2-0-2/OpenLineage.json)."""

    items: list[dict[str, Any]]
    total: int


class GraphPublic(BaseModel):
    """A lineage graph: datasets and runs, and edges from inputs to runs to outputs."""

    datasets: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    edges: list[list[str]]
