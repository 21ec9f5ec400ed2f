"""Settings of the member page, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from api.settings import SettingsError


@dataclass(frozen=True, slots=True)
class WebSettings:
    session_hours: int = 12
    """COMMONS_LEDGER_WEB_SESSION_HOURS: a sign-in lasts this long (1 to 720 hours)."""

    sign_in_per_minute: int = 10
    """COMMONS_LEDGER_WEB_SIGN_IN_PER_MINUTE: sign-in attempts allowed per client address and
    minute; more are refused with 429 until the minute has passed."""

    csrf_secret: str | None = None
    """COMMONS_LEDGER_WEB_SECRET: the key that signs CSRF tokens (at least 32 characters). Set
    it when several processes serve the page; unset, each process draws a random one."""

    secure_cookies: bool = False
    """COMMONS_LEDGER_WEB_SECURE_COOKIES: ``true`` marks the session cookie ``Secure`` whatever
    the request's scheme — for a service behind a TLS-terminating proxy (otherwise the flag
    follows the scheme, which only ``FORWARDED_ALLOW_IPS`` lets a proxy state)."""

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(hours=self.session_hours)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ
        hours = env.get("COMMONS_LEDGER_WEB_SESSION_HOURS", "").strip() or "12"
        if not hours.isdigit() or not 1 <= int(hours) <= 720:
            raise SettingsError(
                "COMMONS_LEDGER_WEB_SESSION_HOURS must be a whole number from 1 to 720"
            )
        per_minute = env.get("COMMONS_LEDGER_WEB_SIGN_IN_PER_MINUTE", "").strip() or "10"
        if not per_minute.isdigit() or not 1 <= int(per_minute) <= 10_000:
            raise SettingsError(
                "COMMONS_LEDGER_WEB_SIGN_IN_PER_MINUTE must be a whole number from 1 to 10000"
            )
        secret = env.get("COMMONS_LEDGER_WEB_SECRET", "").strip() or None
        if secret is not None and len(secret) < 32:
            raise SettingsError("COMMONS_LEDGER_WEB_SECRET must be at least 32 characters long")
        secure = env.get("COMMONS_LEDGER_WEB_SECURE_COOKIES", "").strip().lower() or "false"
        if secure not in ("true", "false"):
            raise SettingsError("COMMONS_LEDGER_WEB_SECURE_COOKIES must be true or false")
        return cls(int(hours), int(per_minute), secret, secure == "true")
