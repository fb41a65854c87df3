"""The texts of invitation mails in English, Danish and Norwegian (bokmål).

Owns the wording of subjects, labels, change names and dates for ``mail.compose``; the
organiser's language decides (``en``, ``da``, ``no``; ``nb``/``nn`` read as ``no``,
anything else falls back to English).  Dates are formatted here rather than through the
C locale, which is process-wide and often missing on servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Day
from datetime import datetime


@dataclass(frozen=True)
class Texts:
    """All words of one language."""

    code: str
    subject_request: str
    subject_update: str
    subject_cancel: str
    subject_cancel_occurrence: str
    intro_request: str
    intro_update: str
    intro_cancel: str
    intro_cancel_occurrence: str
    what: str
    when: str
    where: str
    organizer: str
    participants: str
    changed: str
    repeats: str
    due: str
    answer: str
    answers: dict[str, str]
    change_names: dict[str, str]
    frequencies: dict[str, str]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    #: The reply-link pages (``app.mail_routes``): titles and sentences with {placeholders}.
    page: dict[str, str]

    def date(self, moment: Day) -> str:
        """Return a long date in this language, e.g. 'Monday 3 March 2025'."""
        weekday = self.weekdays[moment.weekday()]
        month = self.months[moment.month - 1]
        if self.code == "en":
            return f"{weekday}, {moment.day} {month} {moment.year}"
        return f"{weekday} {moment.day}. {month} {moment.year}"

    def days(self, first: Day, last: Day) -> str:
        """Return the dates of an all-day item, no times nor zone: 'date' or 'date - date'."""
        if last <= first:
            return self.date(first)
        return f"{self.date(first)} \u2013 {self.date(last)}"

    def span(self, start: datetime, end: datetime | None, zone_label: str) -> str:
        """Return 'date HH:MM-HH:MM (zone)', with the end date when it differs."""
        text = f"{self.date(start)} {start:%H:%M}"
        if end is not None and end != start:
            if end.date() == start.date():
                text += f"\u2013{end:%H:%M}"
            else:
                text += f" \u2013 {self.date(end)} {end:%H:%M}"
        return f"{text} ({zone_label})"


EN = Texts(
    code="en",
    subject_request="Invitation: {title}",
    subject_update="Updated invitation: {title}",
    subject_cancel="Cancelled: {title}",
    subject_cancel_occurrence="Cancelled occurrence: {title}",
    intro_request="{organizer} invites you to a meeting.",
    intro_update="{organizer} has changed a meeting you are invited to.",
    intro_cancel="{organizer} has cancelled this meeting.",
    intro_cancel_occurrence="{organizer} has cancelled one occurrence of this meeting.",
    what="What",
    when="When",
    where="Where",
    organizer="Organiser",
    participants="Participants",
    changed="Changed",
    repeats="Repeats",
    due="Due",
    answer="Answer",
    answers={"ACCEPTED": "Accept", "TENTATIVE": "Maybe", "DECLINED": "Decline"},
    change_names={
        "time": "time",
        "recurrence": "recurrence",
        "location": "location",
        "status": "status",
        "occurrences": "single occurrences",
        "title": "title",
        "description": "agenda",
        "attendees": "participants",
        "alarm": "reminder",
        "privacy": "privacy",
        "availability": "free/busy",
    },
    frequencies={
        "DAILY": "daily",
        "WEEKLY": "weekly",
        "MONTHLY": "monthly",
        "YEARLY": "yearly",
    },
    weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    months=(
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    page={
        "answer_for": "Answer for {email}:",
        "confirm": "Confirm: {answer}",
        "thanks": "Thank you",
        "recorded": "Your answer {answer} to {title} was recorded.",
        "invalid": "Link not valid",
        "gone_title": "Meeting not found",
        "gone": "This meeting no longer exists.",
        "not_recorded": "Not recorded",
        "press": "Open the link and press the button.",
    },
)  # fmt: skip

DA = Texts(
    code="da",
    subject_request="Invitation: {title}",
    subject_update="Opdateret invitation: {title}",
    subject_cancel="Aflyst: {title}",
    subject_cancel_occurrence="Aflyst forekomst: {title}",
    intro_request="{organizer} inviterer dig til et møde.",
    intro_update="{organizer} har ændret et møde, du er inviteret til.",
    intro_cancel="{organizer} har aflyst dette møde.",
    intro_cancel_occurrence="{organizer} har aflyst én forekomst af dette møde.",
    what="Hvad",
    when="Hvornår",
    where="Hvor",
    organizer="Mødeindkalder",
    participants="Deltagere",
    changed="Ændret",
    repeats="Gentages",
    due="Frist",
    answer="Svar",
    answers={"ACCEPTED": "Accepter", "TENTATIVE": "Måske", "DECLINED": "Afslå"},
    change_names={
        "time": "tidspunkt",
        "recurrence": "gentagelse",
        "location": "sted",
        "status": "status",
        "occurrences": "enkelte forekomster",
        "title": "titel",
        "description": "agenda",
        "attendees": "deltagere",
        "alarm": "påmindelse",
        "privacy": "privat",
        "availability": "ledig/optaget",
    },
    frequencies={
        "DAILY": "dagligt",
        "WEEKLY": "ugentligt",
        "MONTHLY": "månedligt",
        "YEARLY": "årligt",
    },
    weekdays=("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    months=(
        "januar", "februar", "marts", "april", "maj", "juni",
        "juli", "august", "september", "oktober", "november", "december",
    ),
    page={
        "answer_for": "Svar for {email}:",
        "confirm": "Bekræft: {answer}",
        "thanks": "Tak",
        "recorded": "Dit svar {answer} til {title} er registreret.",
        "invalid": "Linket er ikke gyldigt",
        "gone_title": "Mødet findes ikke",
        "gone": "Dette møde findes ikke længere.",
        "not_recorded": "Ikke registreret",
        "press": "Åbn linket, og tryk på knappen.",
    },
)  # fmt: skip

NO = Texts(
    code="no",
    subject_request="Invitasjon: {title}",
    subject_update="Oppdatert invitasjon: {title}",
    subject_cancel="Avlyst: {title}",
    subject_cancel_occurrence="Avlyst forekomst: {title}",
    intro_request="{organizer} inviterer deg til et møte.",
    intro_update="{organizer} har endret et møte du er invitert til.",
    intro_cancel="{organizer} har avlyst dette møtet.",
    intro_cancel_occurrence="{organizer} har avlyst én forekomst av dette møtet.",
    what="Hva",
    when="Når",
    where="Hvor",
    organizer="Møteinnkaller",
    participants="Deltakere",
    changed="Endret",
    repeats="Gjentas",
    due="Frist",
    answer="Svar",
    answers={"ACCEPTED": "Godta", "TENTATIVE": "Kanskje", "DECLINED": "Avslå"},
    change_names={
        "time": "tidspunkt",
        "recurrence": "gjentakelse",
        "location": "sted",
        "status": "status",
        "occurrences": "enkelte forekomster",
        "title": "tittel",
        "description": "agenda",
        "attendees": "deltakere",
        "alarm": "påminnelse",
        "privacy": "privat",
        "availability": "ledig/opptatt",
    },
    frequencies={
        "DAILY": "daglig",
        "WEEKLY": "ukentlig",
        "MONTHLY": "månedlig",
        "YEARLY": "årlig",
    },
    weekdays=("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    months=(
        "januar", "februar", "mars", "april", "mai", "juni",
        "juli", "august", "september", "oktober", "november", "desember",
    ),
    page={
        "answer_for": "Svar for {email}:",
        "confirm": "Bekreft: {answer}",
        "thanks": "Takk",
        "recorded": "Svaret ditt {answer} på {title} er registrert.",
        "invalid": "Lenken er ikke gyldig",
        "gone_title": "Fant ikke møtet",
        "gone": "Dette møtet finnes ikke lenger.",
        "not_recorded": "Ikke registrert",
        "press": "Åpne lenken og trykk på knappen.",
    },
)  # fmt: skip

LANGUAGES: dict[str, Texts] = {"en": EN, "da": DA, "no": NO, "nb": NO, "nn": NO}


def texts(language: str | None) -> Texts:
    """Return the texts for a language code such as 'da', 'nb-NO' or 'en_GB'."""
    code = (language or "en").replace("_", "-").split("-", 1)[0].strip().lower()
    return LANGUAGES.get(code, EN)
