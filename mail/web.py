"""HTTP side of mail: the inbound-mail endpoint and the reply-link pages, plus app wiring.

Owns ``POST /mail/inbound`` (a raw RFC 5322 message, authenticated by the header
``X-Inbound-Secret`` = INBOUND_MAIL_SECRET; answers JSON outcomes, 422 when every part
was refused) and ``GET/POST /reply/{token}``: every method but POST (GET, HEAD) only
shows a confirmation page (link scanners and previews must not answer for people); only
the page's form - a POST carrying its ``confirm`` field - records the answer.  Also the
two hooks ``app.web`` calls: ``install`` (outbox handler) and ``start_worker``.
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
from app.background import Background
from app.settings import Settings
from mail import inbox, outbox
from mail.i18n import texts
from mail.reply_links import ReplyClaims, ReplyLinkError, verify_token
from mail.worker import start_background
from orm import models as m

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex,nofollow">
<meta name="referrer" content="no-referrer"><title>{title}</title></head>
<body>{body}</body></html>
"""


FORM = "application/x-www-form-urlencoded"
CONFIRM = "yes"


def install(settings: Settings) -> None:
    """Queue invitation mails from every change (idempotent)."""
    outbox.install(settings)


def start_worker(settings: Settings) -> Background | None:
    """Start the in-process mail worker when SMTP is configured (else None)."""
    return start_background(settings)


def outcome_json(o: inbox.Outcome) -> dict[str, Any]:
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
            outcomes = await inbox.receive(raw, max_bytes=settings.max_inbound_mail_bytes)
        refused = all(o.kind == inbox.REJECTED for o in outcomes)
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
            return _page("Link not valid", f"<p>{escape(claims)}.</p>", 400)
        row = await m.FollowUp.get_or_none(uid=claims.uid)
        if row is None:
            return _page("Meeting not found", "<p>This meeting no longer exists.</p>", 410)
        words = texts("en")
        answer = words.answers.get(claims.partstat.value, claims.partstat.value)
        if request.method != "POST":
            when = row.start_at.strftime("%Y-%m-%d %H:%M UTC") if row.start_at else ""
            if claims.recurrence_id:
                when = claims.recurrence_id.strftime("%Y-%m-%d %H:%M UTC")
            body = (
                f"<h1>{escape(row.title)}</h1><p>{escape(when)}</p>"
                f"<p>Answer for {escape(claims.attendee_email)}: <strong>{escape(answer)}"
                '</strong></p><form method="post"><input type="hidden" name="confirm" '
                f'value="{CONFIRM}"><button type="submit">'
                f"Confirm: {escape(answer)}</button></form>"
            )
            return _page(row.title, body, 200)
        if not await _confirmed(request):
            return _page("Not recorded", "<p>Open the link and press the button.</p>", 400)
        async with in_transaction():
            outcome = await inbox.answer_by_link(claims)
        if outcome.kind == inbox.REJECTED:
            return _page("Not recorded", f"<p>{escape(outcome.reason)}.</p>", 409)
        return _page(
            "Thank you",
            f"<p>Your answer <strong>{escape(answer)}</strong> "
            f"to {escape(row.title)} was recorded.</p>",
            200,
        )

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


def _page(title: str, body: str, status: int) -> HTMLResponse:
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": csp.REPLY_PAGE}
    return HTMLResponse(PAGE.format(title=escape(title), body=body), status, headers=headers)
