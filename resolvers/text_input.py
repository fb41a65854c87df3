"""Text a client sends: the one rule for control characters in every mutation's input.

Single-line fields (titles, locations, names, URLs, preference values ...) refuse every
control character (Unicode category Cc: C0, DEL, C1, so CR, LF and TAB too), lone
surrogates and the Unicode line and paragraph separators, with a ``VALIDATION`` error on
the field's path; nothing is silently rewritten.  Multi-line fields (``MULTI_LINE``:
agenda, comment) keep LF and TAB, turn CR LF, CR and the Unicode separators into LF, and
drop every other control character.  Raw fields (``RAW``: an RFC 5322 message) are left
to their own parser.

``clean_arguments`` applies this to a mutation's whole argument tree (GraphQL names,
nested input objects and lists), which ``schema.text_boundary`` calls for every mutation
before its resolver runs; the resolvers call ``single_line``/``multi_line`` again for
their own non-GraphQL callers.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from resolvers.errors import ValidationFailed

#: Fields that hold several lines of text (by GraphQL name).
MULTI_LINE = frozenset({"agenda", "comment"})
#: Fields passed on unchanged to a parser of their own format.
RAW = frozenset({"message"})

_SEPARATORS = "\u2028\u2029"
_NEWLINES = re.compile("\r\n|[\r\u2028\u2029\x85]")


def _bad(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs") or ch in _SEPARATORS


def _label(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def single_line(value: str, path: str) -> str:
    """Return ``value`` when it holds no control character, else raise ``ValidationFailed``."""
    for ch in value:
        if ch >= " " and ch < "\x7f":
            continue
        if _bad(ch):
            raise ValidationFailed(
                path,
                f"{_label(path)} must be one line of text without control characters "
                f"(found U+{ord(ch):04X})",
            )
    return value


def multi_line(value: str) -> str:
    """Return ``value`` with line breaks as LF, TAB kept, other control characters gone."""
    value = _NEWLINES.sub("\n", value)
    if all(" " <= ch < "\x7f" or ch in "\n\t" for ch in value):
        return value
    return "".join(ch for ch in value if ch in "\n\t" or not _bad(ch))


def clean_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Check and clean every text of a mutation's arguments (GraphQL names and values).

    The path of an error starts inside an argument called ``input`` (as the resolvers'
    own paths do) and at the argument's name otherwise, with list indexes, e.g.
    ``["participants", "3", "personId"]``.
    """
    return {
        name: _clean(value, [] if name == "input" else [name], name)
        for name, value in arguments.items()
    }


def _clean(value: Any, path: list[str], field: str) -> Any:
    if isinstance(value, str):
        if field in RAW:
            return value
        if field in MULTI_LINE:
            return multi_line(value)
        return single_line(value, ".".join(path) or field)
    if isinstance(value, dict):
        return {k: _clean(v, [*path, k], k) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, [*path, str(i)], field) for i, v in enumerate(value)]
    return value
