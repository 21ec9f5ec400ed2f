"""The ``commons-ledger`` command, one module per group of subcommands (``main`` assembles them).

Each group adds its parsers and names its handler with ``set_defaults(run=…)``: an async function
of the parsed arguments and the settings, answering the exit status. Every handler takes its
services from ``api.bootstrap.migrated``, the app's bootstrap on a migrated database."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from api.settings import Settings

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace, Settings], Awaitable[int]]
