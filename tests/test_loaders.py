"""``load_now``: a whole list's keys in one batch call, the request's cache honoured."""

from __future__ import annotations

import pytest
from strawberry.dataloader import DataLoader

from resolvers.loaders import load_now


def _loader(calls: list[list[int]]) -> DataLoader[int, str]:
    async def load(keys: list[int]) -> list[str | Exception]:
        calls.append(list(keys))
        return [ValueError("bad key") if k < 0 else f"row{k}" for k in keys]

    return DataLoader(load_fn=load)  # type: ignore[arg-type]


async def test_loads_what_the_cache_lacks_in_one_call_and_keeps_it() -> None:
    calls: list[list[int]] = []
    loader = _loader(calls)
    assert await loader.load(2) == "row2"
    assert await load_now(loader, [1, 2, 3]) == ["row1", "row2", "row3"]
    assert calls == [[2], [1, 3]]  # 2 came from the cache
    assert await loader.load(3) == "row3" and await load_now(loader, [3, 1]) == ["row3", "row1"]
    assert calls == [[2], [1, 3]]  # later loads are answered by the cache


async def test_a_failed_key_raises_as_a_load_would() -> None:
    loader = _loader([])
    with pytest.raises(ValueError, match="bad key"):
        await load_now(loader, [1, -1])
    with pytest.raises(ValueError, match="bad key"):
        await loader.load(-1)
