"""The member page's pure parts: language choice, catalogs, durations, amounts, the sign-in
throttle and the record form's parsing."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from api.settings import SettingsError
from api.web.forms import HelpForm, HelpRecord, parse_help
from api.web.i18n import LANGUAGES, LOCALES_DIR, Translator, catalog, choose_language
from api.web.settings import WebSettings
from api.web.throttle import Throttle

WEB = Path(__file__).resolve().parents[2] / "api" / "web"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("de", "de"),
        ("de-AT,de;q=0.9", "de"),
        ("fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7", "de"),
        ("de;q=0.5, en;q=0.9", "en"),
        ("en-GB, de", "en"),
        ("es, it", "en"),
        ("de;q=0", "en"),
        ("de;q=abc, en", "en"),
    ],
)
def test_the_language_is_the_most_preferred_supported_one(
    header: str | None, language: str
) -> None:
    assert choose_language(header) == language


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "N_": None}
    return {
        message
        for _, _, message, *_ in extract_from_dir(str(WEB), method_map, keywords=keywords)
        if isinstance(message, str)
    }


def test_english_and_german_are_complete() -> None:
    used = _extracted()
    assert len(used) > 40
    english = {m.id for m in catalog("en") if m.id}
    assert used <= english, f"missing from the English catalog: {sorted(used - english)}"
    german = {m.id: m.string for m in catalog("de") if m.id}
    assert set(german) <= english, "German translates only messages that exist"
    translated = {message: text for message, text in german.items() if text}
    assert used <= set(translated), f"not in German yet: {sorted(used - set(translated))}"
    for message, text in translated.items():
        placeholders = re.findall(r"%\(\w+\)s", str(message))
        assert sorted(re.findall(r"%\(\w+\)s", str(text))) == sorted(placeholders), message
    assert sorted(p.name for p in LOCALES_DIR.iterdir()) == sorted(LANGUAGES)


def test_durations_read_as_hours_and_minutes() -> None:
    english, german = Translator("en"), Translator("de")
    assert english.duration(390) == "6 h 30 min"
    assert english.duration(60) == "1 h"
    assert english.duration(45) == "45 min"
    assert english.duration(0) == "0 min"
    assert english.duration(-90) == "−1 h 30 min"
    assert german.duration(390) == "6 Std. 30 Min."
    assert german.gettext("Sign in") == "Anmelden"
    assert german.gettext("no such message") == "no such message"


def test_the_throttle_counts_attempts_per_address_and_minute() -> None:
    now = [120.0]
    throttle = Throttle(2, clock=lambda: now[0])
    assert [throttle.allow("a"), throttle.allow("a"), throttle.allow("a")] == [True, True, False]
    assert throttle.allow("b")
    assert throttle.seconds_left() == 60
    now[0] = 179.5
    assert not throttle.allow("a") and throttle.seconds_left() == 1
    now[0] = 180.0
    assert throttle.allow("a")


def test_web_settings_are_checked() -> None:
    assert WebSettings.from_env({}) == WebSettings()
    settings = WebSettings.from_env(
        {"COMMONS_LEDGER_WEB_SESSION_HOURS": "2", "COMMONS_LEDGER_WEB_SIGN_IN_PER_MINUTE": "3"}
    )
    assert (settings.session_hours, settings.sign_in_per_minute) == (2, 3)
    for name, value in (
        ("COMMONS_LEDGER_WEB_SESSION_HOURS", "0"),
        ("COMMONS_LEDGER_WEB_SESSION_HOURS", "721"),
        ("COMMONS_LEDGER_WEB_SIGN_IN_PER_MINUTE", "-1"),
        ("COMMONS_LEDGER_WEB_SECRET", "short"),
    ):
        with pytest.raises(SettingsError, match=name):
            WebSettings.from_env({name: value})


BOB = uuid.uuid4()
MEMBERS = {BOB: "Bob"}
TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"receiver": "", "hours": "1"}, {"receiver"}),
        ({"receiver": str(uuid.uuid4()), "hours": "1"}, {"receiver"}),
        ({"receiver": "not-a-uuid", "hours": "1"}, {"receiver"}),
        ({"hours": "", "minutes": ""}, {"duration"}),
        ({"hours": "0", "minutes": "0"}, {"duration"}),
        ({"hours": "24", "minutes": "1"}, {"duration"}),
        ({"hours": "1.5"}, {"duration"}),
        ({"hours": "-1"}, {"duration"}),
        ({"hours": "١"}, {"duration"}),
        ({"hours": "1", "description": ""}, {"description"}),
        ({"hours": "1", "description": "x" * 1001}, {"description"}),
        ({"hours": "1", "description": "a\x00b"}, {"description"}),
        ({"hours": "1", "day": "28.11.2026"}, {"day"}),
        ({"hours": "1", "day": "2026-12-06"}, {"day"}),
        ({"hours": "1", "category": "c" * 61}, {"category"}),
        (
            {"receiver": "", "hours": "0", "description": ""},
            {"receiver", "duration", "description"},
        ),
    ],
)
def test_each_mistake_is_named_on_its_field(fields: dict[str, str], errors: set[str]) -> None:
    data = {"receiver": str(BOB), "hours": "", "minutes": "", "description": "Weeding", **fields}
    parsed = parse_help(HelpForm.of(data), MEMBERS, TODAY)
    assert isinstance(parsed, HelpForm)
    assert set(parsed.errors) == errors
    assert parsed.description == data["description"].strip()


def test_a_good_form_is_a_record_in_minutes() -> None:
    data = {"receiver": f" {BOB} ", "hours": "2", "minutes": "15", "description": " Weeding "}
    assert parse_help(HelpForm.of(data), MEMBERS, TODAY) == HelpRecord(
        BOB, 135, "Weeding", TODAY, None
    )
    only_minutes = {**data, "hours": "", "minutes": "90"}
    assert parse_help(HelpForm.of(only_minutes), MEMBERS, TODAY) == HelpRecord(
        BOB, 90, "Weeding", TODAY, None
    )
    a_day = {**data, "hours": "24", "minutes": "0"}
    assert parse_help(HelpForm.of(a_day), MEMBERS, TODAY) == HelpRecord(
        BOB, 24 * 60, "Weeding", TODAY, None
    )


def test_help_given_earlier_keeps_its_day_and_kind() -> None:
    data = {
        "receiver": str(BOB), "hours": "1", "minutes": "", "description": "Weeding",
        "day": "2026-11-28", "category": " gardening ",
    }  # fmt: skip
    assert parse_help(HelpForm.of(data), MEMBERS, TODAY) == HelpRecord(
        BOB, 60, "Weeding", date(2026, 11, 28), "gardening"
    )
