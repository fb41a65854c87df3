"""parse_message never raises anything but MailParseError, whatever the bytes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.inbound import InboundMessage, MailParseError, parse_message

EML = Path(__file__).parents[1] / "data" / "imip-eml"
SEEDS = [p.read_bytes() for p in sorted(EML.glob("*.eml"))]


def _parse(raw: bytes) -> None:
    try:
        result = parse_message(raw)
    except MailParseError as exc:
        assert exc.reason
    else:
        assert isinstance(result, InboundMessage)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes(raw: bytes) -> None:
    _parse(raw)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "dup"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from([b"=", b"\r", b"\n ", b"=0D=0A", b";", b":", b"\x00",
                                 b"--", b"BEGIN:VCALENDAR\r\n", b"\xef\xbb\xbf", b"\xff"])
            )  # fmt: skip
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus_mails(raw: bytes) -> None:
    _parse(raw)


def test_every_seed_parses() -> None:
    for raw in SEEDS:
        assert isinstance(parse_message(raw), InboundMessage)
