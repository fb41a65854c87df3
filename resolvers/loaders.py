"""DataLoaders: one batched ``IN (...)`` query per relation and request.

Built fresh per request, so nothing is cached across requests or viewers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

K = TypeVar("K")
T = TypeVar("T")


async def load_now(loader: DataLoader[K, T], keys: Sequence[K]) -> list[T]:
    """``loader.load_many(keys)`` without a future per key, for a caller that holds the
    whole list: what the request already loaded from the loader's cache, the rest in
    one call of its batch function now, then kept in the cache for later loads."""
    found: dict[K, T] = {}
    missing: list[K] = []
    for key in keys:
        future = loader.cache_map.get(key) if loader.cache else None
        done = future is not None and future.done() and not future.cancelled()
        if done and future.exception() is None:  # type: ignore[union-attr]
            found[key] = future.result()  # type: ignore[union-attr]
            continue
        missing.append(key)
    if missing:
        values: list[T] = []
        for value in await loader.load_fn(missing):
            if isinstance(value, BaseException):  # a load of the key would raise it
                raise value
            values.append(value)
        found.update(zip(missing, values, strict=True))
        loader.prime_many(dict(zip(missing, values, strict=True)))
    return [found[key] for key in keys]


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
