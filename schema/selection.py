"""Whether a field's selection asks for a child field: lets a list resolver load a
relation for all its items at once only when the query reads it."""

from __future__ import annotations

from collections.abc import Iterator

from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from resolvers.context import Info


def selects(info: Info, *path: str) -> bool:
    """True when the current field's selection (through fragments) reaches ``path``:
    ``selects(info, "participants")``, ``selects(info, "edges", "node", "owner")``."""
    raw = info._raw_info

    def children(selection_set: SelectionSetNode | None, name: str) -> Iterator[FieldNode]:
        seen: set[str] = set()

        def walk(selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
            for node in selection_set.selections if selection_set else ():
                if isinstance(node, FieldNode):
                    if node.name.value == name:
                        yield node
                elif isinstance(node, InlineFragmentNode):
                    yield from walk(node.selection_set)
                elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                    seen.add(node.name.value)
                    fragment = raw.fragments.get(node.name.value)
                    if fragment is not None:
                        yield from walk(fragment.selection_set)

        return walk(selection_set)

    level = list(raw.field_nodes)
    for name in path:
        level = [child for field in level for child in children(field.selection_set, name)]
        if not level:
            return False
    return True
