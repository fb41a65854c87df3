"""DataLoaders: one batched ``IN (...)`` query per relation and request.

Built fresh per request, so nothing is cached across requests or viewers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model


def _by_id(model: type[Model]) -> DataLoader[int, Any]:
    async def load(keys: list[int]) -> Sequence[Any]:
        rows = {row.pk: row for row in await model.filter(pk__in=keys)}
        return [rows.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _by_parent(model: type[Model], column: str, order: str = "id") -> DataLoader[int, list[Any]]:
    async def load(keys: list[int]) -> Sequence[list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in await model.filter(**{f"{column}__in": keys}).order_by(order, "id"):
            grouped[getattr(row, column)].append(row)
        return [grouped.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Per-request loaders, created lazily: ``loaders.by_id(Associate).load(3)``."""

    def __init__(self) -> None:
        self._loaders: dict[tuple[str, str], DataLoader[Any, Any]] = {}

    def by_id(self, model: type[Model]) -> DataLoader[int, Any]:
        key = (model.__name__, "pk")
        if key not in self._loaders:
            self._loaders[key] = _by_id(model)
        return self._loaders[key]

    def by_parent(
        self, model: type[Model], column: str, order: str = "id"
    ) -> DataLoader[int, list[Any]]:
        key = (model.__name__, column)
        if key not in self._loaders:
            self._loaders[key] = _by_parent(model, column, order)
        return self._loaders[key]

    def prime(self, rows: Sequence[Model]) -> None:
        """Put rows a query already fetched into their by-id loader."""
        for row in rows:
            self.by_id(type(row)).prime(row.pk, row)


def custom_loader(loaders: Loaders, name: str, load_fn: Any) -> DataLoader[Any, Any]:
    """A named loader with its own batch function, kept for the request."""
    key = ("custom", name)
    if key not in loaders._loaders:
        loaders._loaders[key] = DataLoader(load_fn=load_fn)
    return loaders._loaders[key]
