"""Hostile journal files are refused with a problem per line, never a traceback, under the same
text and metadata rules as the API (issue 18, L4 and L2)."""

from __future__ import annotations

import json

import pytest

from ledger.imports.journal_format import parse
from tests.ledger.test_journal_import import HEADER, World, _refused, world  # noqa: F401


def _jsonl(**entry: object) -> str:
    base: dict[str, object] = {
        "date": "2024-01-05",
        "description": "Garden",
        "postings": [{"account_code": "ann", "amount": 60}, {"account_code": "bob", "amount": -60}],
    }
    return json.dumps(base | entry) + "\n"


def _csv(description: str = "Garden", metadata: str = "", day: str = "2024-01-05") -> str:
    return HEADER + f'1,{day},"{description}",exchange,ann,60,"{metadata}"\n1,,,,bob,-60,\n'


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("h.csv", _csv(description="a\x00b"), "NUL"),
        ("h.csv", _csv(description="x" * 140_000), "long"),
        ("h.csv", _csv(metadata='{""a"": {""b"": 1}}'), "metadata"),
        ("h.csv", _csv(metadata='{""a"": ' + "[" * 5000 + "]" * 5000 + "}"), "deep"),
        ("h.csv", _csv(day="9999-12-31"), "effective_date"),
        ("h.jsonl", _jsonl(description="a\x00b"), "NUL"),
        ("h.jsonl", _jsonl(metadata={"a": [1]}), "metadata"),
        ("h.jsonl", _jsonl(metadata={"k" * 65: 1}), "metadata"),
        ("h.jsonl", _jsonl(metadata={"a": "x" * 1001}), "metadata"),
        ("h.jsonl", _jsonl(metadata={"a": 2**60}), "metadata"),
        ("h.jsonl", _jsonl(kind="k\x00"), "NUL"),
        ("h.jsonl", _jsonl(date="0001-01-01"), "effective_date"),
        ("h.jsonl", '{"date": "2024-01-05", "metadata": {"a": ' + "[" * 100_000 + "}}\n", "deep"),
    ],
)
async def test_hostile_files_are_refused_with_a_reason(
    world: World,  # noqa: F811
    name: str,
    text: str,
    reason: str,
) -> None:
    problems = await _refused(world, text, name)
    assert problems and any(reason in problem for problem in problems), problems


def test_a_huge_csv_cell_is_a_problem_of_its_line_not_a_crash() -> None:
    parsed = parse("h.csv", _csv(description="x" * 200_000).encode())
    assert parsed.entries == []
    assert [problem.line for problem in parsed.problems] == [2]
