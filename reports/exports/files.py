"""Writing an export to a file whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO


async def write_text(chunks: AsyncIterator[str], target: Path | None, stdout: TextIO) -> None:
    """Writes ``chunks`` to ``target``, or to ``stdout`` when None. A file is written beside
    its target under a temporary name, flushed to disk and renamed over the target only when
    complete, so a crash or an error never leaves half an export where the whole one belongs."""
    if target is None:
        async for chunk in chunks:
            stdout.write(chunk)
        stdout.flush()
        return
    handle, temporary, path = _temporary_beside(target)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            async for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _temporary_beside(target: Path) -> tuple[int, str, str]:
    """A new temporary file in ``target``'s directory (a rename stays on one file system):
    its descriptor, its path and the target's absolute path."""
    path = os.path.abspath(target)
    directory, name = os.path.split(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    return handle, temporary, path
