"""Settings of federation between installs, read once from the environment (invalid ones stop
start-up)."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from api.settings import SettingsError
from ledger.events.url_guard import AllowList
from ledger.events.webhooks import RetryPolicy
from ledger.federation.courier import CourierConfig


@dataclass(frozen=True, slots=True)
class FederationSettings:
    node_url: str | None = None
    """COMMONS_LEDGER_NODE_URL: this node's public base URL (``https://ledger.example.org``), as
    partner nodes reach it; named in every signed message. Unset: this install takes part in no
    federation with other installs (links on the one install still work)."""

    peer_allow: AllowList = field(default_factory=AllowList)
    """COMMONS_LEDGER_PEER_ALLOW: CIDRs, addresses and host names that partner nodes may have
    although they are not public — ``127.0.0.1`` for tests and a two-node demo on one machine.
    Empty: peers must be public addresses (the webhook URL guard, ``ledger.events.url_guard``)."""

    poll_ms: int = 500
    """COMMONS_LEDGER_PEER_POLL_MS: how often the service sends due peer messages; 0 runs no
    loop in the service (then run ``commons-ledger federation deliver``)."""

    timeout_s: int = 10
    """COMMONS_LEDGER_PEER_TIMEOUT_S: how long a partner node may take to answer."""

    retry_base_ms: int = 1000
    """COMMONS_LEDGER_PEER_RETRY_BASE_MS: the wait after a first failure, doubling with each
    further one (half of it jitter); a peer message is retried for ever."""

    retry_cap_ms: int = 60_000
    """COMMONS_LEDGER_PEER_RETRY_CAP_MS: the longest wait between two attempts."""

    checkpoint_s: int = 3600
    """COMMONS_LEDGER_CHECKPOINT_S: how often the service exchanges signed checkpoints of each
    link it proposed with the partner node, when the link's journal moved since the last one
    (an hour; 0: only on demand, ``federation reconcile`` and the API's reconciliation read)."""

    test_kill_file: str | None = None
    """COMMONS_LEDGER_TEST_KILL_FILE: tests only (``api.peer_faults``): a file naming a step of
    the protocol at which this process kills itself. Unset in production: nothing is wired."""

    test_clock_file: str | None = None
    """COMMONS_LEDGER_TEST_CLOCK_FILE: tests only (``api.peer_faults``): a file of seconds added
    to the clock of federation between installs. Unset in production: the clock is the host's."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FederationSettings:
        env = os.environ if environ is None else environ
        url = env.get("COMMONS_LEDGER_NODE_URL", "").strip().rstrip("/") or None
        if url is not None:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SettingsError("COMMONS_LEDGER_NODE_URL must be an http(s) URL with a host")
        try:
            allow = AllowList.parse(env.get("COMMONS_LEDGER_PEER_ALLOW", ""))
        except ValueError as exc:
            raise SettingsError(f"COMMONS_LEDGER_PEER_ALLOW: {exc}") from None
        values = {}
        for name, (variable, default, smallest, largest) in _BOUNDS.items():
            raw = env.get(variable, "").strip() or str(default)
            if not raw.isdigit() or not smallest <= int(raw) <= largest:
                raise SettingsError(
                    f"{variable} must be a whole number from {smallest} to {largest}"
                )
            values[name] = int(raw)
        return cls(
            node_url=url,
            peer_allow=allow,
            test_kill_file=env.get("COMMONS_LEDGER_TEST_KILL_FILE") or None,
            test_clock_file=env.get("COMMONS_LEDGER_TEST_CLOCK_FILE") or None,
            **values,
        )

    def courier(self) -> CourierConfig:
        return CourierConfig(
            timeout_s=self.timeout_s,
            retry=RetryPolicy(
                retry_base_s=self.retry_base_ms / 1000, retry_cap_s=self.retry_cap_ms / 1000
            ),
            allow=self.peer_allow,
        )


_BOUNDS = {
    "poll_ms": ("COMMONS_LEDGER_PEER_POLL_MS", 500, 0, 3_600_000),
    "timeout_s": ("COMMONS_LEDGER_PEER_TIMEOUT_S", 10, 1, 120),
    "retry_base_ms": ("COMMONS_LEDGER_PEER_RETRY_BASE_MS", 1000, 1, 3_600_000),
    "retry_cap_ms": ("COMMONS_LEDGER_PEER_RETRY_CAP_MS", 60_000, 1, 3_600_000),
    "checkpoint_s": ("COMMONS_LEDGER_CHECKPOINT_S", 3600, 0, 7 * 24 * 3600),
}
