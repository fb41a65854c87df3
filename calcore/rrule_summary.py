"""Human-readable summaries of recurrence rules in English, Danish and Norwegian.

Owns the wording only ("Every 2 weeks on Monday and Wednesday until 31 Dec 2026",
"Månedligt den sidste fredag", "Daglig, 10 ganger"); the rule semantics are RFC 5545
section 3.3.10 and live in ``rrule_expand``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from calcore.rrule_model import Freq, RecurrenceError, RecurrenceRule


@dataclass(frozen=True)
class _Words:
    """The vocabulary of one language."""

    single: dict[Freq, str]
    every: dict[Freq, str]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    short_months: tuple[str, ...]
    ordinals: tuple[str, ...]
    last: str
    second_last: str
    and_: str
    on_days: str
    on_nth: str
    on_monthdays: str
    in_months: str
    at: str
    of: str
    day_word: str
    until: str
    times: str
    once: str

    def number(self, n: int) -> str:
        """Return an ordinal number word such as "first", "last" or "12th"."""
        if n == -1:
            return self.last
        if n == -2:
            return self.second_last
        if 0 < n <= len(self.ordinals):
            return self.ordinals[n - 1]
        if n < 0:
            return f"{self.numeral(-n)} {self.last}" if self is _EN else f"{-n}. {self.last}"
        return self.numeral(n)

    def numeral(self, n: int) -> str:
        """Return a numeric ordinal: 1st/2nd (English) or 1. (Danish, Norwegian)."""
        if self is not _EN:
            return f"{n}."
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    def join(self, items: list[str]) -> str:
        """Join words as "a, b and c"."""
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + f" {self.and_} " + items[-1]

    def day(self, d: date) -> str:
        """Format a date as "31 Dec 2026" or "31. dec. 2026"."""
        sep = " " if self is _EN else ". "
        return f"{d.day}{sep}{self.short_months[d.month - 1]} {d.year}"


_EN = _Words(
    single={
        Freq.YEARLY: "Yearly", Freq.MONTHLY: "Monthly", Freq.WEEKLY: "Weekly",
        Freq.DAILY: "Daily", Freq.HOURLY: "Hourly", Freq.MINUTELY: "Every minute",
        Freq.SECONDLY: "Every second",
    },
    every={
        Freq.YEARLY: "Every {n} years", Freq.MONTHLY: "Every {n} months",
        Freq.WEEKLY: "Every {n} weeks", Freq.DAILY: "Every {n} days",
        Freq.HOURLY: "Every {n} hours", Freq.MINUTELY: "Every {n} minutes",
        Freq.SECONDLY: "Every {n} seconds",
    },
    weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    months=("January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"),
    short_months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                  "Nov", "Dec"),
    ordinals=("first", "second", "third", "fourth", "fifth"),
    last="last", second_last="second to last", and_="and", on_days="on", on_nth="on the",
    on_monthdays="on the", in_months="in", at="at", of="of", day_word="day",
    until="until", times="{n} times", once="once",
)
_DA = _Words(
    single={
        Freq.YEARLY: "Årligt", Freq.MONTHLY: "Månedligt", Freq.WEEKLY: "Ugentligt",
        Freq.DAILY: "Dagligt", Freq.HOURLY: "Hver time", Freq.MINUTELY: "Hvert minut",
        Freq.SECONDLY: "Hvert sekund",
    },
    every={
        Freq.YEARLY: "Hvert {n}. år", Freq.MONTHLY: "Hver {n}. måned",
        Freq.WEEKLY: "Hver {n}. uge", Freq.DAILY: "Hver {n}. dag",
        Freq.HOURLY: "Hver {n}. time", Freq.MINUTELY: "Hvert {n}. minut",
        Freq.SECONDLY: "Hvert {n}. sekund",
    },
    weekdays=("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    months=("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
            "september", "oktober", "november", "december"),
    short_months=("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.",
                  "okt.", "nov.", "dec."),
    ordinals=("første", "anden", "tredje", "fjerde", "femte"),
    last="sidste", second_last="næstsidste", and_="og", on_days="om", on_nth="den",
    on_monthdays="den", in_months="i", at="kl.", of="af", day_word="dag",
    until="indtil", times="{n} gange", once="én gang",
)
_NB = _Words(
    single={
        Freq.YEARLY: "Årlig", Freq.MONTHLY: "Månedlig", Freq.WEEKLY: "Ukentlig",
        Freq.DAILY: "Daglig", Freq.HOURLY: "Hver time", Freq.MINUTELY: "Hvert minutt",
        Freq.SECONDLY: "Hvert sekund",
    },
    every={
        Freq.YEARLY: "Hvert {n}. år", Freq.MONTHLY: "Hver {n}. måned",
        Freq.WEEKLY: "Hver {n}. uke", Freq.DAILY: "Hver {n}. dag",
        Freq.HOURLY: "Hver {n}. time", Freq.MINUTELY: "Hvert {n}. minutt",
        Freq.SECONDLY: "Hvert {n}. sekund",
    },
    weekdays=("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    months=("januar", "februar", "mars", "april", "mai", "juni", "juli", "august",
            "september", "oktober", "november", "desember"),
    short_months=("jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.",
                  "okt.", "nov.", "des."),
    ordinals=("første", "andre", "tredje", "fjerde", "femte"),
    last="siste", second_last="nest siste", and_="og", on_days="på", on_nth="den",
    on_monthdays="den", in_months="i", at="kl.", of="av", day_word="dag",
    until="til", times="{n} ganger", once="én gang",
)
_LANGUAGES = {"en": _EN, "da": _DA, "no": _NB, "nb": _NB}


def _monthday(w: _Words, n: int) -> str:
    """Word a BYMONTHDAY value: "15th", "last day", "15."."""
    if n > 0:
        return w.numeral(n)
    return f"{w.number(n)} {w.day_word}"


def summarize(rule: RecurrenceRule, dtstart: datetime | date, language: str = "en") -> str:
    """Describe a rule in words, e.g. "Every 2 weeks on Monday and Wednesday"."""
    w = _LANGUAGES.get(language.lower().split("-")[0])
    if w is None:
        raise RecurrenceError(
            f"no summary wording for language {language!r}; use one of {sorted(_LANGUAGES)}"
        )
    n = rule.interval
    text = w.single[rule.freq] if n == 1 else w.every[rule.freq].format(n=n)
    plain = [w.weekdays[d] for o, d in sorted(rule.byday, key=lambda p: p[1]) if o is None]
    nth = [f"{w.number(o)} {w.weekdays[d]}" for o, d in rule.byday if o is not None]
    if rule.bysetpos:
        picks = w.join([w.number(p) for p in sorted(rule.bysetpos, key=lambda p: (p < 0, p))])
        text += f" {w.on_nth} {picks} {w.of} {w.join(plain + nth)}"
    else:
        if nth:
            text += f" {w.on_nth} {w.join(nth)}"
        if plain:
            text += f" {w.on_days} {w.join(plain)}"
    if rule.bymonthday and not rule.bysetpos:
        text += f" {w.on_monthdays} {w.join([_monthday(w, d) for d in rule.bymonthday])}"
    if rule.bymonth:
        text += f" {w.in_months} {w.join([w.months[m - 1] for m in rule.bymonth])}"
    if rule.byhour and not isinstance(dtstart, datetime):
        pass
    elif rule.byhour:
        minutes = rule.byminute or (dtstart.minute,)  # type: ignore[union-attr]
        clock = [f"{h:02d}:{m:02d}" for h in rule.byhour for m in minutes]
        text += f" {w.at} {w.join(clock)}"
    if rule.until is not None:
        until = rule.until
        if isinstance(until, datetime):
            if until.tzinfo is not None and isinstance(dtstart, datetime) and dtstart.tzinfo:
                until = until.astimezone(dtstart.tzinfo)
            until = until.date()
        text += f" {w.until} {w.day(until)}"
    elif rule.count is not None:
        text += ", " + (w.once if rule.count == 1 else w.times.format(n=rule.count))
    return text
