"""The README's "API in five minutes", run verbatim with bash and curl against
``commons-ledger demo`` (a real server on a loopback port, fresh SQLite file), each step's output
checked against what its comment claims. A step whose comment has no check here fails the test,
so the tour cannot grow a claim nobody checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import sqlite_url

ROOT = Path(__file__).resolve().parents[2]
TOKEN_LINE = re.compile(
    r"^Member token of (.+?) \((treasurer in office|steward|member)\b[^)]*\): (\S+)$"
)


def _tour() -> list[tuple[str, str]]:
    """(comment, commands) of each step of the tour's second shell block."""
    section = (
        ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## API in five minutes")[1]
    )
    block = re.findall(r"```sh\n(.*?)```", section, re.S)[1]
    steps = []
    for paragraph in block.strip().split("\n\n"):
        lines = paragraph.splitlines()
        comments = [line for line in lines if line.startswith("# ")]
        steps.append((" ".join(c[2:] for c in comments), "\n".join(lines[len(comments) :])))
    return steps


def _json(output: str) -> Any:
    return json.loads(output)


def _lines(output: str) -> list[str]:
    return output.strip().splitlines()


CHECKS: dict[str, Callable[[str, dict[str, str]], None]] = {}


def claim(prefix: str) -> Callable[[Callable[[str, dict[str, str]], None]], None]:
    def register(check: Callable[[str, dict[str, str]], None]) -> None:
        CHECKS[prefix] = check

    return register


@claim("The chart of accounts")
def _chart(output: str, _: dict[str, str]) -> None:
    page = _json(output)
    assert len(page["items"]) == 5 and page["next_cursor"]


@claim("Esther's own accounts")
def _own(output: str, members: dict[str, str]) -> None:
    accounts = _json(output)["items"]
    assert accounts and all(a["member_id"] == members["Esther Cook"] for a in accounts)


@claim("Her hours balance")
def _balance(output: str, _: dict[str, str]) -> None:
    balance = _json(output)
    assert balance["commodity"] == "HOURS" and {"posted", "pending", "available"} <= set(balance)


@claim("Another member's account answers 404")
def _hidden(output: str, _: dict[str, str]) -> None:
    assert _lines(output) == ["404"]


@claim("The treasurer in office sees every account")
def _treasurer_sees(output: str, _: dict[str, str]) -> None:
    assert _lines(output) == ["200"]


@claim("Move 12.50 EUR of takings")
def _move(output: str, _: dict[str, str]) -> None:
    entry = _json(output)
    assert entry["status"] == "posted"
    assert sorted(p["amount"] for p in entry["postings"]) == [-1250, 1250]


@claim("The same request again answers the same entry")
def _same(output: str, known: dict[str, str]) -> None:
    assert _json(output) == _json(known["Move 12.50 EUR of takings"])


@claim("A different body under the same key is a 409")
def _conflict(output: str, _: dict[str, str]) -> None:
    assert _lines(output) == ["409"]


@claim("Ann records the 90 minutes of help she gave Bob")
def _recorded(output: str, _: dict[str, str]) -> None:
    exchange = _json(output)
    assert (exchange["status"], exchange["minutes"]) == ("pending", 90)


@claim("Bob confirms it")
def _confirmed(output: str, _: dict[str, str]) -> None:
    assert _json(output)["status"] == "confirmed"


@claim("Every commodity's trial balance")
def _trial(output: str, _: dict[str, str]) -> None:
    commodities = _json(output)["commodities"]
    assert commodities and all(c["total_debit"] == c["total_credit"] for c in commodities)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo's printed output and its URL, while it serves."""
    if shutil.which("curl") is None:
        pytest.skip("curl is missing")
    port = _free_port()
    env = dict(os.environ, COMMONS_LEDGER_DATABASE_URL=sqlite_url(
        tmp_path_factory.mktemp("tour") / "demo.db"
    ))  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "demo", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert server.stdout is not None
    try:
        printed = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            printed.append(line)
            if line.startswith("Serving on") or not line:
                break
        output = "".join(printed)
        assert "Serving on" in output, output
        url = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield output, url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_demo_prints_each_members_role_beside_the_token(demo: tuple[str, str]) -> None:
    output, _ = demo
    roles = {m.group(1): m.group(2) for m in map(TOKEN_LINE.match, output.splitlines()) if m}
    assert roles == {
        "Ann Weaver": "treasurer in office", "Bob Gardener": "steward", "Esther Cook": "member"
    }  # fmt: skip


def test_the_tour_does_what_its_comments_say(demo: tuple[str, str]) -> None:
    output, url = demo
    tokens = {m.group(1): m.group(3) for m in map(TOKEN_LINE.match, output.splitlines()) if m}
    env = dict(
        os.environ,
        TREASURER=re.search(r"^Treasurer key[^:]*: (\S+)$", output, re.M).group(1),  # type: ignore[union-attr]
        ANN=tokens["Ann Weaver"], BOB=tokens["Bob Gardener"], ESTHER=tokens["Esther Cook"],
        API=f"{url}/api/v1/communities/demo",
    )  # fmt: skip
    steps = _tour()
    unchecked = [c for c, _ in steps if not any(c.startswith(p) for p in CHECKS)]
    assert unchecked == [], "a tour step says something no check holds it to"
    # curl prints JSON without a final newline: each marker starts a line of its own.
    script = "\n".join(
        f"printf '\\n@@step {i}\\n'\n{commands}" for i, (_, commands) in enumerate(steps)
    )
    ran = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    outputs = re.split(r"\n@@step \d+\n", ran.stdout)[1:]
    assert len(outputs) == len(steps)
    # What a check may compare with: member ids by name, earlier steps' output by claim.
    known = _members(env)
    for (comment, _), step_output in zip(steps, outputs, strict=True):
        prefix = next(p for p in CHECKS if comment.startswith(p))
        CHECKS[prefix](step_output, known)
        known[prefix] = step_output


def _members(env: dict[str, str]) -> dict[str, str]:
    listed = subprocess.run(
        ["curl", "-s", "-H", f"Authorization: Bearer {env['TREASURER']}",
         f"{env['API']}/members?limit=100"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {m["name"]: m["id"] for m in json.loads(listed.stdout)["items"]}
