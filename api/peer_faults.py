"""Test-only fault hooks of federation between installs, so that tests with two real
``commons-ledger serve`` processes can kill a node at an exact step of the protocol and let time
pass without waiting for it. Inert in production: each is wired only when its variable is set
(``api.federation_settings``), and nothing else reads them.

- ``COMMONS_LEDGER_TEST_KILL_FILE``: a file that may name a point, and optionally a link id
  after it (``payee-after-decide 01a2…``: only a message of that link fires); a process reaching
  the named point empties the file (so that it fires once, and not again after the restart) and
  sends itself SIGKILL — no shutdown code runs, as in a power cut:

  - ``payee-after-decide``: the payee's node has committed its decision on a ``prepare`` (the
    decision and its inbox entry, one transaction) and the signed answer has not left;
  - ``payer-before-settle``: the payer's node has the payee's signed answer and has not
    recorded it (nothing of the settling transaction is committed).

- ``COMMONS_LEDGER_TEST_CLOCK_FILE``: a file holding a number of seconds added to the clock of
  federation between installs (the courier, the receiver, the remote transfers), re-read at
  most every 0.1 s. Tests move it forward on both nodes at once to let a hold window pass —
  the protocol's margins and the shortest hold window stay what production uses
  (docs/federation.md, "How the fault tests reach an exact step, and a hold window, in
  seconds").
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import msgspec
from joserfc import jws
from joserfc.errors import JoseError

from ledger.federation.courier import AnswerHandler
from ledger.federation.messages import PeerMessage
from ledger.federation.peer_store import Outbound
from ledger.federation.peering import ANSWER_SUFFIX, PeerReceiver
from ledger.federation.remote import PREPARE_STEP
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.uow import UnitOfWork

PAYEE_AFTER_DECIDE: Final = "payee-after-decide"
PAYER_BEFORE_SETTLE: Final = "payer-before-settle"
_CLOCK_REREAD_S: Final = 0.1


def kill_here_if_armed(kill_file: Path, point: str, link_id: uuid.UUID) -> None:
    """SIGKILL this process if ``kill_file`` names ``point`` (and this link, if it names one);
    the file is emptied first: it fires once."""
    try:
        armed = kill_file.read_text().split()
    except OSError:
        return
    if armed in ([point], [point, str(link_id)]):
        kill_file.write_text("")
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class FileClock:
    """``utc_now`` plus the seconds written in ``path`` (0 while it is absent or unreadable)."""

    path: Path
    _offset_s: float = 0.0
    _read_at: float = field(default=float("-inf"))

    def __call__(self) -> datetime:
        moment = time.monotonic()
        if moment - self._read_at >= _CLOCK_REREAD_S:
            self._read_at = moment
            with contextlib.suppress(OSError, ValueError):
                self._offset_s = float(self.path.read_text().strip() or 0)
        return utc_now() + timedelta(seconds=self._offset_s)


def clock_of(clock_file: str | None) -> Clock:
    return utc_now if clock_file is None else FileClock(Path(clock_file))


class KillingReceiver(PeerReceiver):
    """A receiver that dies between a committed ``prepare`` decision and its answer."""

    def __init__(self, *arguments: Any, kill_file: Path, **named: Any) -> None:
        super().__init__(*arguments, **named)
        self._kill_file = kill_file

    async def receive(self, token: str) -> str:
        answer = await super().receive(token)
        message = _unverified(answer)
        if message is not None and message.step == PREPARE_STEP + ANSWER_SUFFIX:
            kill_here_if_armed(self._kill_file, PAYEE_AFTER_DECIDE, message.link_id)
        return answer


def receiver_of(kill_file: str | None, *arguments: Any) -> PeerReceiver:
    """A :class:`PeerReceiver` of ``arguments``; with a kill file, one that can die on cue."""
    if kill_file is None:
        return PeerReceiver(*arguments)
    return KillingReceiver(*arguments, kill_file=Path(kill_file))


def armed_answers(
    answers: Mapping[str, AnswerHandler], kill_file: str | None
) -> dict[str, AnswerHandler]:
    """The courier's answer handlers; with a kill file, the prepare's can die before settling."""
    if kill_file is None or PREPARE_STEP not in answers:
        return dict(answers)
    settle, path = answers[PREPARE_STEP], Path(kill_file)

    async def killing(uow: UnitOfWork[Any], sent: Outbound, answer: PeerMessage) -> bool:
        kill_here_if_armed(path, PAYER_BEFORE_SETTLE, sent.link_id)
        return await settle(uow, sent, answer)

    return {**answers, PREPARE_STEP: killing}


def _unverified(token: str) -> PeerMessage | None:
    """A signed message, read without verifying (this node signed it)."""
    try:
        payload = jws.extract_compact(token.encode()).payload
        return msgspec.json.decode(payload, type=PeerMessage)
    except (JoseError, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        return None
