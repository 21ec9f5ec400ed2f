"""The fault tests' throw-away PostgreSQL clusters (``bench.clusters``, which the benches use
too), with the tests' rule: without the binaries a fault test skips with the reason, except under
``CI=true``, where it fails: there they must run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bench import clusters
from bench.clusters import Cluster, free_port, standby_of

__all__ = ["Cluster", "free_port", "require", "standby_of", "throwaway_cluster"]


def require(available: bool, reason: str) -> None:
    """Skip the test for ``reason`` unless ``available``; under ``CI=true``, fail instead."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the fault tests must run)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new, running cluster (``bench.clusters.throwaway_cluster``), or the test skips."""
    reason = clusters.missing()
    require(reason is None, reason or "")
    with clusters.throwaway_cluster() as cluster:
        yield cluster
