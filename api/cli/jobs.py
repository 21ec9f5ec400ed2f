"""``commons-ledger run-jobs``: runs the periodic jobs that are due, once (for cron or a systemd
timer, or to catch up after downtime), and says what each run did."""

from __future__ import annotations

import argparse

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings
from ledger.jobs.runner import JobRunner, RunStatus


def add_parsers(commands: Subcommands) -> None:
    command = commands.add_parser(
        "run-jobs",
        help="run the periodic jobs that are due (snapshots, recurring entries …) once",
    )
    command.add_argument("--job", help="only this job")
    command.add_argument("--community", metavar="SLUG", help="only this community")
    command.set_defaults(run=_run_jobs)


async def _run_jobs(arguments: argparse.Namespace, settings: Settings) -> int:
    """Exit status 1 when a run failed (it is retried later), 2 for an unknown job."""
    async with migrated(settings) as services:
        return await _run(arguments, services.jobs)


async def _run(arguments: argparse.Namespace, runner: JobRunner) -> int:
    if arguments.job is not None and arguments.job not in runner.job_names:
        say(f"There is no job {arguments.job!r}; the jobs are: {', '.join(runner.job_names)}.")
        return 2
    outcomes = await runner.run_due(job=arguments.job, community=arguments.community)
    for outcome in outcomes:
        where = f"{outcome.community} {outcome.job} {outcome.period}"
        say(f"{where}: {outcome.status} — {outcome.detail}")
    failed = sum(outcome.status is RunStatus.FAILED for outcome in outcomes)
    say(f"{len(outcomes)} runs, {failed} failed." if outcomes else "Nothing was due.")
    return 1 if failed else 0
