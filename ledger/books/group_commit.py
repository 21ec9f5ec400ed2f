"""Group commit of single entry writes: the writes that arrive while their lane's previous
transaction is still running are written together, in one transaction, as a batch.

A community's writes cannot overlap anyway — each takes its audit chain's head lock until it
commits — so a write that arrives during another only waits. Waiting in a queue instead of on
a row lock lets the next transaction take every write queued by then: the claims, the account
locks, the inserts, the counters and the commit are paid once per group instead of once per
write, and an account that many writes touch (a community fund) is locked and updated once.
A write arriving when its lane is idle goes alone, at once: nothing waits for company.

Communities share a few lanes (``lanes``, each community always the same one), so that the
writes of many communities each writing now and then also share transactions: alone, each
paid a whole transaction of a dozen statements. ``EntryBatches.post_across`` writes several
communities' writes with the statements of one (every key claimed at once, every account
locked at once, and so on), deadlock-free. A community is in one lane, so its writes keep their
arrival order; two lanes keep two transactions running (one is being written while the other
commits), and a community waiting on a lock holds up only its lane.

Every write's outcome is what ``Ledger.post_entry`` alone would have answered at its place in
the arrival order (``EntryBatches.post_each`` checks each against what the ones before it
left), and it commits before its caller is answered. When a group fails as a whole, nothing of
it was written. A transient failure of the database (a lock or statement past its bound, the
database unavailable — ``transient``) is every write's answer, as it would be for single writes
waiting on the same lock: a retry is safe, and running the writes again one by one would make
each wait out the same bound in turn — but a group that spans several communities runs again
community by community, since one community's lock past its bound is not another's. Any other
failure runs each write again alone, so that none fails for another's sake. A write without an
idempotency key runs again only when the failure said plainly that nothing was written (a
ledger error), since an interrupted commit may have taken effect.

Groups form per process; several processes still serialise on the database's locks.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from ledger.audit import chain as audit
from ledger.books.batches import ItemOutcome, Write
from ledger.kernel import errors
from ledger.kernel.model import Entry, IdempotencyKey, NewEntry

GROUP_MAX: Final = 200
"""Most writes in one transaction: bounds how long its locks are held."""
LANES: Final = 2
"""Transactions of grouped writes one process runs at once (each community in one lane)."""


class GroupWriter(Protocol):
    """Writes a group in one transaction (``EntryBatches.post_each``; several communities'
    writes: ``EntryBatches.post_across``)."""

    async def post_each(
        self, community_id: uuid.UUID, writes: Sequence[Write]
    ) -> list[ItemOutcome]: ...

    async def post_across(
        self, parts: Sequence[tuple[uuid.UUID, Sequence[Write]]]
    ) -> list[list[ItemOutcome]]: ...


SingleWriter = Callable[[uuid.UUID, NewEntry, IdempotencyKey | None], Awaitable[Entry]]
"""Writes one entry in its own transaction (``Ledger.post_entry``)."""


@dataclass(slots=True)
class _Write:
    community_id: uuid.UUID
    write: Write
    answer: asyncio.Future[Entry]


@dataclass(slots=True)
class _Queue:
    waiting: deque[_Write] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None


class GroupCommit:
    def __init__(
        self,
        groups: GroupWriter,
        single: SingleWriter,
        *,
        group_max: int = GROUP_MAX,
        lanes: int = LANES,
        observe: Callable[[int], None] | None = None,
        transient: Callable[[Exception], bool] | None = None,
    ) -> None:
        self._groups = groups
        self._single = single
        self._group_max = group_max
        self._lanes = lanes
        self._observe = observe
        self._transient = transient or _never
        self._queues: dict[int, _Queue] = {}

    async def post_entry(
        self, community_id: uuid.UUID, entry: NewEntry, key: IdempotencyKey | None = None
    ) -> Entry:
        """Writes ``entry`` as ``Ledger.post_entry`` would, with the writes queued beside it."""
        lane = community_id.int % self._lanes
        queue = self._queues.get(lane)
        if queue is None:
            queue = self._queues[lane] = _Queue()
        answer: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        # The caller's audit context (actor, request id) goes with its write.
        queue.waiting.append(_Write(community_id, Write(entry, key, audit.current()), answer))
        if queue.worker is None:
            # The worker is a task of its own: a caller that goes away (a dropped connection)
            # cancels only its own wait, never the group its write may already be part of. It
            # runs in a context of its own, not in the request's that happened to start it.
            queue.worker = asyncio.create_task(
                self._work(lane, queue), context=contextvars.Context()
            )
        return await answer

    async def _work(self, lane: int, queue: _Queue) -> None:
        group: list[_Write] = []
        try:
            while queue.waiting:
                group = self._take(queue)
                if group and self._observe is not None:
                    self._observe(len(group))
                parts = _by_community(group)
                if len(group) == 1:
                    await self._alone(group[0])
                elif len(parts) == 1:
                    await self._together(group[0].community_id, group)
                elif parts:
                    await self._across(parts)
        finally:
            queue.worker = None
            # Only a cancelled worker (the service stopping) leaves writes unanswered: their
            # callers are cancelled with it rather than left waiting (answered ones stay so).
            for write in (*group, *queue.waiting):
                write.answer.cancel()
            queue.waiting.clear()
            self._queues.pop(lane, None)

    def _take(self, queue: _Queue) -> list[_Write]:
        group: list[_Write] = []
        while queue.waiting and len(group) < self._group_max:
            write = queue.waiting.popleft()
            if not write.answer.done():  # its caller gave up before it was taken
                group.append(write)
        return group

    async def _alone(self, write: _Write) -> None:
        try:
            context = write.write.context
            assert context is not None
            with audit.acting(context):
                entry = await self._single(write.community_id, write.write.entry, write.write.key)
        except Exception as exc:  # the caller gets whatever its write raised
            _answer_error(write, exc)
        else:
            _answer(write, entry)

    async def _together(self, community_id: uuid.UUID, group: list[_Write]) -> None:
        try:
            outcomes = await self._groups.post_each(community_id, [w.write for w in group])
        except Exception as exc:  # handed to each write below
            transient = self._transient(exc)
            for write in group:
                if transient:
                    _answer_error(write, exc)
                elif _safe_again(write, exc):
                    await self._alone(write)
                else:
                    _answer_error(write, exc)
            return
        _answer_all(group, outcomes)

    async def _across(self, parts: dict[uuid.UUID, list[_Write]]) -> None:
        try:
            outcomes = await self._groups.post_across(
                [(community_id, [w.write for w in part]) for community_id, part in parts.items()]
            )
        except Exception as exc:  # handed to each community's writes below
            transient = self._transient(exc)
            for community_id, part in parts.items():
                again = [write for write in part if _safe_again(write, exc)]
                for write in part:
                    if not _safe_again(write, exc):
                        _answer_error(write, exc)
                if transient and len(again) > 1:
                    # One community's lock past its bound is not another's: each community's
                    # writes again in a transaction of its own, failing there as one group.
                    await self._together(community_id, again)
                else:
                    for write in again:
                        await self._alone(write)
            return
        for part, part_outcomes in zip(parts.values(), outcomes, strict=True):
            _answer_all(part, part_outcomes)


def _never(_: Exception) -> bool:
    return False


def _safe_again(write: _Write, failure: Exception) -> bool:
    """Whether ``write`` may run again after its group failed with ``failure``: under a key (a
    replay at worst), or when the failure said plainly that nothing was written."""
    return write.write.key is not None or isinstance(failure, errors.LedgerError)


def _by_community(group: Sequence[_Write]) -> dict[uuid.UUID, list[_Write]]:
    """``group``'s writes by community, each community's in arrival order."""
    parts: dict[uuid.UUID, list[_Write]] = {}
    for write in group:
        parts.setdefault(write.community_id, []).append(write)
    return parts


def _answer_all(group: Sequence[_Write], outcomes: Sequence[ItemOutcome]) -> None:
    for write, outcome in zip(group, outcomes, strict=True):
        if outcome.entry is not None:
            _answer(write, outcome.entry)
        else:
            assert outcome.error is not None
            _answer_error(write, outcome.error)


def _answer(write: _Write, entry: Entry) -> None:
    if not write.answer.done():
        write.answer.set_result(entry)


def _answer_error(write: _Write, exc: Exception) -> None:
    if not write.answer.done():
        write.answer.set_exception(exc)
