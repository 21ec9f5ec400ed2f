"""What federation needs from persistence, and its transactions.

Federation's own rows (links, their terms versions and consents, transfers, journals) live in a
``FederationStore`` on the unit of work's transaction; money moves as ordinary entries through
the books' repository (``ledger.books.writes``); adoption of terms reads the governance store
(stewards, the consent rule), so one transaction (:class:`FedTx`) carries all three.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from ledger.books.envelope import Done, WriteEnvelope
from ledger.books.ports import Repository, UnitOfWork, UnitOfWorkFactory
from ledger.federation.exchange_model import CrossExchange, CrossStatus
from ledger.federation.journal import Exchanged, Held, Movement
from ledger.federation.model import Link, LinkStatus, TermsVersion, Transfer
from ledger.governance.ports import GovernanceStore
from ledger.governance.ports import StoreOf as GovernanceStoreOf
from ledger.kernel.clock import Clock
from ledger.kernel.model import IdempotencyKey
from ledger.kernel.observer import LedgerEvents

T = TypeVar("T")


class FederationStore(Protocol):
    """Reads and writes of federation's rows, every one scoped by ``community_id``."""

    async def insert_link(self, link: Link) -> None:
        """Stores the link with its versions (``link_exists`` if this community already has an
        open link with the same partner)."""
        ...

    async def get_link(
        self, community_id: uuid.UUID, link_id: uuid.UUID, *, lock: bool = False
    ) -> Link | None:
        """The link with every version and this side's consents; ``lock`` locks its row for
        the unit of work (every transfer over the link and every change of it takes it)."""
        ...

    async def list_links(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Link]: ...

    async def lock_link(self, community_id: uuid.UUID, link_id: uuid.UUID) -> bool:
        """Locks the link's row for the unit of work, reading nothing else; False when this
        community has no row of it."""
        ...

    async def set_link_status(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        status: LinkStatus,
        *,
        suspended_here: bool,
        at: datetime,
    ) -> None: ...

    async def insert_version(
        self, community_id: uuid.UUID, link_id: uuid.UUID, version: TermsVersion
    ) -> None: ...

    async def add_consent(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        version: int,
        member_id: uuid.UUID,
        at: datetime,
    ) -> None: ...

    async def mark_adopted(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        version: int,
        *,
        here: bool,
        at: datetime,
    ) -> None:
        """Records the version adopted by this community (``here``) or by the partner."""
        ...

    async def insert_transfer(self, transfer: Transfer) -> None: ...
    async def get_transfer(
        self, community_id: uuid.UUID, transfer_id: uuid.UUID, *, lock: bool = False
    ) -> Transfer | None: ...
    async def update_transfer(self, transfer: Transfer) -> None:
        """Stores state, entry, reason, detail and updated_at."""
        ...

    async def list_transfers(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
        member_id: uuid.UUID | None = None,
        link_id: uuid.UUID | None = None,
    ) -> Sequence[Transfer]:
        """By id; of one member (their side) or one link when given."""
        ...

    async def journal_head(
        self, community_id: uuid.UUID, link_id: uuid.UUID
    ) -> tuple[int, str] | None:
        """The last movement's seq and hash (the caller holds the link's lock)."""
        ...

    async def append_movement(
        self, community_id: uuid.UUID, movement: Movement, recorded_at: datetime
    ) -> None: ...

    async def movements(
        self, community_id: uuid.UUID, link_id: uuid.UUID, *, after_seq: int, limit: int
    ) -> Sequence[Movement]: ...

    async def journal_seq(
        self, community_id: uuid.UUID, link_id: uuid.UUID, transfer_id: uuid.UUID
    ) -> int | None:
        """The seq of the transfer's movement in this side's journal (None: not in it)."""
        ...

    # The journal's order between installs (``ledger.federation.sequencing``) and checkpoints.
    async def hold(self, community_id: uuid.UUID, held: Held, at: datetime) -> None: ...
    async def held(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        *,
        transfer_id: uuid.UUID | None = None,
        seq: int | None = None,
    ) -> Held | None:
        """The held movement of the transfer, or the one held at ``seq``."""
        ...

    async def held_movements(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Sequence[Held]:
        """Every movement of the link waiting for its place, by seq (those without one last)."""
        ...

    async def give_seq(
        self, community_id: uuid.UUID, link_id: uuid.UUID, transfer_id: uuid.UUID, seq: int
    ) -> None: ...
    async def release(
        self, community_id: uuid.UUID, link_id: uuid.UUID, transfer_id: uuid.UUID
    ) -> None:
        """Removes the held movement (it entered the journal)."""
        ...

    async def keep_checkpoint(self, community_id: uuid.UUID, exchanged: Exchanged) -> None:
        """Stores the checkpoint exchanged at its seq (a later exchange at that seq replaces it)."""
        ...

    async def checkpoints(
        self, community_id: uuid.UUID, link_id: uuid.UUID, *, upto: int, agreed: bool = False
    ) -> Sequence[Exchanged]:
        """The kept checkpoints of the link at seq ``upto`` or before, latest first (only those
        that agreed when ``agreed``), at most ten."""
        ...

    # Cross exchanges (``ledger.federation.exchanges``): one row per side, and the directory.
    async def insert_exchange(self, exchange: CrossExchange) -> None: ...
    async def get_exchange(
        self, community_id: uuid.UUID, exchange_id: uuid.UUID, *, lock: bool = False
    ) -> CrossExchange | None: ...
    async def complete_exchange(self, exchange: CrossExchange) -> None:
        """Stores status, completed_at, partner_name and reason."""
        ...

    async def list_exchanges(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        status: CrossStatus | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[CrossExchange]:
        """By id; of one member of this side when given."""
        ...

    async def set_listed(
        self, community_id: uuid.UUID, member_id: uuid.UUID, listed: bool, at: datetime
    ) -> None: ...
    async def is_listed(self, community_id: uuid.UUID, member_id: uuid.UUID) -> bool: ...
    async def listed_members(self, community_id: uuid.UUID) -> Sequence[tuple[uuid.UUID, str]]:
        """(id, name) of the community's members who chose to be listed, by name."""
        ...


StoreOf = Callable[[UnitOfWork], FederationStore]


@dataclass(frozen=True, slots=True)
class FedTx:
    """One transaction's views: the books, federation's rows and governance's."""

    repo: Repository
    store: FederationStore
    governance: GovernanceStore
    unit: UnitOfWork | None = None
    """The unit of work itself, for a change that also writes to the peer outbox (a link
    between installs tells the partner node in the change's transaction)."""


Work = Callable[[FedTx], Awaitable[Done[T]]]
"""A write's work in one transaction: what it did (``ledger.books.envelope.Done``)."""


class FederationTransactions:
    """Opens federation's transactions over the ledger's units of work; writes run in the one
    write envelope (``ledger.books.envelope``): key, effect, audit, one commit, events."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        store_of: StoreOf,
        governance_of: GovernanceStoreOf,
        clock: Clock,
        events: LedgerEvents | None = None,
    ) -> None:
        self._units = units
        self._store_of = store_of
        self._governance_of = governance_of
        self.clock = clock
        self._envelope = WriteEnvelope(units, clock, events)

    def tx(self, uow: UnitOfWork) -> FedTx:
        return FedTx(uow.repo, self._store_of(uow), self._governance_of(uow), uow)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FedTx]:
        async with self._units(write=False) as uow:
            yield self.tx(uow)

    @asynccontextmanager
    async def step(self) -> AsyncIterator[FedTx]:
        """One write transaction for protocol steps run on their own (between installs, one
        step per message), committed when the block ends without an error. The caller audits
        what it did (``ledger.audit.chain.event`` and ``repo.append_audit``)."""
        async with self._units(write=True) as uow:
            yield self.tx(uow)
            await uow.commit()

    async def write(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        *,
        work: Work[T],
        result_type: type[T],
    ) -> T:
        async def in_unit(uow: UnitOfWork) -> Done[T]:
            return await work(self.tx(uow))

        return await self._envelope.decide(
            community_id, operation, request, key, work=in_unit, result_type=result_type
        )
