"""Relay connections with keyset cursors: stable pages without OFFSET scans.

Every connection takes ``first``/``after`` and ``last``/``before`` (the ``First``, ``After``,
``Last`` and ``Before`` argument types) and reads them with ``window``; the pages themselves
(queries and cursor values) are ``resolvers.pages``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.schema.name_converter import NameConverter

from resolvers.pages import Page, Window, keyset_page, list_window, page_size, window
from resolvers.pages import encode as encode

__all__ = [
    "After",
    "Before",
    "Connection",
    "Edge",
    "First",
    "Last",
    "PageInfo",
    "Window",
    "connection",
    "keyset_page",
    "list_page",
    "list_window",
    "page_size",
    "window",
]

T = TypeVar("T")

First = Annotated[
    int | None,
    strawberry.argument(
        description="How many items to return from the start of the range (1..MAX_PAGE_SIZE; "
        "the default page size when neither first nor last is given). Not with last."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Only items after this cursor (an endCursor or edge cursor of this list)."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description="How many items to return from the end of the range (1..MAX_PAGE_SIZE), "
        "for paging backwards with before. Not with first."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Only items before this cursor (a startCursor or edge cursor of this list)."
    ),
]


@strawberry.type(description="Where a page lies in its list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether the list holds items after this page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item (null for an empty page)."
    )
    has_previous_page: bool = strawberry.field(
        default=False, description="Whether the list holds items before this page."
    )
    start_cursor: str | None = strawberry.field(
        default=None, description="The cursor of the page's first item (null for an empty page)."
    )


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque cursor of this item: pass it as after (or before) to page on "
        "from here. Valid for this list with the same arguments only."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="One page of a list (Relay cursor connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The items of this page with their cursors, in list order."
    )
    page_info: PageInfo = strawberry.field(
        description="Where this page lies in the list: its first and last cursors and "
        "whether there are items before or after it."
    )
    total_count: int = strawberry.field(
        description="How many items the whole list holds (all pages, not just this one)."
    )

    @strawberry.field(description="The items of this page, in list order (edges without cursors).")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def _plural(name: str) -> str:
    """The English plural of a type name (Company: Companies, Person: Persons)."""
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    return name + ("es" if name.endswith(("s", "x", "ch", "sh")) else "s")


def _describe_specialisations(generic: type, describe: Callable[[str], str]) -> None:
    """Give each specialisation of ``generic`` (``CompanyConnection`` for
    ``Connection[Company]``) a description naming its item type.

    Strawberry copies the generic's definition for each specialisation (``copy_with``),
    description included; this wraps that copy to describe the new type instead.  The
    item name is the one strawberry puts into the specialised type name.
    """
    definition = generic.__strawberry_definition__  # type: ignore[attr-defined]
    copy = definition.copy_with
    names = NameConverter()

    def copy_with(type_var_map: Mapping[str, Any]) -> type:
        specialised = copy(type_var_map)
        (item,) = type_var_map.values()
        specialised.__strawberry_definition__.description = describe(names.get_name_from_type(item))
        return specialised

    definition.copy_with = copy_with


_describe_specialisations(
    Connection,
    lambda item: (
        f"A page of {_plural(item)}: a Relay cursor connection over {item} items, "
        "with the total count of the whole list."
    ),
)
_describe_specialisations(
    Edge,
    lambda item: f"One {item} in a page of {_plural(item)}, with its cursor.",
)


def _connection(edges: list[Edge[T]], previous: bool, more: bool, total: int) -> Connection[T]:
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=more,
            end_cursor=edges[-1].cursor if edges else None,
            has_previous_page=previous,
            start_cursor=edges[0].cursor if edges else None,
        ),
        total_count=total,
    )


def connection(page: Page, make: Callable[[Any], T], sort: str | None = None) -> Connection[T]:
    """A keyset page as a connection (cursors: the (sort value, id) of each row)."""

    def cursor(row: Any) -> str:
        return encode([getattr(row, sort), row.id] if sort else [row.id])

    edges = [Edge(cursor=cursor(row), node=make(row)) for row in page.rows]
    return _connection(edges, page.has_previous, page.has_next, page.total)


def list_page(items: Sequence[Any], page: Window, make: Callable[[Any], T]) -> Connection[T]:
    """One page of an already bounded, ordered list (cursors are positions in it)."""
    start, end = list_window(len(items), page)
    edges = [Edge(cursor=encode([start + i]), node=make(x)) for i, x in enumerate(items[start:end])]
    return _connection(edges, start > 0, end < len(items), len(items))
