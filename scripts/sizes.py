"""The house's size limits: no module over 400 lines, no function or method over 70.

Long modules hide several concepts in one room and long functions several steps in one name; the
limits keep both visible (docs: /work/shared/STYLE.md, TigerBeetle's ≈70 lines). Checks the
modules under ``ledger/``, ``api/`` and ``reports/`` (migrations and tests are exempt), counting a
function from its ``def`` (decorators excluded) to its last line, as ``ast`` reports them.

    python scripts/sizes.py [ROOT]

prints each offender as ``path:line name length`` and exits 1 if there is any, else exits 0.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MODULE_LINES_MAX = 400
FUNCTION_LINES_MAX = 70
PACKAGES = ("ledger", "api", "reports")
EXEMPT_DIRS = frozenset({"migrations", "tests"})


@dataclass(frozen=True, slots=True)
class Offender:
    path: Path
    """Relative to the root checked."""
    line: int
    name: str
    """``<module>``, or the function's qualified name (``Class.method``, ``outer.inner``)."""
    length: int
    """In lines."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.name} {self.length}"


def modules(root: Path) -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if not EXEMPT_DIRS.intersection(path.relative_to(root).parts):
                yield path


def _functions(
    node: ast.AST, prefix: str = ""
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}{child.name}", child
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def offenders_in(path: Path, root: Path) -> Iterator[Offender]:
    source = path.read_text(encoding="utf-8")
    shown = path.relative_to(root)
    lines = len(source.splitlines())
    if lines > MODULE_LINES_MAX:
        yield Offender(shown, 1, "<module>", lines)
    for name, function in _functions(ast.parse(source, filename=str(path))):
        assert function.end_lineno is not None  # set by ast.parse
        length = function.end_lineno - function.lineno + 1
        if length > FUNCTION_LINES_MAX:
            yield Offender(shown, function.lineno, name, length)


def offenders(root: Path) -> list[Offender]:
    return [offender for path in modules(root) for offender in offenders_in(path, root)]


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    found = offenders(root)
    for offender in found:
        print(offender)
    if found:
        print(
            f"{len(found)} over the limits (modules ≤ {MODULE_LINES_MAX} lines, functions ≤ "
            f"{FUNCTION_LINES_MAX})",
            file=sys.stderr,
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
