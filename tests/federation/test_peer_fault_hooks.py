"""The test-only fault hooks of federation between installs (``api.peer_faults``) are inert
unless their variables are set: production wires the plain receiver, answer handlers and clock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from api.federation_settings import FederationSettings
from api.peer_faults import FileClock, armed_answers, clock_of
from ledger.federation.courier import AnswerHandler
from ledger.kernel.clock import utc_now


def test_unset_the_hooks_wire_nothing() -> None:
    settings = FederationSettings.from_env({})
    assert settings.test_kill_file is None and settings.test_clock_file is None
    assert clock_of(settings.test_clock_file) is utc_now
    answers: dict[str, AnswerHandler] = {}
    assert armed_answers(answers, None) == answers


def test_the_clock_file_moves_the_federation_clock(tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "clock")
    assert abs(clock() - utc_now()) < timedelta(seconds=5)  # no file: the host's clock
    (tmp_path / "clock").write_text("120")
    later = FileClock(tmp_path / "clock")
    assert timedelta(seconds=115) < later() - utc_now() < timedelta(seconds=125)


def test_an_armed_point_kills_once_and_only_for_its_link(tmp_path: Path) -> None:
    kill_file = tmp_path / "kill"
    kill_file.write_text("payee-after-decide 00000000-0000-0000-0000-000000000001")
    script = (
        "import sys, uuid; from pathlib import Path; "
        "from api.peer_faults import kill_here_if_armed as k; "
        "f = Path(sys.argv[1]); "
        "k(f, 'payee-after-decide', uuid.UUID(int=2)); "  # another link: nothing
        "k(f, 'payer-before-settle', uuid.UUID(int=1)); "  # another point: nothing
        "k(f, 'payee-after-decide', uuid.UUID(int=1)); "
        "print('survived')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(kill_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL and "survived" not in done.stdout, done.stderr
    assert kill_file.read_text() == ""  # fired once
