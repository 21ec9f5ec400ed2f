"""Several server processes on one port (``commons-ledger serve --workers N``).

uvicorn starts each worker as a fresh process that imports :data:`WORKER_APP` and builds its own
application from the environment, so everything a worker must share with the others travels in
the environment, set here before they start:

- the key that signs the member page's CSRF tokens (a form served by one worker is posted to
  another), unless ``COMMONS_LEDGER_WEB_SECRET`` already names one;
- a folder for the Prometheus counters (``PROMETHEUS_MULTIPROC_DIR``), so that ``/metrics``
  from any worker counts the requests of all of them (``api.metrics``).

What stays per process, by design: the credential cache (a revocation made through one worker
reaches the others within its 5 s bound, as for separate servers), the cache of communities (a
community is never renamed or deleted), the rate limit's and the sign-in throttle's counters
(each worker counts on its own: the limits hold per worker), and the job and webhook loops
(their runs and deliveries are claimed in the database, one worker at a time).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from litestar import Litestar

from api.app import create_app
from api.metrics import MULTIPROCESS_DIR_VARIABLE
from api.server import settled
from api.web.settings import WebSettings

WORKER_APP: Final = "api.workers:worker_app"
WEB_SECRET_VARIABLE: Final = "COMMONS_LEDGER_WEB_SECRET"  # noqa: S105 (a variable name)
HEALTHCHECK_S: Final = 60
"""How long uvicorn's parent waits for a worker to answer its health check before it kills the
worker and starts another. uvicorn's own 5 s is shorter than a worker's start on a loaded
2-core machine: a spawned worker first imports the whole service (10 s of wall time measured
here under other engineers' benchmarks), and uvicorn then killed every worker before it could
answer, over and over, so ``--workers 2`` never served a request."""


def worker_app() -> Litestar:
    """The application of one worker, from the environment the parent prepared."""
    return settled(create_app())


@contextmanager
def several_workers(web: WebSettings) -> Iterator[None]:
    """Prepares the environment the workers inherit; removes the metrics folder after."""
    names = (WEB_SECRET_VARIABLE, MULTIPROCESS_DIR_VARIABLE)
    saved = {name: os.environ.get(name) for name in names}
    folder = None
    if web.csrf_secret is None:
        os.environ[WEB_SECRET_VARIABLE] = secrets.token_urlsafe(32)
    if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        folder = tempfile.mkdtemp(prefix="commons-ledger-metrics-")
        os.environ[MULTIPROCESS_DIR_VARIABLE] = folder
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
