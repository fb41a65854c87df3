"""Whether a field's selection asks for a child field: lets a list resolver load a
relation for all its items at once only when the query reads it."""

from __future__ import annotations

from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from resolvers.context import Info


def selects(info: Info, name: str) -> bool:
    """True when the current field's selection (through fragments) names ``name``."""
    raw = info._raw_info
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> bool:
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                if node.name.value == name:
                    return True
            elif isinstance(node, InlineFragmentNode):
                if walk(node.selection_set):
                    return True
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                seen.add(node.name.value)
                fragment = raw.fragments.get(node.name.value)
                if fragment is not None and walk(fragment.selection_set):
                    return True
        return False

    return any(walk(field.selection_set) for field in raw.field_nodes)
