"""Unit tests of calcore.recurrence: DST, validation, split, limits, summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calcore.recurrence import (
    ExpansionLimitError,
    Freq,
    RecurrenceError,
    RecurrenceRule,
    expand,
    format_rrule,
    is_occurrence,
    parse_rrule,
    rule_from_fields,
    split_rule,
    summarize,
    validate_rule,
)

OSLO = ZoneInfo("Europe/Oslo")


def _local(values: list[datetime], zone: ZoneInfo = OSLO) -> list[str]:
    return [v.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") for v in values]


def test_weekly_0900_oslo_stays_0900_across_both_2026_transitions() -> None:
    start = datetime(2026, 3, 16, 9, 0, tzinfo=OSLO)
    got = expand(
        start,
        parse_rrule("FREQ=WEEKLY"),
        window_start=start,
        window_end=datetime(2026, 11, 10, tzinfo=OSLO),
    )
    local = [v.astimezone(OSLO) for v in got]
    assert {(v.hour, v.minute) for v in local} == {(9, 0)}
    assert [v.astimezone(UTC).hour for v in got][:3] == [8, 8, 7]  # 29 March: CET -> CEST
    by_day = {v.strftime("%m-%d"): v.strftime("%Z") for v in local}
    assert (by_day["03-23"], by_day["03-30"]) == ("CET", "CEST")
    assert (by_day["10-19"], by_day["10-26"]) == ("CEST", "CET")
    assert len(got) == 35


def test_nonexistent_local_time_uses_offset_before_the_gap() -> None:
    start = datetime(2026, 3, 27, 2, 30, tzinfo=OSLO)
    got = expand(
        start,
        parse_rrule("FREQ=DAILY;COUNT=4"),
        window_start=start,
        window_end=start + timedelta(days=10),
    )
    assert _local(got) == [
        "2026-03-27 02:30 CET",
        "2026-03-28 02:30 CET",
        "2026-03-29 03:30 CEST",  # 02:30 does not exist; +01:00 from before the gap
        "2026-03-30 02:30 CEST",
    ]


def test_ambiguous_local_time_takes_the_first_occurrence() -> None:
    start = datetime(2026, 10, 24, 2, 30, tzinfo=OSLO)
    got = expand(
        start,
        parse_rrule("FREQ=DAILY;COUNT=3"),
        window_start=start,
        window_end=start + timedelta(days=5),
    )
    assert got[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, fold=0
    assert _local(got)[2] == "2026-10-26 02:30 CET"


def test_exdate_and_rdate_are_instants_and_until_in_utc() -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=OSLO)
    rule = parse_rrule("RRULE:FREQ=DAILY;UNTIL=20260108T080000Z;")
    got = expand(
        start,
        rule,
        exdates=[datetime(2026, 1, 6, 8, tzinfo=UTC)],
        rdates=[datetime(2026, 1, 20, 12, tzinfo=UTC)],
        window_start=start,
        window_end=start + timedelta(days=30),
    )
    assert _local(got) == [
        "2026-01-05 09:00 CET",
        "2026-01-07 09:00 CET",
        "2026-01-08 09:00 CET",
        "2026-01-20 13:00 CET",
    ]


def test_duration_includes_occurrences_running_into_the_window() -> None:
    start = datetime(2026, 1, 5, 23, tzinfo=UTC)
    rule = parse_rrule("FREQ=DAILY")
    window = (datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 10, 12, tzinfo=UTC))
    assert expand(start, rule, window_start=window[0], window_end=window[1]) == []
    assert expand(
        start, rule, window_start=window[0], window_end=window[1], duration=timedelta(hours=2)
    ) == [datetime(2026, 1, 9, 23, tzinfo=UTC)]


def test_unbounded_rule_far_in_the_future() -> None:
    start = datetime(2021, 2, 1, 9, tzinfo=OSLO)
    rule = parse_rrule("FREQ=MONTHLY;BYDAY=-1FR")
    got = expand(
        start,
        rule,
        window_start=datetime(2487, 1, 1, tzinfo=UTC),
        window_end=datetime(2487, 4, 1, tzinfo=UTC),
    )
    assert _local(got) == [
        "2487-01-31 09:00 CET",
        "2487-02-28 09:00 CET",
        "2487-03-28 09:00 CET",
    ]  # the last Fridays (calendar module agrees)
    weekly = expand(
        start,
        parse_rrule("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TH"),
        window_start=datetime(3000, 1, 1, tzinfo=UTC),
        window_end=datetime(3000, 1, 22, tzinfo=UTC),
    )
    for w in weekly:
        local = w.astimezone(OSLO)
        assert (local.date() - start.date()).days // 7 % 3 == 0
        assert (local.weekday(), local.hour) in ((0, 9), (3, 9))
    assert len(weekly) == 2


def test_limit_error_names_the_limit() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ExpansionLimitError, match="more than 100 occurrences"):
        expand(
            start,
            parse_rrule("FREQ=HOURLY"),
            window_start=start,
            window_end=start + timedelta(days=30),
            limit=100,
        )
    assert isinstance(ExpansionLimitError(5), RecurrenceError)


@pytest.mark.parametrize(
    "text, message",
    [
        ("FREQ=FORTNIGHTLY", "unknown FREQ 'FORTNIGHTLY'"),
        ("FREQ=MONTHLY;BYSETPOS=-1", "BYSETPOS needs another BY* part"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20260101T000000Z", "COUNT and UNTIL cannot both be given"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY value 32 is out of range"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH value 13 is out of range"),
        ("FREQ=DAILY;BYHOUR=24", "BYHOUR value 24 is out of range"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be 1 or more"),
        ("FREQ=MONTHLY;BYDAY=6MO", "BYDAY ordinal 6 is out of range"),
        ("FREQ=WEEKLY;BYDAY=1MO", "needs FREQ=MONTHLY or FREQ=YEARLY"),
        ("FREQ=MONTHLY;BYWEEKNO=3", "BYWEEKNO is only allowed with FREQ=YEARLY"),
        ("FREQ=DAILY;BYDAY=XX", "BYDAY entries look like"),
        ("BYDAY=MO", "needs FREQ"),
    ],
)
def test_validation_messages(text: str, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message.replace("*", r"\*")):
        parse_rrule(text)


def test_until_before_dtstart_is_rejected() -> None:
    rule = parse_rrule("FREQ=DAILY;UNTIL=20250101T000000Z")
    with pytest.raises(RecurrenceError, match="before the series starts"):
        validate_rule(rule, datetime(2026, 1, 1, 9, tzinfo=OSLO))
    validate_rule(rule, datetime(2024, 1, 1, 9, tzinfo=OSLO))
    with pytest.raises(RecurrenceError, match="INTERVAL"):
        validate_rule(RecurrenceRule(Freq.DAILY, interval=0), date(2024, 1, 1))


def test_parse_is_tolerant_and_format_round_trips() -> None:
    rule = parse_rrule("rrule:freq=weekly; interval=2 ;byday=we,mo,MO;wkst=su;X-FOO=1;")
    assert format_rrule(rule) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=SU"
    for text in (
        "FREQ=MONTHLY;COUNT=6;BYDAY=-1FR,1MO",
        "FREQ=YEARLY;UNTIL=20261231T225959Z;BYMONTHDAY=-1;BYMONTH=2,3;BYSETPOS=1",
        "FREQ=DAILY;UNTIL=20261231",
        "FREQ=HOURLY;INTERVAL=3;BYSECOND=5;BYMINUTE=0,30;BYHOUR=9,17",
    ):
        assert parse_rrule(format_rrule(parse_rrule(text))) == parse_rrule(text)
    assert rule_from_fields("weekly", 2, byday=["MO", "WE"], wkst="SU") == rule


def test_split_rule_with_until_and_with_count() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=OSLO)
    at = datetime(2026, 3, 30, 9, tzinfo=OSLO)
    before, after = split_rule(start, parse_rrule("FREQ=WEEKLY;BYDAY=MO"), at)
    assert before is not None
    assert format_rrule(before) == "FREQ=WEEKLY;UNTIL=20260330T065959Z;BYDAY=MO"
    assert format_rrule(after) == "FREQ=WEEKLY;BYDAY=MO"
    window = {"window_start": start, "window_end": start + timedelta(days=60)}
    assert len(expand(start, before, **window)) == 4
    before, after = split_rule(start, parse_rrule("FREQ=WEEKLY;COUNT=10"), at)
    assert before is not None and (before.count, after.count) == (4, 6)
    old = expand(start, before, **window)
    new = expand(at, after, window_start=at, window_end=at + timedelta(days=90))
    whole = expand(
        start,
        parse_rrule("FREQ=WEEKLY;COUNT=10"),
        window_start=start,
        window_end=start + timedelta(days=90),
    )
    assert old + new == whole
    assert split_rule(start, parse_rrule("FREQ=DAILY"), start) == (None, parse_rrule("FREQ=DAILY"))


def test_is_occurrence() -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=OSLO)
    rule = parse_rrule("FREQ=WEEKLY;BYDAY=MO,WE")
    ex = [datetime(2026, 1, 12, 8, tzinfo=UTC)]
    rd = [datetime(2026, 1, 10, 12, tzinfo=UTC)]
    assert is_occurrence(start, rule, rd, ex, datetime(2026, 1, 7, 8, tzinfo=UTC))
    assert not is_occurrence(start, rule, rd, ex, datetime(2026, 1, 12, 8, tzinfo=UTC))
    assert is_occurrence(start, rule, rd, ex, datetime(2026, 1, 10, 12, tzinfo=UTC))
    assert not is_occurrence(start, rule, rd, ex, datetime(2026, 1, 7, 8, 0, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "text, en, da, nb",
    [
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20261231T225959Z",
            "Every 2 weeks on Monday and Wednesday until 31 Dec 2026",
            "Hver 2. uge om mandag og onsdag indtil 31. dec. 2026",
            "Hver 2. uke på mandag og onsdag til 31. des. 2026",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1FR",
            "Monthly on the last Friday",
            "Månedligt den sidste fredag",
            "Månedlig den siste fredag",
        ),
        ("FREQ=DAILY;COUNT=10", "Daily, 10 times", "Dagligt, 10 gange", "Daglig, 10 ganger"),
        (
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15",
            "Yearly on the 15th in March",
            "Årligt den 15. i marts",
            "Årlig den 15. i mars",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "Monthly on the last of Monday, Tuesday, Wednesday, Thursday and Friday",
            "Månedligt den sidste af mandag, tirsdag, onsdag, torsdag og fredag",
            "Månedlig den siste av mandag, tirsdag, onsdag, torsdag og fredag",
        ),
    ],
)
def test_summaries(text: str, en: str, da: str, nb: str) -> None:
    rule = parse_rrule(text)
    start = datetime(2026, 1, 5, 9, tzinfo=OSLO)
    assert summarize(rule, start) == en
    assert summarize(rule, start, "da") == da
    assert summarize(rule, start, "no") == nb
    assert summarize(rule, start, "nb") == nb
    with pytest.raises(RecurrenceError, match="no summary wording"):
        summarize(rule, start, "fr")
