"""The record-help form: parsing what a member typed, with one friendly message per mistake.

Pure functions over the submitted strings; the messages are gettext message ids, translated when
the page is rendered.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from api.web.i18n import N_
from ledger.timebank.exchanges import CATEGORY_MAX_CHARS, DESCRIPTION_MAX_CHARS

FORM_MINUTES_MAX: Final = 24 * 60
"""The most one record may claim: longer help is recorded day by day."""


@dataclass(frozen=True, slots=True)
class HelpForm:
    """What was entered, kept as typed so that a refused form shows it again."""

    receiver: str = ""
    hours: str = ""
    minutes: str = ""
    description: str = ""
    day: str = ""
    """The day the help was given, as the date field sends it (``2026-11-28``); empty: today."""
    category: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    """Field name → message id of what is wrong with it."""

    @staticmethod
    def of(data: Mapping[str, str]) -> HelpForm:
        return HelpForm(
            receiver=data.get("receiver", "").strip(),
            hours=data.get("hours", "").strip(),
            minutes=data.get("minutes", "").strip(),
            description=data.get("description", "").strip(),
            day=data.get("day", "").strip(),
            category=data.get("category", "").strip(),
        )

    def refused(self, errors: dict[str, str]) -> HelpForm:
        """This form as typed, with ``errors`` on its fields."""
        return HelpForm(
            self.receiver,
            self.hours,
            self.minutes,
            self.description,
            self.day,
            self.category,
            errors,
        )


@dataclass(frozen=True, slots=True)
class HelpRecord:
    receiver_id: uuid.UUID
    minutes: int
    description: str
    day: date
    category: str | None


def _whole(text: str) -> int | None:
    if text == "":
        return 0
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def _duration(form: HelpForm) -> tuple[int | None, str | None]:
    hours, minutes = _whole(form.hours), _whole(form.minutes)
    if hours is None or minutes is None:
        return None, N_("Enter the time as whole hours and minutes, like 1 and 30.")
    total = hours * 60 + minutes
    if total == 0:
        return None, N_("Enter how long you helped: at least 1 minute.")
    if total > FORM_MINUTES_MAX:
        return None, N_("That is more than 24 hours. Record long help day by day.")
    return total, None


def _day(form: HelpForm, today: date) -> tuple[date | None, str | None]:
    if not form.day:
        return today, None
    try:
        day = date.fromisoformat(form.day)
    except ValueError:
        return None, N_("Enter the day as a date, like 2026-11-28.")
    if day > today:
        return None, N_("That day is still to come. Record help once you have given it.")
    return day, None


def parse_help(
    form: HelpForm, members: Mapping[uuid.UUID, str], today: date
) -> HelpRecord | HelpForm:
    """The record to make, or the form again with a message on each field that is wrong.
    ``members`` are those the member may record help for (everyone but themselves); help is
    recorded for ``today`` unless the form names an earlier day."""
    errors: dict[str, str] = {}
    receiver_id: uuid.UUID | None = None
    with contextlib.suppress(ValueError):
        receiver_id = uuid.UUID(form.receiver)
    if receiver_id not in members:
        errors["receiver"] = N_("Choose the member you helped from the list.")
    minutes, duration_error = _duration(form)
    if duration_error is not None:
        errors["duration"] = duration_error
    if not form.description:
        errors["description"] = N_("Say in a few words what you did.")
    elif len(form.description) > DESCRIPTION_MAX_CHARS:
        errors["description"] = N_("That description is too long; say it more briefly.")
    elif "\x00" in form.description:
        errors["description"] = N_("Use only ordinary text in the description.")
    day, day_error = _day(form, today)
    if day_error is not None:
        errors["day"] = day_error
    if len(form.category) > CATEGORY_MAX_CHARS or "\x00" in form.category:
        errors["category"] = N_("Name the kind of help in a few ordinary words.")
    if errors or receiver_id is None or minutes is None or day is None:
        return form.refused(errors)
    return HelpRecord(receiver_id, minutes, form.description, day, form.category or None)
