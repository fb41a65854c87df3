"""Call links: a number normalised for dialling, put into the phone link format.

``%p`` is the number: E.164 (``+4722334455``) when the country is known and the number
is valid, otherwise its digits with a leading ``+`` kept.  ``{firstName}``, ``{lastName}``,
``{fullName}``, ``{companyName}``, ``{personId}``, ``{companyId}`` and ``{country}`` are
the person's and company's fields.  Every substituted value is percent-encoded.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import phonenumbers


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


def build_link(link_format: str, number: str, variables: dict[str, str]) -> str:
    """Fill ``%p`` and ``{variable}`` placeholders of a validated link format."""

    def variable(match: re.Match[str]) -> str:
        return quote(variables.get(match.group(1), ""), safe="")

    filled = re.sub(r"\{([A-Za-z]+)\}", variable, link_format)
    return filled.replace("%p", quote(number, safe="+"))
