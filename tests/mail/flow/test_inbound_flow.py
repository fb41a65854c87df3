"""Replies in: HTTP endpoint, CLI and mutation; corpus rejections; bounces; counters; links."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from app.mail_cli import receive_stdin
from calcore import itip
from calcore.model import PartStat
from mail.reply_links import ReplyClaims, reply_links, sign_token
from orm import models as m
from orm.outbox_models import MailOutbox, MailStatus
from orm.snapshots import snapshot
from tests.helpers import client_for
from tests.mail.flow.mailflow import T0, deliver, invite, meeting, summary
from tests.mail.flow.smtp_server import SmtpServer

CORPUS = Path(__file__).resolve().parents[2] / "data" / "imip-eml"
HEADERS = {"X-Inbound-Secret": "inbound-secret"}
PROCESS = """mutation($m: String!) { processInboundMail(message: $m) {
  outcomes { kind code reason proposal { id } } errors { code message } } }"""


def wrap(cal: bytes, sender: str, method: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "ann@example.com"
    msg["Subject"] = "answer"
    msg.set_content("see calendar")
    msg.add_alternative(cal, maintype="text", subtype="calendar", params={"method": method})
    return msg.as_bytes()


async def _setup(people: dict[str, Any], **fields: Any) -> tuple[m.FollowUp, dict[str, Any]]:
    gql = people["gql"]
    fu = await invite(gql, await meeting(gql, **fields), people["bob"], people["kari"])
    row = await m.FollowUp.get(id=int(_pk(fu["id"])))
    return row, fu


def _pk(global_id: str) -> str:
    from strawberry import relay

    return relay.GlobalID.from_id(global_id).node_id


async def _reply(row: m.FollowUp, who: str, partstat: PartStat, **kw: Any) -> bytes:
    snap = await snapshot(await m.FollowUp.get(id=row.id))
    return wrap(itip.reply(snap, who, partstat, **kw).to_ical(), who, "REPLY")


async def test_reply_over_http(people: dict[str, Any], http: httpx.AsyncClient) -> None:
    row, _ = await _setup(people)
    raw = await _reply(row, "bob@example.com", PartStat.ACCEPTED)
    assert (await http.post("/mail/inbound", content=raw)).status_code == 401
    bad = {"X-Inbound-Secret": "nope"}
    assert (await http.post("/mail/inbound", content=raw, headers=bad)).status_code == 401
    response = await http.post("/mail/inbound", content=raw, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert [o["kind"] for o in response.json()["outcomes"]] == ["APPLIED"]
    bob = await m.Participant.get(followup_id=row.id, email="bob@example.com")
    assert bob.status is m.ParticipantStatus.ACCEPTED
    change = await m.StatusChange.get(participant_id=bob.id)
    assert change.via == "EMAIL" and change.recurrence_id is None
    from orm.live_models import LiveChange, LiveKind, LiveParty

    heard = await LiveChange.filter(followup_id=row.id).order_by("-id").first()
    assert heard is not None and heard.kind is LiveKind.UPDATED  # subscribers hear the answer
    assert row.owner_id in await LiveParty.filter(change_id=heard.id).values_list(
        "party_id", flat=True
    )
    stale = await _reply(row, "bob@example.com", PartStat.DECLINED, dtstamp=T0 - timedelta(days=9))
    again = await http.post("/mail/inbound", content=stale, headers=HEADERS)
    assert again.json()["outcomes"][0]["kind"] == "IGNORED"
    assert (await m.Participant.get(id=bob.id)).status is m.ParticipantStatus.ACCEPTED


async def test_occurrence_reply_through_cli(people: dict[str, Any], settings: Any) -> None:
    row, _ = await _setup(people, recurrence={"freq": "WEEKLY", "count": 3})
    rid = T0 + timedelta(days=7)
    raw = await _reply(row, "kari@acme.example", PartStat.DECLINED, recurrence_id=rid)
    out = io.StringIO()
    assert await receive_stdin(settings, io.BytesIO(raw), out) == 0
    assert json.loads(out.getvalue())["outcomes"][0]["kind"] == "APPLIED"
    kari = await m.Participant.get(followup_id=row.id, email="kari@acme.example")
    assert kari.status is m.ParticipantStatus.INVITED  # the series answer is unchanged
    change = await m.StatusChange.get(participant_id=kari.id)
    assert change.status is m.ParticipantStatus.DECLINED and change.recurrence_id == rid
    out = io.StringIO()
    assert await receive_stdin(settings, io.BytesIO(b"not a mail"), out) == 1


async def test_mutation_organiser_only(people: dict[str, Any], http: httpx.AsyncClient) -> None:
    row, _ = await _setup(people)
    raw = (await _reply(row, "bob@example.com", PartStat.TENTATIVE)).decode()
    as_bob = await client_for(http, people["bob"])
    denied = (await as_bob(PROCESS, {"m": raw}))["processInboundMail"]
    assert denied["errors"][0]["code"] == "FORBIDDEN"
    done = (await people["gql"](PROCESS, {"m": raw}))["processInboundMail"]
    assert [o["kind"] for o in done["outcomes"]] == ["APPLIED"]
    bob = await m.Participant.get(followup_id=row.id, email="bob@example.com")
    assert bob.status is m.ParticipantStatus.TENTATIVE


async def test_corpus_mails_give_reasons(people: dict[str, Any], http: httpx.AsyncClient) -> None:
    organiser = "ical-living-on+d7cdf68d-8b73-4df1-ad3b-f08002fb285f@example.com"
    owner = await m.Associate.create(name="User 01", email=organiser)
    row = await m.FollowUp.create(
        kind=m.Kind.MEETING, owner=owner, title="New Event", uid="1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C",
        start_at=T0, end_at=T0 + timedelta(hours=1), sort_at=T0,
    )  # fmt: skip
    await m.Participant.create(followup=row, email="xyzzy@example.com", email_invitation=True)

    async def post(name: str) -> tuple[int, dict[str, Any]]:
        r = await http.post("/mail/inbound", content=(CORPUS / name).read_bytes(), headers=HEADERS)
        return r.status_code, r.json()["outcomes"][0]

    assert (await post("tb_message-non-invite.eml"))[1]["code"] == "not-itip"
    status, first = await post("tb_meet-meeting-invite.eml")
    assert status == 422 and first["code"] == "not-a-response"
    assert (await post("ccs_reply_missing_attendee.eml"))[1]["code"] == "no-attendee"
    assert (await post("ccs_reply_missing_organizer.eml"))[1]["code"] == "no-organizer"
    status, good = await post("ccs_good_reply.eml")
    assert status == 200 and good["kind"] == "APPLIED"
    assert (await m.Participant.get(followup_id=row.id)).status is m.ParticipantStatus.ACCEPTED


async def test_bounce_marks_delivery_failed(
    people: dict[str, Any], http: httpx.AsyncClient, smtp: SmtpServer, settings: Any
) -> None:
    await _setup(people)
    await deliver(settings)
    sent = next(r for r in smtp.sink.messages if r.rcpt_tos == ["kari@acme.example"])
    dsn = (
        b"From: MAILER-DAEMON@acme.example\r\nTo: ann@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\ncould not deliver\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; acme.example\r\n\r\n"
        b"Final-Recipient: rfc822; kari@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n" + sent.data + b"\r\n--B--\r\n"
    )
    response = await http.post("/mail/inbound", content=dsn, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["outcomes"][0]["kind"] == "BOUNCE"
    row = await MailOutbox.get(recipient="kari@acme.example")
    assert row.status is MailStatus.FAILED and "5.1.1" in (row.last_error or "")
    from orm.live_models import LiveChange, LiveKind

    failed = await LiveChange.filter(kind=LiveKind.DELIVERY_FAILED)
    assert [c.followup_id for c in failed] == [row.followup_id]
    assert (await MailOutbox.get(recipient="bob@example.com")).status is MailStatus.SENT


async def test_counter_accept_and_decline(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql = people["gql"]
    row, fu = await _setup(people)
    await deliver(settings)
    smtp.sink.messages.clear()
    snap = await snapshot(row)
    later = T0 + timedelta(days=1)
    counter = itip.counter(snap, "bob@example.com", later, later + timedelta(hours=1))
    raw = wrap(counter.to_ical(), "bob@example.com", "COUNTER").decode()
    outcome = (await gql(PROCESS, {"m": raw}))["processInboundMail"]["outcomes"][0]
    assert outcome["kind"] == "PROPOSAL"
    listed = await gql(
        "query($id: ID!) { node(id: $id) { ... on FollowUp { proposals { id status start } } } }",
        {"id": fu["id"]},
    )
    proposal = listed["node"]["proposals"][0]
    assert proposal["status"] == "PENDING" and proposal["id"] == outcome["proposal"]["id"]
    accepted = await gql(
        "mutation($id: ID!) { acceptProposal(id: $id) { proposal { status } errors { code } } }",
        {"id": proposal["id"]},
    )
    assert accepted["acceptProposal"]["proposal"]["status"] == "ACCEPTED"
    moved = await m.FollowUp.get(id=row.id)
    assert moved.start_at == later and moved.sequence == 1
    await deliver(settings)
    assert sorted(summary(smtp.sink.messages)) == [
        ("REQUEST", "bob@example.com", 1, None),
        ("REQUEST", "kari@acme.example", 1, None),
    ]
    smtp.sink.messages.clear()
    snap = await snapshot(moved)
    counter = itip.counter(snap, "kari@acme.example", T0, T0 + timedelta(hours=1))
    raw = wrap(counter.to_ical(), "kari@acme.example", "COUNTER").decode()
    outcome = (await gql(PROCESS, {"m": raw}))["processInboundMail"]["outcomes"][0]
    declined = await gql(
        """mutation($id: ID!) { declineProposal(id: $id, comment: "No, sorry") {
          proposal { status } errors { code } } }""",
        {"id": outcome["proposal"]["id"]},
    )
    assert declined["declineProposal"]["proposal"]["status"] == "DECLINED"
    await deliver(settings)
    assert summary(smtp.sink.messages) == [("DECLINECOUNTER", "kari@acme.example", 1, None)]
    assert (await m.FollowUp.get(id=row.id)).start_at == later


async def test_reply_links(people: dict[str, Any], http: httpx.AsyncClient) -> None:
    row, _ = await _setup(people)
    secret = b"reply-link-secret"
    links = reply_links(
        "/reply/", secret, row.uid, "bob@example.com", datetime.now(UTC) + timedelta(days=1)
    )
    accept = links[PartStat.ACCEPTED]
    page = await http.get(accept)
    assert page.status_code == 200 and '<form method="post">' in page.text
    bob = await m.Participant.get(followup_id=row.id, email="bob@example.com")
    assert bob.status is m.ParticipantStatus.INVITED  # GET changes nothing
    assert (await http.post(accept, data={"confirm": "yes"})).status_code == 200
    bob = await m.Participant.get(id=bob.id)
    assert bob.status is m.ParticipantStatus.ACCEPTED
    assert (await m.StatusChange.get(participant_id=bob.id)).via == "LINK"
    forged = accept[:-3] + ("AAA" if not accept.endswith("AAA") else "BBB")
    assert (await http.post(forged)).status_code == 400
    old = ReplyClaims(
        row.uid, "bob@example.com", PartStat.DECLINED, datetime.now(UTC) - timedelta(seconds=1)
    )
    expired = await http.post("/reply/" + sign_token(secret, old))
    assert expired.status_code == 400 and "expired" in expired.text
    assert (await m.Participant.get(id=bob.id)).status is m.ParticipantStatus.ACCEPTED
