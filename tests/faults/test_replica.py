"""Reports and exports read from a streaming replica, never staler than the request: a real hot
standby (``pg_basebackup -R`` of a throw-away cluster) beside its primary.

- A read right after a write runs on the standby and sees the write (``ledger.store.replica``).
- With the standby's replay paused, the read waits a moment, then runs on the primary: it is
  never served stale. Writes always run on the primary.
- With the standby stopped, reads run on the primary and the standby is set aside for a while.
- With the standby promoted (a failover), it is set aside: reads run on the primary.
- Through the API: a transfer, then at once the journal export, with the replica configured;
  ``/metrics`` counts where the reads ran. The same for an account's statement, right after a
  transfer, also with the standby's replay paused (the statement then comes from the primary:
  without the wait it would miss the transfer).
- The community's figures on the member pages come from the standby and count a write made
  just before; the member's own figures stay on the primary.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.settings import Settings
from bench.replica_reads import help_entry
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.store.replica import ReplicaUnitOfWorkFactory, ServedBy
from ledger.store.scoped import connection_of
from ledger.timebank.member_overview import CommunityMonth, MemberOverview
from tests.api.conftest import ADMIN_TOKEN, Tenant, make_tenant
from tests.faults.cluster import Cluster, standby_of, throwaway_cluster


@pytest.fixture
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    with throwaway_cluster() as primary, standby_of(primary) as standby:
        yield primary, standby


@pytest.fixture
async def engines(
    clusters: tuple[Cluster, Cluster],
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    primary, standby = (create_engine(cluster.url) for cluster in clusters)
    await upgrade(primary)
    yield primary, standby
    await primary.dispose()
    await standby.dispose()


async def _in_recovery(reads: ReplicaUnitOfWorkFactory, *, write: bool = False) -> bool:
    async with reads(write=write) as unit:
        return bool(
            (await connection_of(unit).execute(text("SELECT pg_is_in_recovery()"))).scalar()
        )


async def _entries(reads: ReplicaUnitOfWorkFactory) -> int:
    async with reads(write=False) as unit:
        found = await connection_of(unit).execute(text("SELECT count(*) FROM entries"))
        return int(found.scalar_one())


async def test_a_read_after_a_write_runs_on_the_standby_and_sees_it(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    primary, standby = engines
    served: list[ServedBy] = []
    reads = ReplicaUnitOfWorkFactory(primary, standby, wait_s=5.0, observe=served.append)
    ledger = Ledger(SqlUnitOfWorkFactory(primary))
    community = await ledger.create_community("replica", "Replica")
    a, b = [
        await ledger.open_account(
            community.id, NewAccount(f"Liabilities:{n}", n, AccountType.LIABILITY, "HOURS")
        )
        for n in ("A", "B")
    ]
    for written in range(1, 21):
        await ledger.post_entry(
            community.id,
            NewEntry(postings=(PostingSpec(a.id, 5), PostingSpec(b.id, -5)), description="x"),
        )
        # At once, with no pause: the standby's snapshot must already hold the entry.
        assert await _entries(reads) == written
    assert set(served) == {ServedBy.REPLICA}
    assert await _in_recovery(reads) is True
    assert await _in_recovery(reads, write=True) is False

    # Replay paused: the standby cannot catch up, so the read runs on the primary, fresh.
    async with standby.connect() as connection:
        await connection.execute(text("SELECT pg_wal_replay_pause()"))
    reads = ReplicaUnitOfWorkFactory(primary, standby, wait_s=0.3, observe=served.append)
    served.clear()
    await ledger.post_entry(
        community.id,
        NewEntry(postings=(PostingSpec(a.id, 5), PostingSpec(b.id, -5)), description="y"),
    )
    assert await _entries(reads) == 21
    assert served == [ServedBy.PRIMARY]
    async with standby.connect() as connection:
        await connection.execute(text("SELECT pg_wal_replay_resume()"))
    served.clear()
    assert await _entries(reads) == 21
    assert served == [ServedBy.REPLICA]


async def test_a_standby_that_is_down_is_set_aside_and_reads_run_on_the_primary(
    clusters: tuple[Cluster, Cluster], engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    primary, standby = engines
    served: list[ServedBy] = []
    now = [0.0]
    reads = ReplicaUnitOfWorkFactory(
        primary, standby, retry_after_s=30, observe=served.append, clock=lambda: now[0]
    )
    assert await _in_recovery(reads) is True
    clusters[1].stop_immediately()
    await standby.dispose()  # the pool's connections died with it
    assert await _in_recovery(reads) is False
    assert await _in_recovery(reads) is False
    assert served == [ServedBy.REPLICA, ServedBy.PRIMARY, ServedBy.PRIMARY]
    now[0] += 31  # past the interval the standby is tried again (and still fails)
    assert await _entries(reads) == 0
    assert served[-1] == ServedBy.PRIMARY


async def test_the_api_reads_its_exports_from_the_replica_and_sees_its_own_write(
    clusters: tuple[Cluster, Cluster], engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    primary, standby = clusters
    settings = Settings(database_url=primary.url, replica_url=standby.url, admin_token=ADMIN_TOKEN)
    async with AsyncTestClient(create_app(settings)) as client:
        tenant = await make_tenant(client)
        for minutes in (30, 45, 60):
            description = f"help {uuid.uuid4().hex[:6]}"
            recorded = await client.post(
                f"{tenant.base}/exchanges",
                json={
                    "provider_member_id": tenant.ann["id"],
                    "receiver_member_id": tenant.bob["id"],
                    "minutes": minutes,
                    "description": description,
                },
                headers={**tenant.ann_token, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert recorded.status_code == 201, recorded.text
            confirmed = await client.post(
                f"{tenant.base}/exchanges/{recorded.json()['id']}/confirm",
                headers={**tenant.bob_token, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert confirmed.status_code == 200, confirmed.text
            export = await client.get(
                f"{tenant.base}/exports/journal.csv", headers=tenant.treasurer
            )
            assert export.status_code == 200, export.text
            assert description in export.text
        metrics = (await client.get("/metrics")).text
    assert 'commons_ledger_replica_reads_total{served_by="replica"}' in metrics


async def _replay(standby: AsyncEngine, *, paused: bool) -> None:
    async with standby.connect() as connection:
        await connection.execute(
            text("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
        )


async def _statement(client: AsyncTestClient[Litestar], tenant: Tenant) -> list[str]:
    account = tenant.ann["hours_account_id"]
    page = await client.get(f"{tenant.base}/accounts/{account}/postings", headers=tenant.treasurer)
    assert page.status_code == 200, page.text
    return [line["description"] for line in page.json()["items"]]


def _served(metrics: str, by: ServedBy) -> float:
    name = f'commons_ledger_replica_reads_total{{served_by="{by}"}}'
    found = [line.split()[-1] for line in metrics.splitlines() if line.startswith(name)]
    return float(found[0]) if found else 0.0


async def test_a_statement_right_after_a_transfer_shows_it(
    clusters: tuple[Cluster, Cluster], engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    primary, standby = clusters
    settings = Settings(database_url=primary.url, replica_url=standby.url, admin_token=ADMIN_TOKEN)
    async with AsyncTestClient(create_app(settings)) as client:
        tenant = await make_tenant(client)

        async def transfer() -> str:
            description = f"garden {uuid.uuid4().hex[:6]}"
            body = {
                "debit_account_id": tenant.bob["hours_account_id"],
                "credit_account_id": tenant.ann["hours_account_id"],
                "amount": 30,
                "description": description,
            }
            done = await client.post(
                f"{tenant.base}/transfers", json=body, headers=tenant.treasurer
            )
            assert done.status_code == 201, done.text
            return description

        for _ in range(5):
            written = await transfer()
            assert (await _statement(client, tenant))[-1] == written  # at once, no pause
        before = (await client.get("/metrics")).text
        assert _served(before, ServedBy.REPLICA) >= 5

        # Replay paused: the standby cannot catch up within the wait, the statement comes from
        # the primary and shows the transfer (without the wait, it would not).
        await _replay(engines[1], paused=True)
        written = await transfer()
        assert (await _statement(client, tenant))[-1] == written
        after = (await client.get("/metrics")).text
        await _replay(engines[1], paused=False)
    assert _served(after, ServedBy.PRIMARY) == _served(before, ServedBy.PRIMARY) + 1


async def test_the_community_figures_come_from_the_standby_and_count_the_last_write(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    primary, standby = engines
    served: list[ServedBy] = []
    replica = ReplicaUnitOfWorkFactory(primary, standby, wait_s=0.3, observe=served.append)
    ledger = Ledger(SqlUnitOfWorkFactory(primary), replica_reads=replica)
    overview = MemberOverview(ledger)
    community = await ledger.create_community("figures", "Figures")
    ann, bob = [await ledger.create_member(community.id, n, hours_min=-6000) for n in ("A", "B")]
    for written in range(1, 6):
        await ledger.post_entry(community.id, help_entry(ann, bob, 10))
        figures = await overview.community_month(community.id, date.today())
        assert figures == CommunityMonth(10 * written, 2)
    assert served == [ServedBy.REPLICA] * 5

    # The member's own month, recent exchanges and balance stay on the primary.
    served.clear()
    await overview.member_month(community.id, ann.id, date.today())
    await overview.recent(community.id, ann.id, 5)
    await ledger.statement(community.id, ann.hours_account_id)
    assert served == [ServedBy.REPLICA]  # the statement's, alone

    await _replay(standby, paused=True)
    served.clear()
    await ledger.post_entry(community.id, help_entry(bob, ann, 15))
    assert await overview.community_month(community.id, date.today()) == CommunityMonth(65, 2)
    assert served == [ServedBy.PRIMARY]
    await _replay(standby, paused=False)


async def test_a_promoted_standby_is_set_aside_and_reads_run_on_the_primary(
    clusters: tuple[Cluster, Cluster], engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    primary, standby = engines
    served: list[ServedBy] = []
    now = [0.0]
    reads = ReplicaUnitOfWorkFactory(
        primary, standby, wait_s=5.0, observe=served.append, clock=lambda: now[0]
    )
    ledger = Ledger(SqlUnitOfWorkFactory(primary), replica_reads=reads)
    community = await ledger.create_community("promoted", "Promoted")
    ann = await ledger.create_member(community.id, "Ann", hours_min=-6000)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-6000)
    await ledger.post_entry(community.id, help_entry(ann, bob, 10))
    assert len((await ledger.statement(community.id, ann.hours_account_id)).lines) == 1
    assert served == [ServedBy.REPLICA]

    clusters[1].promote()  # a failover: the standby is a primary of its own now
    await ledger.post_entry(community.id, help_entry(bob, ann, 20))
    assert len((await ledger.statement(community.id, ann.hours_account_id)).lines) == 2
    assert served[-1] == ServedBy.PRIMARY
    assert reads.set_aside()
    assert await _in_recovery(reads) is False
    assert served[-1] == ServedBy.PRIMARY
