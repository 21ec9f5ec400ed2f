"""Every signpost points somewhere real.

The docs name the test behind each guarantee, and docstrings name the tests and modules that
prove or hold what they describe; a rename that forgets them leaves a reader at a dead end.
These tests read README.md, bench/README.md and docs/*.md, and the comments and strings of
every module of `ledger/`, `api/` and `reports/`, and check that:

- every test file named (`tests/ledger/test_service.py`, or in docs/*.md relative to `tests/`,
  `ledger/test_service.py`) exists, and every test named after it (`…py::test_name`, or a bare
  `::test_name` continuing the last file named) is defined in it;
- every source path named (`ledger/store/uow.py`, `reports/queries/`) exists;
- every module of ours named by dotted path in the docs (`ledger.access.credentials.X`,
  `python -m bench.growth`) imports, and the names after the module exist in it;
- every relative link of the docs (`[docs/events.md](docs/events.md#webhooks)`) leads to a file
  that exists, and to a heading of it.
"""

from __future__ import annotations

import importlib
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCE_PACKAGES = ("ledger", "api", "reports")
OUR_PACKAGES = ("ledger", "api", "reports", "bench")

# A test file (`tests/x/test_y.py`, `x/test_y.py`, `tests/x/helper.py`), optionally with
# `::test_name`; or a bare `::test_name` that continues the file named last.
TEST_REFERENCE = re.compile(
    r"(?<![\w/.-])(?P<path>tests/[\w/]+\.py|(?:\w+/)*test_\w+\.py)(?:::(?P<name>\w+))?"
    r"|(?<![\w.])::(?P<bare>test_\w+)"
)
# A path into our source (not a test: those are TEST_REFERENCE's), written in backticks or plain.
SOURCE_PATH = re.compile(
    r"(?<![\w/.-])(?P<path>(?:ledger|api|reports|bench|migrations|scripts)/[\w./-]*[\w/])"
)
# A relative Markdown link, with its optional #anchor.
LINK = re.compile(r"\]\((?P<path>[^)#\s:]*)(?:#(?P<anchor>[^)\s]+))?\)")
# A dotted path into one of our packages inside backticks or after `python -m`.
DOTTED = re.compile(r"(?:`|python -m )(?P<path>(?:ledger|api|reports|bench)(?:\.\w+)+)")


@dataclass(frozen=True)
class Reference:
    """One signpost: where it is written and what it names."""

    where: str
    target: str


def source_text(path: Path) -> str:
    """The comments and strings (docstrings included) of a Python module: where prose lives."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    kinds = (tokenize.COMMENT, tokenize.STRING)
    return "\n".join(token.string for token in tokens if token.type in kinds)


def documents() -> list[tuple[str, str]]:
    """(name, text) of every document whose references are checked."""
    found = [(str(path.relative_to(ROOT)), path.read_text()) for path in MARKDOWN]
    for package in SOURCE_PACKAGES:
        for module in sorted((ROOT / package).rglob("*.py")):
            found.append((str(module.relative_to(ROOT)), source_text(module)))
    return found


def named_tests(name: str, text: str) -> list[Reference]:
    """Each test file, and each `file::test` pair, that one document names."""
    references: list[Reference] = []
    last_file: str | None = None
    for match in TEST_REFERENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        where = f"{name}:{line}"
        if match["bare"]:
            target = f"{last_file}::{match['bare']}" if last_file else f"?::{match['bare']}"
            references.append(Reference(where, target))
            continue
        path = match["path"]
        if not path.startswith("tests/"):
            # Only tests/ holds test_*.py files: a short path is one under it.
            path = f"tests/{path}"
        last_file = path
        target = f"{path}::{match['name']}" if match["name"] else path
        references.append(Reference(where, target))
    return references


def dotted_references(name: str, text: str) -> list[Reference]:
    """Each dotted path into our packages that one document names."""
    return [
        Reference(f"{name}:{text.count(chr(10), 0, m.start()) + 1}", m["path"])
        for m in DOTTED.finditer(text)
    ]


def why_test_missing(target: str) -> str | None:
    """Why a `path[::name]` target does not exist, or None when it does."""
    path, _, name = target.partition("::")
    if path.startswith("?"):
        return "a bare ::name with no file named before it"
    file = ROOT / path
    if not file.is_file():
        return "no such file"
    if name and not re.search(rf"^\s*(async\s+)?def {re.escape(name)}\(", file.read_text(), re.M):
        return f"{path} defines no {name}"
    return None


def dotted_is_missing(target: str) -> str | None:
    """Why a dotted path does not resolve, or None: its longest module prefix, then attributes."""
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        relative = Path(*parts[:cut])
        if (ROOT / relative.with_suffix(".py")).is_file() or (ROOT / relative).is_dir():
            module = importlib.import_module(".".join(parts[:cut]))
            value: object = module
            for attribute in parts[cut:]:
                if not hasattr(value, attribute):
                    return f"{'.'.join(parts[:cut])} has no {'.'.join(parts[cut:])}"
                value = getattr(value, attribute)
            return None
    return "no such module"


def source_references(name: str, text: str) -> list[Reference]:
    """Each path into our source tree that one document names, test files aside."""
    return [
        Reference(f"{name}:{text.count(chr(10), 0, m.start()) + 1}", m["path"])
        for m in SOURCE_PATH.finditer(text)
        if not re.search(r"(^|/)test_\w+\.py$", m["path"])
    ]


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def why_link_broken(document: Path, path: str, fragment: str | None) -> str | None:
    """Why a relative link of ``document`` leads nowhere, or None when it leads somewhere."""
    target = (document.parent / path).resolve() if path else document
    if not target.exists():
        return "no such file"
    if fragment and target.suffix == ".md":
        headings = re.findall(r"^#+ (.+)$", target.read_text(), re.M)
        if fragment not in {anchor(h) for h in headings}:
            return f"no heading #{fragment} in {target.relative_to(ROOT)}"
    return None


def all_test_references() -> list[Reference]:
    return [ref for name, text in documents() for ref in named_tests(name, text)]


def all_dotted_references() -> list[Reference]:
    return [
        ref
        for name, text in documents()
        if name.endswith(".md")
        for ref in dotted_references(name, text)
    ]


def test_the_documents_name_tests() -> None:
    """Guards the guard: a regex that stopped matching would pass everything."""
    references = all_test_references()
    assert len(references) > 100
    assert any(ref.where.startswith("docs/ledger.md") for ref in references)
    assert any(ref.where.startswith("ledger/") for ref in references)
    assert len(all_dotted_references()) >= 3


def test_every_named_test_file_and_test_exists() -> None:
    broken = [
        f"{ref.where}: {ref.target} — {why}"
        for ref in all_test_references()
        if (why := why_test_missing(ref.target))
    ]
    assert not broken, "\n".join(broken)


def test_every_dotted_module_path_in_the_docs_exists() -> None:
    broken = [
        f"{ref.where}: {ref.target} — {why}"
        for ref in all_dotted_references()
        if (why := dotted_is_missing(ref.target))
    ]
    assert not broken, "\n".join(broken)


def test_every_named_source_path_exists() -> None:
    references = [ref for name, text in documents() for ref in source_references(name, text)]
    assert len(references) > 20
    broken = [
        f"{ref.where}: {ref.target}" for ref in references if not (ROOT / ref.target).exists()
    ]
    assert not broken, "\n".join(broken)


def test_every_relative_link_of_the_docs_leads_somewhere() -> None:
    broken = []
    for document in MARKDOWN:
        text = document.read_text()
        for match in LINK.finditer(text):
            if why := why_link_broken(document, match["path"], match["anchor"]):
                line = text.count("\n", 0, match.start()) + 1
                broken.append(f"{document.relative_to(ROOT)}:{line}: {match[0]} — {why}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("`tests/ledger/test_jobs.py`", ["tests/ledger/test_jobs.py"]),
        (
            "— `ledger/test_x.py::test_a`, `::test_b`",
            ["tests/ledger/test_x.py::test_a", "tests/ledger/test_x.py::test_b"],
        ),
        ("see bench/compare.py and ledger/books/service.py", []),
        ("`tests/events/receiver.py`", ["tests/events/receiver.py"]),
    ],
)
def test_references_are_read_as_written(text: str, expected: list[str]) -> None:
    assert [ref.target for ref in named_tests("doc", text)] == expected
