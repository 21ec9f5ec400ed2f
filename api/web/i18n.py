"""Messages of the member page through gettext catalogs (Babel ``.po`` files read at start),
the language chosen from the browser's ``Accept-Language``.

English is the source language and its catalog lists every message; German translates every one
(a test checks both). A message a catalog lacks falls back to English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Final

from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES_DIR: Final = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE: Final = "en"
LANGUAGES: Final = ("en", "de")


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker
    """Marks a message for extraction where it is defined; it is translated when shown."""
    return message


EXCHANGE_STATUSES: Final = (
    N_("pending"),
    N_("confirmed"),
    N_("declined"),
    # Cross exchanges between installs: confirmed, the hours on their way; refused by the
    # other community's node.
    N_("confirming"),
    N_("refused"),
)
"""Exchange statuses as shown on the page (their values are the message ids)."""


@cache
def catalog(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def choose_language(accept_language: str | None) -> str:
    """The supported language the browser prefers most (RFC 9110 quality values), else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Translator:
    language: str

    def gettext(self, message: str, **values: object) -> str:
        """The message in this language, with ``%(name)s`` placeholders filled in."""
        found = catalog(self.language).get(message)
        text = found.string if found is not None and found.string else message
        assert isinstance(text, str)
        return text % values if values else text

    def date(self, day: date) -> str:
        return format_date(day, format="medium", locale=self.language)

    def duration(self, minutes: int) -> str:
        """Minutes as hours and minutes: ``6 h 30 min``, ``-1 h``, ``45 min``."""
        sign = "−" if minutes < 0 else ""
        hours, rest = divmod(abs(minutes), 60)
        parts = []
        if hours:
            parts.append(self.gettext("%(hours)s h", hours=hours))
        if rest or not hours:
            parts.append(self.gettext("%(minutes)s min", minutes=rest))
        return sign + " ".join(parts)

    def template_globals(self) -> Mapping[str, object]:
        return {
            "_": self.gettext,
            "duration": self.duration,
            "format_date": self.date,
            "language": self.language,
        }
