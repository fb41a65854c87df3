"""Call links: a number normalised for dialling, put into the phone link format.

``%p`` is the number: E.164 (``+4722334455``) when the country is known and the number
is valid, otherwise its digits with a leading ``+`` kept.  ``{firstName}``, ``{lastName}``,
``{fullName}``, ``{companyName}``, ``{personId}``, ``{companyId}`` and ``{country}`` are
the person's and company's fields.  Every substituted value is percent-encoded.

``check_format`` owns what a format may be: a URI template (RFC 6570) of printable ASCII
starting with a scheme, never one a browser runs or reads locally (``javascript:``,
``data:``, ``vbscript:``, ``file:``, ``blob:`` ...), without the characters a URI cannot
hold (space, quotes, ``<``, ``>``, backslash, ``^``, backquote, ``|``, controls), and
``%`` only as ``%p`` or a percent-encoded octet.  ``build_link`` re-checks the stored
format, so a value stored before these rules falls back to ``tel:%p``; what it fills in
is percent-encoded, so the link holds nothing the format could not.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import phonenumbers

from orm.preferences import DEFAULTS, PreferenceKey


def dial_number(raw: str, country: str | None) -> str:
    """The number as it should be dialled."""
    text = raw.strip()
    try:
        parsed = phonenumbers.parse(text, (country or "").upper() or None)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = re.sub(r"\D", "", text)
    if text.startswith("00") and digits.startswith("00"):
        return "+" + digits[2:]
    return ("+" if text.startswith("+") else "") + digits


DEFAULT_FORMAT = DEFAULTS[PreferenceKey.PHONE_LINK_FORMAT]
TEMPLATE_VARIABLES = (
    "firstName",
    "lastName",
    "fullName",
    "companyName",
    "personId",
    "companyId",
    "country",
)
#: Schemes a browser executes or resolves locally instead of handing to a dialler.
REFUSED_SCHEMES = frozenset(
    {"javascript", "data", "vbscript", "file", "blob", "filesystem", "about", "view-source"}
)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
#: Printable ASCII a URI template may hold literally (RFC 6570 section 2.1), plus ``%``
#: (checked apart) and the braces of ``{variable}`` (removed before this check).
_LITERAL = re.compile(r"[!#$&()*+,\-./0-9:;=?@A-Z\[\]_a-z~%]*")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def check_format(value: str) -> str:
    """Return a phone link format stripped, or raise ValueError saying what is wrong."""
    value = value.strip()
    if len(value) > 500:
        raise ValueError("must be at most 500 characters")
    if "%p" not in value:
        raise ValueError("must contain %p, the place of the phone number")
    scheme = _SCHEME.match(value)
    if scheme is None:
        raise ValueError("must start with a URI scheme such as tel: or callto:")
    if scheme.group(1).lower() in REFUSED_SCHEMES:
        raise ValueError(
            f"must not use the {scheme.group(1).lower()}: scheme (use tel:, callto:, sip:, "
            "https: or your dialler's own scheme)"
        )
    for name in re.findall(r"\{([^{}]*)\}", value):
        if name not in TEMPLATE_VARIABLES:
            raise ValueError(
                f"uses unknown variable {{{name}}}; known: {', '.join(TEMPLATE_VARIABLES)}"
            )
    rest = re.sub(r"\{[A-Za-z]+\}", "", value).replace("%p", "")
    bad = next((c for c in rest if not _LITERAL.fullmatch(c)), None)
    if bad is not None:
        raise ValueError(
            f"must not contain {bad!r} (U+{ord(bad):04X}): only printable ASCII valid in a "
            "URI, other characters percent-encoded"
        )
    if _PERCENT.search(rest):
        raise ValueError("may use % only as %p or a percent-encoded octet such as %20")
    return value


def is_safe_format(value: str) -> bool:
    """Whether ``check_format`` accepts ``value`` unchanged."""
    try:
        return check_format(value) == value
    except ValueError:
        return False


def build_link(link_format: str, number: str, variables: dict[str, str]) -> str:
    """Fill ``%p`` and ``{variable}`` placeholders of a link format.

    A format that fails ``check_format`` (stored before the rule) is replaced by
    ``tel:%p``; every substituted value is percent-encoded, so the link holds only the
    format's checked characters and ``%XX`` octets.
    """
    if not is_safe_format(link_format):
        link_format = DEFAULT_FORMAT

    def variable(match: re.Match[str]) -> str:
        return quote(variables.get(match.group(1), ""), safe="")

    filled = re.sub(r"\{([A-Za-z]+)\}", variable, link_format)
    return filled.replace("%p", quote(number, safe="+"))
