"""The files an installed (not editable) copy needs beside its modules are declared as package
data: every pattern in ``pyproject.toml`` still names files, so moving a folder cannot silently
leave an install without its Swagger UI, templates, translations or migrations."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DATA: dict[str, list[str]] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
    "setuptools"
]["package-data"]


@pytest.mark.parametrize(
    ("package", "pattern"),
    [(package, pattern) for package, patterns in PACKAGE_DATA.items() for pattern in patterns],
)
def test_every_package_data_pattern_names_files(package: str, pattern: str) -> None:
    matched = [path for path in (ROOT / package).glob(pattern) if path.is_file()]
    assert matched, f"{package}: {pattern!r} matches no file (was a folder moved?)"


def test_the_swagger_ui_assets_are_package_data() -> None:
    served = ROOT / "api" / "http" / "common" / "static" / "swagger-ui"
    assert any(served.iterdir())
    declared = [
        path
        for pattern in PACKAGE_DATA["api"]
        for path in (ROOT / "api").glob(pattern)
        if path.is_file()
    ]
    assert {p for p in served.iterdir() if p.is_file()} <= set(declared)
