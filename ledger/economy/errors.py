"""Rule breaks of the cooperative economy, each with a stable ``code`` like the core's."""

from __future__ import annotations

from ledger.kernel import errors


class FundNotFound(errors.NotFound):
    """No restricted fund with that id in the community."""

    code = "fund_not_found"


class ScheduleNotFound(errors.NotFound):
    """No schedule with that id in the community."""

    code = "schedule_not_found"


class ScheduleEnded(errors.LedgerError):
    """An ended schedule never changes again."""

    code = "schedule_ended"


class ScheduleNotActive(errors.LedgerError):
    """Only an active schedule can be paused."""

    code = "schedule_not_active"


class ScheduleNotPaused(errors.LedgerError):
    """Only a paused schedule can be resumed."""

    code = "schedule_not_paused"


# A write under an idempotency key stores a rejection by code; its replay rebuilds the error
# from the core's table, so these codes join it.
errors.ERROR_TYPES.update(
    {
        cls.code: cls
        for cls in (
            FundNotFound,
            ScheduleNotFound,
            ScheduleEnded,
            ScheduleNotActive,
            ScheduleNotPaused,
        )
    }
)
