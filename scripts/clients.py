"""The integrator's first hour, automated (issue 19): clients generated from the live OpenAPI
document, as another community tool's developer would generate them, must type-check and work.

1. Installs the tools once into ``clients/.venv`` (``clients/requirements.txt``:
   openapi-python-client, openapi-spec-validator, mypy) and ``clients/node_modules``
   (``clients/package-lock.json``: openapi-typescript, openapi-fetch, typescript, Redocly CLI),
   again only when those files change.
2. Starts ``commons-ledger demo`` on a fresh SQLite database and reads the tokens it prints.
3. Fetches ``/schema/openapi.json`` and lints it: ``redocly lint`` with the recommended rules
   (no error, no warning) and ``openapi-spec-validator``.
4. Generates the Python client (``clients/python/generated``), checks ``clients/python/tour.py``
   — the README's tour — with ``mypy --strict``, and runs it against the demo.
5. Generates the TypeScript types (``clients/typescript/generated``) and checks
   ``clients/typescript/tour.ts`` with ``tsc --strict``.

Run by ``scripts/check``; alone: ``python scripts/clients.py`` (with the project installed).
Exits non-zero on the first step that fails, printing its output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "clients"
VENV = CLIENTS / ".venv"
NODE_BIN = CLIENTS / "node_modules" / ".bin"
PYTHON_OUT = CLIENTS / "python" / "generated"
TYPESCRIPT_OUT = CLIENTS / "typescript" / "generated"
START_TIMEOUT_S = 60
TOKENS = {
    "TREASURER": re.compile(r"^Treasurer key[^:]*: (\S+)$"),
    "ANN": re.compile(r"^Member token of Ann Weaver\b.*: (cl_\S+)$"),
    "BOB": re.compile(r"^Member token of Bob Gardener\b.*: (cl_\S+)$"),
}


def step(title: str, command: list[str], **options: Any) -> str:
    """Runs ``command``; stops the script with its output if it fails; returns its stdout."""
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False, **options)
    took = time.monotonic() - started
    if done.returncode != 0:
        print(f"FAILED {title} ({took:.1f} s): {' '.join(command)}\n{done.stdout}{done.stderr}")
        sys.exit(1)
    print(f"ok     {title} ({took:.1f} s)")
    output: str = done.stdout
    return output


def lint(document: Path) -> None:
    """Redocly's recommended rules: no error (its exit code) and no warning either."""
    redocly = [str(NODE_BIN / "redocly"), "lint", str(document), "--extends", "recommended"]
    report = json.loads(step("redocly lint (recommended)", [*redocly, "--format", "json"]))
    if report["totals"]["errors"] or report["totals"]["warnings"]:
        problems = [f"{p['severity']} {p['ruleId']}: {p['message']}" for p in report["problems"]]
        sys.exit("FAILED redocly lint:\n" + "\n".join(problems[:50]))


def _stamp_differs(source: Path, stamp: Path) -> bool:
    return not stamp.exists() or stamp.read_bytes() != source.read_bytes()


def install() -> None:
    """The tools, installed when missing or when their pinned lists changed."""
    requirements, stamp = CLIENTS / "requirements.txt", VENV / "requirements.txt"
    if _stamp_differs(requirements, stamp):
        step("python venv", [sys.executable, "-m", "venv", "--clear", str(VENV)])
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        step("pip install -r clients/requirements.txt", [*pip, "-r", str(requirements)])
        shutil.copyfile(requirements, stamp)
    lock, node_stamp = CLIENTS / "package-lock.json", CLIENTS / "node_modules" / ".installed-lock"
    if _stamp_differs(lock, node_stamp):
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed (Node.js 20 or newer)"
        step("npm ci", [npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENTS)
        shutil.copyfile(lock, node_stamp)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def demo(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``commons-ledger demo`` on a fresh database: its URL and the tokens it printed."""
    port = _free_port()
    env = {
        **os.environ,
        "COMMONS_LEDGER_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'demo.db'}",
        "PYTHONPATH": str(ROOT),
    }
    out = folder / "demo.log"
    command = [sys.executable, "-m", "api.cli.main", "demo", "--host", "127.0.0.1"]
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit(f"FAILED the demo did not start:\n{out.read_text()[-3000:]}")
        lines = out.read_text().splitlines()
        tokens = {
            name: found[1]
            for name, pattern in TOKENS.items()
            for line in lines
            if (found := pattern.match(line.strip()))
        }
        assert set(tokens) == set(TOKENS), f"the demo printed no tokens:\n{lines}"
        yield url, tokens
    finally:
        process.terminate()
        process.wait(timeout=10)


def check(url: str, tokens: dict[str, str], folder: Path) -> None:
    document = folder / "openapi.json"
    with urllib.request.urlopen(f"{url}/schema/openapi.json", timeout=10) as answer:
        document.write_bytes(answer.read())
    bin_ = VENV / "bin"
    tools_env = {**os.environ, "PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}"}
    lint(document)
    step("openapi-spec-validator", [str(bin_ / "openapi-spec-validator"), str(document)])

    shutil.rmtree(PYTHON_OUT, ignore_errors=True)
    PYTHON_OUT.mkdir(parents=True)
    generate = [str(bin_ / "openapi-python-client"), "generate", "--path", str(document)]
    config = ["--config", str(CLIENTS / "python" / "openapi-python-client.yaml")]
    package = ["--output-path", str(PYTHON_OUT / "commons_ledger_client"), "--meta", "none"]
    step("openapi-python-client generate", [*generate, *config, *package], env=tools_env)
    python_env = {**tools_env, "MYPYPATH": str(PYTHON_OUT), "PYTHONPATH": str(PYTHON_OUT)}
    tour = str(CLIENTS / "python" / "tour.py")
    mypy = [str(bin_ / "mypy"), "--config-file", str(CLIENTS / "python" / "mypy.ini")]
    step("mypy --strict clients/python/tour.py", [*mypy, tour], env=python_env)
    tour_env = {**python_env, **tokens, "LEDGER_URL": url}
    step("the README tour through the Python client", [str(bin_ / "python"), tour], env=tour_env)

    shutil.rmtree(TYPESCRIPT_OUT, ignore_errors=True)
    types = [str(NODE_BIN / "openapi-typescript"), str(document), "--default-non-nullable=false"]
    schema = TYPESCRIPT_OUT / "schema.d.ts"
    step("openapi-typescript", [*types, "-o", str(schema)])
    tsconfig = str(CLIENTS / "typescript" / "tsconfig.json")
    step("tsc --strict clients/typescript/tour.ts", [str(NODE_BIN / "tsc"), "-p", tsconfig])


def main() -> None:
    started = time.monotonic()
    install()
    with tempfile.TemporaryDirectory() as folder, demo(Path(folder)) as (url, tokens):
        check(url, tokens, Path(folder))
    print(f"generated clients: all checks passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
