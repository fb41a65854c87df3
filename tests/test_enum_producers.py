"""Every place that writes a value of an enum-typed field writes a member of its enum.

The string columns behind ``StatusChange.setVia`` and ``MailDelivery.itipMethod`` and the
codes behind ``InboundOutcome.reasonCode`` are written in a few places; this scans the
source for each of them (a literal string, or a constant of the wrong enum, fails) and
checks the enums against the sets the lower layers define.
"""

from __future__ import annotations

import ast
from pathlib import Path

from calcore import itip
from calcore.rrule_model import WEEKDAYS, Freq
from config.settings import Settings
from mail import outcomes
from mail.imap_intake import summarize
from mail.replies import RejectCode
from resolvers import enums
from resolvers.participants import email_unavailable

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "calcore", "config", "mail", "orm", "resolvers", "schema", "sync")


def _sources() -> list[tuple[Path, ast.Module]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found.append((path, ast.parse(path.read_text(), str(path))))
    return found


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _bad(value: ast.expr | None, enum: type, names: dict[str, set[str]]) -> bool:
    """A literal outside ``enum``, or ``X.NAME`` naming no member (``names``: allowed X.NAME)."""
    if value is None:
        return False
    if isinstance(value, ast.Constant):
        return value.value is not None and value.value not in {m.value for m in enum}
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Attribute):
        return _bad(value.value, enum, names)  # Code.X.value
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
        owner = value.value.id
        return owner in names and value.attr not in names[owner]
    return False  # a name passed through: typed by its parameter (mypy)


def _offences(enum: type, keyword: str, calls: set[str], position: int | None) -> list[str]:
    members = {m.name for m in enum}
    names = {enum.__name__: members, "Code": members, "itip": {m.value for m in enum}}
    out = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            values: list[ast.expr | None] = []
            if isinstance(node, ast.Call) and _callee(node) in calls:
                values += [k.value for k in node.keywords if k.arg == keyword]
                if position is not None and len(node.args) > position:
                    values.append(node.args[position])
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in calls:
                spec = node.args
                args = spec.posonlyargs + spec.args
                defaults = [None] * (len(args) - len(spec.defaults)) + list(spec.defaults)
                pairs = list(zip(args, defaults, strict=True))
                pairs += list(zip(spec.kwonlyargs, spec.kw_defaults, strict=True))
                values += [d for a, d in pairs if a.arg == keyword]
            for v in values:
                if _bad(v, enum, names):
                    out.append(f"{path.relative_to(ROOT)}:{v.lineno}: {ast.unparse(v)}")  # type: ignore[union-attr]
    return out


def test_status_via_writers_write_members() -> None:
    calls = {"create", "StatusChange", "set_answer", "set_status", "receive", "respond"}
    assert not _offences(enums.StatusVia, "via", calls, None)
    assert {"API", "EMAIL", "LINK", "CALDAV"} <= {v.value for v in enums.StatusVia}


def test_mail_methods_written_are_members() -> None:
    assert not _offences(enums.MailMethod, "method", {"Planned", "enqueue", "MailOutbox"}, 3)
    assert {m.value for m in enums.MailMethod} == {itip.REQUEST, itip.CANCEL, itip.DECLINECOUNTER}


def test_inbound_codes_written_are_members() -> None:
    assert not _offences(enums.InboundOutcomeCode, "code", {"Outcome", "_reject"}, 2)
    assert not _offences(enums.InboundOutcomeCode, "code", {"_reject"}, 0)
    assert {c.value for c in RejectCode} <= {c.value for c in enums.InboundOutcomeCode}


def test_mailbox_outcomes_written_are_members() -> None:
    # MailboxMessage.outcome (MailboxMessage.outcomeKind): written only from summarize
    calls = {"create", "MailboxMessage", "update"}
    assert not _offences(enums.MessageOutcome, "outcome", calls, None)
    tree = ast.parse('MailboxMessage.create(mailbox_id=1, outcome="DONE")')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert _bad(call.keywords[1].value, enums.MessageOutcome, {})
    assert not _bad(ast.parse('"REJECTED"', mode="eval").body, enums.MessageOutcome, {})


def test_summarize_gives_a_member_for_every_mix_of_kinds() -> None:
    kinds = (outcomes.APPLIED, outcomes.IGNORED, outcomes.REJECTED, outcomes.PROPOSAL,
             outcomes.BOUNCE)  # fmt: skip
    seen = set()
    for mask in range(1 << len(kinds)):
        found = [outcomes.Outcome(k, "r") for i, k in enumerate(kinds) if mask >> i & 1]
        kind, _, _ = summarize(found)
        assert isinstance(kind, enums.MessageOutcome)
        seen.add(kind)
    assert seen == set(enums.MessageOutcome)


def test_the_scan_sees_a_literal() -> None:
    tree = ast.parse('set_answer(p, s, r, via="FAX")')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert _bad(call.keywords[0].value, enums.StatusVia, {})


def test_email_unavailable_returns_members() -> None:
    on = Settings(database_url="unused", smtp_host="127.0.0.1")
    off = Settings(database_url="unused")
    seen = {
        email_unavailable("a@b.example", True, on),
        email_unavailable("a@b.example", False, off),
        email_unavailable(None, False, on),
        email_unavailable("nope", False, on),
        email_unavailable("a@b.example", False, on),
    }
    assert seen - {None} <= set(enums.EmailUnavailableReason)
    assert len(seen) == 5


def test_recurrence_enums_match_the_rule_model() -> None:
    assert [d.value for d in enums.Weekday] == list(WEEKDAYS)
    assert enums.Freq is Freq
