"""Treasurer exports: the journal as Beancount, hledger and CSV, streamed.

An API key with the ``read`` scope (or more) may export; a member token may not (403), since the
journal holds every member's entries.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from litestar.response import Stream

from api.http.common.auth import requires
from api.http.common.openapi import COMMUNITY, problems
from ledger.access.principals import Scope
from ledger.kernel.model import Community
from reports.exports.journal import ExportFormat, JournalExports, range_problem
from reports.queries.journal import DateRange

From = Annotated[
    date | None,
    QueryParameter(
        name="from", description="first effective day (YYYY-MM-DD) to include; default: the first"
    ),
]
To = Annotated[
    date | None,
    QueryParameter(
        name="to",
        description="last effective day (YYYY-MM-DD) to include, and the day whose closing "
        "balances are asserted; default: the last entry's",
    ),
]

_EXAMPLES = {
    ExportFormat.BEANCOUNT: (
        '2025-03-01 * "Fixed the garden fence"\n'
        '  entry-id: "0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f"\n'
        '  kind: "exchange"\n'
        "  Liabilities:Members:Bob-Gardener-9d0e1f2a  90 HOURS.MIN\n"
        "  Liabilities:Members:Ann-Weaver-6a7b8c9d  -90 HOURS.MIN\n"
    ),
    ExportFormat.HLEDGER: (
        "2025-03-01 * (0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f) Egg stall  ; kind:transfer\n"
        "    Assets:Bank  12.50 EUR\n"
        "    Income:Farm  -12.50 EUR\n"
    ),
    ExportFormat.CSV: (
        "entry_id,date,status,kind,description,line,account_id,account_code,account_name,"
        "commodity,amount,amount_decimal,reverses,metadata\r\n"
        "0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f,2025-03-01,posted,transfer,Egg stall,0,"
        "0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e20,Assets:Bank,Bank,EUR,1250,12.50,,{}\r\n"
    ),
}
_DESCRIPTIONS = {
    ExportFormat.BEANCOUNT: "The journal as a Beancount v3 file (HOURS as whole minutes, "
    "`HOURS.MIN`), ending in `balance` assertions dated the day after `to`",
    ExportFormat.HLEDGER: "The journal as an hledger journal (HOURS as whole minutes, "
    '`"HOURS.MIN"`), ending in balance assertions (`=`) dated `to`',
    ExportFormat.CSV: "One row per posting; `amount` is the exact integer in the smallest unit",
}


def _responses(export_format: ExportFormat) -> dict[int, ResponseSpec]:
    success = ResponseSpec(
        str,
        description=_DESCRIPTIONS[export_format],
        generate_examples=False,
        media_type=export_format.media_type,
        examples=[Example(summary="an entry", value=_EXAMPLES[export_format])],
    )
    return {200: success, **problems(*COMMUNITY, 403)}


async def _stream(
    exports: JournalExports,
    community: Community,
    export_format: ExportFormat,
    dates: DateRange,
) -> Stream:
    if problem := range_problem(dates):
        raise ClientException(problem)
    chunks = await exports.spooled(community.id, export_format, dates)
    filename = f"{community.slug}-journal.{export_format.suffix}"
    return Stream(
        chunks,
        media_type=export_format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_COMMON: dict[str, Any] = {"guards": [requires(Scope.READ)], "tags": ["exports"]}


@get(
    "/exports/journal.beancount",
    summary="The journal (or a date range) as Beancount, streamed",
    responses=_responses(ExportFormat.BEANCOUNT),
    media_type=ExportFormat.BEANCOUNT.media_type,
    **_COMMON,
)
async def beancount_journal(
    community: NamedDependency[Community],
    exports: NamedDependency[JournalExports],
    start: From = None,
    end: To = None,
) -> Stream:
    return await _stream(exports, community, ExportFormat.BEANCOUNT, DateRange(start, end))


@get(
    "/exports/journal.hledger",
    summary="The journal (or a date range) as an hledger journal, streamed",
    responses=_responses(ExportFormat.HLEDGER),
    media_type=ExportFormat.HLEDGER.media_type,
    **_COMMON,
)
async def hledger_journal(
    community: NamedDependency[Community],
    exports: NamedDependency[JournalExports],
    start: From = None,
    end: To = None,
) -> Stream:
    return await _stream(exports, community, ExportFormat.HLEDGER, DateRange(start, end))


@get(
    "/exports/journal.csv",
    summary="The journal's postings (or a date range's) as CSV, streamed",
    responses=_responses(ExportFormat.CSV),
    media_type=ExportFormat.CSV.media_type,
    **_COMMON,
)
async def csv_journal(
    community: NamedDependency[Community],
    exports: NamedDependency[JournalExports],
    start: From = None,
    end: To = None,
) -> Stream:
    return await _stream(exports, community, ExportFormat.CSV, DateRange(start, end))


COMMUNITY_HANDLERS = [beancount_journal, hledger_journal, csv_journal]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
