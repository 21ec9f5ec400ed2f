"""Every shell example in the README and docs/ works verbatim after the README's first command
(which makes .venv and runs the demo) without activating the virtualenv: the console command is
written ``.venv/bin/commons-ledger``, never a bare ``commons-ledger`` that a fresh shell does not
find ("command not found"). Inside the Docker image (``docker compose exec app …``) the command
is on the PATH."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(sh|bash|shell|console)?\s*$")
BARE = re.compile(r"(?<![\w./-])commons-ledger(?=\s|$)")


def _shell_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each line inside a fenced shell block."""
    found, inside = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opened = FENCE.match(line.strip())
        if line.strip().startswith("```"):
            inside = not inside and opened is not None and opened.group(1) is not None
            continue
        if inside:
            found.append((number, line))
    return found


def test_shell_examples_call_the_virtualenvs_command() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        for number, line in _shell_lines(path)
        if BARE.search(line.split("#", 1)[0]) and "docker compose exec" not in line
    ]
    assert bare == [], "write .venv/bin/commons-ledger:\n" + "\n".join(bare)
