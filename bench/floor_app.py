"""The framework floor: the least a Litestar service on asyncpg can cost per request, for
``bench.floor`` to set the product beside. Not part of the product.

Two routes on the baseline's raw-SQL schema (``bench/baseline/schema.sql``), shaped like the
product's so that the same wrk scripts drive both: a point read of one balance, and one transfer
as the pgbench baseline ``transfer_statements.sql`` writes it (an entry with its idempotency key,
two postings, both balances moved in id order, refusing an overdraft), one statement per round
trip in one transaction. No middleware, no authentication, no log line, no metrics: whatever the
product spends beyond this is what its layers cost.

    python -m uvicorn --factory bench.floor_app:create   (FLOOR_DATABASE_URL: a libpq DSN)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import msgspec
from litestar import Litestar, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotFoundException

POOL_SIZE = 15
"""The product's pool size (``ledger.store.engine``), so that both wait on as many connections."""


class TransferIn(msgspec.Struct):
    debit_account_id: str
    credit_account_id: str
    amount: int
    description: str


class TransferOut(msgspec.Struct):
    id: int
    amount: int


class BalanceOut(msgspec.Struct):
    account_id: int
    balance: int


@get("/floor/accounts/{account_id:int}/balance")
async def balance(state: State, account_id: int) -> BalanceOut:
    pool: asyncpg.Pool = state.pool
    row = await pool.fetchrow("SELECT balance FROM b_accounts WHERE id = $1", account_id)
    if row is None:
        raise NotFoundException("no such account")
    return BalanceOut(account_id, row["balance"])


@post("/floor/transfers")
async def transfer(state: State, request: Request[None, None, State]) -> TransferOut:
    body = msgspec.json.decode(await request.body(), type=TransferIn)
    debit, credit = int(body.debit_account_id), int(body.credit_account_id)
    key = uuid.uuid5(uuid.NAMESPACE_URL, request.headers.get("idempotency-key", ""))
    low, high = sorted((debit, credit))
    moved_low = body.amount if low == debit else -body.amount
    pool: asyncpg.Pool = state.pool
    async with pool.acquire() as connection, connection.transaction():
        entry = await connection.fetchval(
            "INSERT INTO b_entries (idempotency_key) VALUES ($1) RETURNING id", key
        )
        await connection.execute(
            "INSERT INTO b_postings VALUES ($1, $2, $3), ($1, $4, $5)",
            entry, debit, body.amount, credit, -body.amount,
        )  # fmt: skip
        for account, delta in ((low, moved_low), (high, -moved_low)):
            status = await connection.execute(
                "UPDATE b_accounts SET balance = balance + $2"
                " WHERE id = $1 AND balance + $2 >= balance_min",
                account, delta,
            )  # fmt: skip
            if status != "UPDATE 1":
                raise ClientException("limit exceeded", status_code=422)
    return TransferOut(entry, body.amount)


def create() -> Litestar:
    dsn = os.environ["FLOOR_DATABASE_URL"]

    @asynccontextmanager
    async def pool(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar([balance, transfer], lifespan=[pool], openapi_config=None)
