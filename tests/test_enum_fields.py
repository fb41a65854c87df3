"""The enum-typed fields through GraphQL: recurrence frequency/weekdays in and out."""

from __future__ import annotations

from typing import Any

from tests.test_recurrence_api import gql, oslo  # noqa: F401 (fixtures)

CREATE = """mutation($input: FollowUpInput!) { createFollowUp(input: $input) {
  followUp { recurrence { rrule freq frequency byDay weekdays { weekday ordinal } } }
  errors { code message path } } }"""


async def _create(gql: Any, recurrence: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    start = "2026-03-16T09:00:00+01:00"
    data = await gql(CREATE, {"input": {"title": "T", "start": start, "recurrence": recurrence}})
    return dict(data["createFollowUp"])


async def test_frequency_and_weekdays_round_trip(gql: Any) -> None:  # noqa: F811
    days = [{"weekday": "MONDAY"}, {"weekday": "FRIDAY", "ordinal": -1}]
    found = await _create(gql, {"frequency": "MONTHLY", "weekdays": days, "count": 3})
    assert not found["errors"], found
    rec = found["followUp"]["recurrence"]
    assert rec["rrule"] == "FREQ=MONTHLY;COUNT=3;BYDAY=MO,-1FR"
    assert (rec["freq"], rec["frequency"]) == ("MONTHLY", "MONTHLY")
    assert rec["byDay"] == ["MO", "-1FR"]
    assert rec["weekdays"] == [
        {"weekday": "MONDAY", "ordinal": None},
        {"weekday": "FRIDAY", "ordinal": -1},
    ]


async def test_deprecated_and_new_input_together_are_refused(gql: Any) -> None:  # noqa: F811
    found = await _create(gql, {"freq": "WEEKLY", "frequency": "WEEKLY", "count": 2})
    assert [e["path"] for e in found["errors"]] == [["recurrence", "freq"]]
    days = {"byDay": ["MO"], "weekdays": [{"weekday": "MONDAY"}]}
    found = await _create(gql, {"frequency": "WEEKLY", "count": 2, **days})
    assert [e["path"] for e in found["errors"]] == [["recurrence", "byDay"]]
