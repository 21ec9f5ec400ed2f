"""``scripts/sizes.py``, the house's size limits, run as a command on a tree made for the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "sizes.py"


def function(name: str, lines: int, indent: str = "") -> str:
    """A function of exactly ``lines`` lines, its ``def`` included, behind a decorator."""
    body = "".join(f"{indent}    x = {i}\n" for i in range(lines - 2))
    return f"{indent}@staticmethod\n{indent}def {name}() -> int:\n{body}{indent}    return 0\n"


def run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_each_module_and_function_over_the_limits_is_listed(tmp_path: Path) -> None:
    write(tmp_path / "ledger" / "books" / "long.py", function("fits", 70) + function("long", 71))
    method = "\n\nclass Service:\n" + function("handle", 75, indent="    ")
    write(tmp_path / "api" / "http" / "routes.py", "import os\n" + method)
    write(tmp_path / "reports" / "big.py", "x = 1\n" * 401)
    write(tmp_path / "reports" / "fits.py", "x = 1\n" * 400)
    # Exempt, however long: migrations, tests, and whatever lies outside the three packages.
    write(tmp_path / "ledger" / "tests" / "test_long.py", function("long", 100))
    write(tmp_path / "migrations" / "versions" / "0001.py", "x = 1\n" * 500)
    write(tmp_path / "bench" / "long.py", function("long", 100))

    result = run(tmp_path)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "ledger/books/long.py:73 long 71",
        "api/http/routes.py:6 Service.handle 75",
        "reports/big.py:1 <module> 401",
    ]


def test_a_tree_within_the_limits_passes(tmp_path: Path) -> None:
    write(tmp_path / "ledger" / "fits.py", function("fits", 70) + "x = 1\n" * 329)
    write(tmp_path / "api" / "__init__.py", "")

    result = run(tmp_path)

    assert (result.returncode, result.stdout) == (0, "")
