"""Webhook delivery settings, read once from the environment (invalid ones stop start-up)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from api.settings import SettingsError
from ledger.events.delivery import DeliveryConfig
from ledger.events.url_guard import AllowList
from ledger.events.webhooks import RetryPolicy


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    allow: AllowList = field(default_factory=AllowList)
    """COMMONS_LEDGER_WEBHOOK_ALLOW: comma-separated CIDRs, addresses and host names that
    webhooks may target although they are not public (e.g. ``10.0.0.0/8,hooks.internal``).
    Empty: only public addresses."""

    timeout_s: int = 10
    """COMMONS_LEDGER_WEBHOOK_TIMEOUT_S: how long a receiver may take to answer."""

    retry_base_ms: int = 5000
    """COMMONS_LEDGER_WEBHOOK_RETRY_BASE_MS: the wait after a first failure; it doubles with
    each further failure (at most an hour), half of it random jitter."""

    max_attempts: int = 10
    """COMMONS_LEDGER_WEBHOOK_MAX_ATTEMPTS: failures in a row after which a subscription
    pauses until a treasurer resumes it."""

    poll_ms: int = 1000
    """COMMONS_LEDGER_WEBHOOK_POLL_MS: how often the service looks for events to deliver;
    0 runs no delivery loop in the service (use ``commons-ledger deliver-webhooks``)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        env = os.environ if environ is None else environ
        try:
            allow = AllowList.parse(env.get("COMMONS_LEDGER_WEBHOOK_ALLOW", ""))
        except ValueError as exc:
            raise SettingsError(f"COMMONS_LEDGER_WEBHOOK_ALLOW: {exc}") from None
        values = {}
        for name, (variable, default, smallest, largest) in _BOUNDS.items():
            raw = env.get(variable, "").strip() or str(default)
            if not raw.isdigit() or not smallest <= int(raw) <= largest:
                raise SettingsError(
                    f"{variable} must be a whole number from {smallest} to {largest}"
                )
            values[name] = int(raw)
        return cls(allow=allow, **values)

    def delivery(self) -> DeliveryConfig:
        return DeliveryConfig(
            policy=RetryPolicy(
                retry_base_s=self.retry_base_ms / 1000, max_attempts=self.max_attempts
            ),
            timeout_s=self.timeout_s,
            allow=self.allow,
        )


_BOUNDS = {
    "timeout_s": ("COMMONS_LEDGER_WEBHOOK_TIMEOUT_S", 10, 1, 120),
    "retry_base_ms": ("COMMONS_LEDGER_WEBHOOK_RETRY_BASE_MS", 5000, 1, 3_600_000),
    "max_attempts": ("COMMONS_LEDGER_WEBHOOK_MAX_ATTEMPTS", 10, 1, 100),
    "poll_ms": ("COMMONS_LEDGER_WEBHOOK_POLL_MS", 1000, 0, 3_600_000),
}
