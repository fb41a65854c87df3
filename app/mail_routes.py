"""HTTP side of mail: the inbound-mail endpoint and the reply-link pages, plus app wiring.

Owns ``POST /mail/inbound`` (a raw RFC 5322 message, authenticated by the header
``X-Inbound-Secret`` = INBOUND_MAIL_SECRET; answers JSON outcomes, 422 when every part
was refused) and ``GET/POST /reply/{token}``: every method but POST (GET, HEAD) only
shows a confirmation page (link scanners and previews must not answer for people); only
the page's form - a POST carrying its ``confirm`` field - records the answer.  The pages
speak the invitation's language (the organiser's, as the mails) and give times in the
recipient's zone when the recipient is an associate, else the meeting's (as the mails).
Also ``install`` (the outbox handler), which ``app.web`` calls at start-up.
"""

from __future__ import annotations

import hmac
from html import escape
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from app import csp
from calcore.builder import zone
from calcore.itip import normalize_address
from config.settings import Settings
from mail import outbox
from mail.i18n import Texts, texts
from mail.reply_links import ReplyClaims, ReplyLinkError, verify_token
from orm import models as m
from orm.preferences import PreferenceKey
from resolvers import inbound_mail

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="robots" content="noindex,nofollow">
<meta name="referrer" content="no-referrer"><title>{title}</title></head>
<body>{body}</body></html>
"""


FORM = "application/x-www-form-urlencoded"
CONFIRM = "yes"


def install(settings: Settings) -> None:
    """Queue invitation mails from every change (idempotent)."""
    outbox.install(settings)


def outcome_json(o: inbound_mail.Outcome) -> dict[str, Any]:
    """Return an outcome as JSON (no internal ids beyond the follow-up's)."""
    return {
        "kind": o.kind,
        "code": o.code,
        "reason": o.reason,
        "followUpId": o.followup_id,
        "recurrenceId": o.recurrence_id.isoformat() if o.recurrence_id else None,
    }


def routes(settings: Settings) -> list[Route]:
    """The mail routes for the Starlette app."""

    async def inbound(request: Request) -> Response:
        expected = settings.inbound_mail_secret.reveal()
        if not expected:
            return JSONResponse({"error": "inbound mail is not configured"}, status_code=503)
        given = request.headers.get("x-inbound-secret", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse({"error": "a valid X-Inbound-Secret is required"}, 401)
        raw = await request.body()
        if len(raw) > settings.max_inbound_mail_bytes:
            return JSONResponse({"error": "the message is too large"}, status_code=413)
        async with in_transaction():
            outcomes = await inbound_mail.receive(raw, max_bytes=settings.max_inbound_mail_bytes)
        refused = all(o.kind == inbound_mail.REJECTED for o in outcomes)
        body = {"outcomes": [outcome_json(o) for o in outcomes]}
        return JSONResponse(body, status_code=422 if refused else 200)

    def verify(token: str) -> ReplyClaims | str:
        secret = settings.secret_key.reveal()
        if not secret:
            return "reply links are not enabled"
        try:
            return verify_token(secret.encode(), token)
        except ReplyLinkError as exc:
            return exc.reason

    async def reply(request: Request) -> Response:
        token = str(request.path_params["token"])
        claims = verify(token)
        if isinstance(claims, str):
            return _page(texts("en"), texts("en").page["invalid"], f"<p>{escape(claims)}.</p>", 400)
        row = await m.FollowUp.get_or_none(uid=claims.uid)
        if row is None:
            words = texts("en")
            return _page(words, words.page["gone_title"], f"<p>{words.page['gone']}</p>", 410)
        words, tzid = await _reader(row, claims.attendee_email)
        answer = words.answers.get(claims.partstat.value, claims.partstat.value)
        if request.method != "POST":
            start = claims.recurrence_id or row.start_at
            end = None if claims.recurrence_id or row.end_at is None else row.end_at
            if claims.recurrence_id and row.start_at and row.end_at:
                end = claims.recurrence_id + (row.end_at - row.start_at)
            tz = zone(tzid)
            when = (
                words.span(start.astimezone(tz), end and end.astimezone(tz), tzid) if start else ""
            )
            who = words.page["answer_for"].format(email=claims.attendee_email)
            body = (
                f"<h1>{escape(row.title)}</h1><p>{escape(when)}</p>"
                f"<p>{escape(who)} <strong>{escape(answer)}"
                '</strong></p><form method="post"><input type="hidden" name="confirm" '
                f'value="{CONFIRM}"><button type="submit">'
                f"{escape(words.page['confirm'].format(answer=answer))}</button></form>"
            )
            return _page(words, row.title, body, 200)
        if not await _confirmed(request):
            return _page(words, words.page["not_recorded"], f"<p>{words.page['press']}</p>", 400)
        async with in_transaction():
            outcome = await inbound_mail.answer_by_link(claims)
        if outcome.kind == inbound_mail.REJECTED:
            return _page(
                words, words.page["not_recorded"], f"<p>{escape(outcome.reason)}.</p>", 409
            )
        done = escape(words.page["recorded"]).format(
            answer=f"<strong>{escape(answer)}</strong>", title=escape(row.title)
        )
        return _page(words, words.page["thanks"], f"<p>{done}</p>", 200)

    return [
        Route("/mail/inbound", inbound, methods=["POST"]),
        Route("/reply/{token}", reply, methods=["GET", "POST"]),
    ]


async def _confirmed(request: Request) -> bool:
    """Whether a POST is the confirmation page's form (not a bare POST to the link)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        return False
    fields = parse_qs((await request.body()).decode("latin-1"), max_num_fields=10)
    return fields.get("confirm") == [CONFIRM]


async def _reader(row: m.FollowUp, attendee: str) -> tuple[Texts, str]:
    """The language (the organiser's) and time zone (the recipient's, else the meeting's)."""
    from orm.preferences import effective_for

    owner = await m.Associate.get_or_none(id=row.owner_id)
    address = normalize_address(attendee)
    reader = None
    for p in await m.Participant.filter(followup_id=row.id, associate_id__isnull=False):
        if p.email and normalize_address(p.email) == address:
            reader = await m.Associate.get_or_none(id=p.associate_id)
    prefs = await effective_for([a for a in (owner, reader) if a is not None])
    language = prefs[owner.id][PreferenceKey.LANGUAGE].value if owner else "en"
    tzid = prefs[reader.id][PreferenceKey.TIME_ZONE].value if reader else row.tzid
    return texts(language), tzid


def _page(words: Texts, title: str, body: str, status: int) -> HTMLResponse:
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": csp.REPLY_PAGE}
    html = PAGE.format(lang=words.code, title=escape(title), body=body)
    return HTMLResponse(html, status, headers=headers)
