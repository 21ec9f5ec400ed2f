"""A link's journal on its own: each side's movements chain, reconciliation names the first
movement where two journals differ, and checkpoints of agreeing journals agree."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from ledger.federation.journal import (
    Movement,
    chain_movement,
    checkpoint_of,
    checkpoints_agree,
    reconcile,
)
from ledger.kernel import errors
from ledger.kernel.model import new_id

LINK = new_id()


def journal(*moves: tuple[bool, int, int]) -> list[Movement]:
    """Movements (from the proposer?, amount sent in EUR cents, amount received in CHF)."""
    found: list[Movement] = []
    for from_proposer, sent, received in moves:
        head = (found[-1].seq, found[-1].hash) if found else None
        found.append(
            chain_movement(
                head,
                link_id=LINK,
                transfer_id=uuid.uuid5(LINK, str(len(found))),
                from_proposer=from_proposer,
                sent=("EUR" if from_proposer else "CHF", sent),
                received=("CHF" if from_proposer else "EUR", received),
            )
        )
    return found


MOVES = ((True, 100, 90), (False, 45, 50), (True, 10, 9))


def test_agreeing_journals_agree_and_mirror_each_other() -> None:
    result = reconcile(LINK, True, journal(*MOVES), journal(*MOVES))
    assert result.agrees and result.agrees_up_to == 3 and result.first_difference is None
    # The proposer owes 100 + 10 - 50 EUR; the partner owes 45 - 90 - 9 CHF.
    assert result.ours.balances == {"EUR": 60} and result.theirs.balances == {"CHF": -54}
    assert result.ours.partner_balances == {"CHF": -54}
    assert checkpoints_agree(result.ours, result.theirs)


def test_the_first_movement_that_differs_is_named() -> None:
    theirs = journal(*MOVES)
    other = journal(MOVES[0], (False, 45, 51), MOVES[2])
    result = reconcile(LINK, False, theirs, other)
    assert (result.agrees_up_to, result.first_difference) == (1, 2)
    assert result.reason == "the two sides recorded different movements"
    assert not checkpoints_agree(
        checkpoint_of(LINK, True, theirs), checkpoint_of(LINK, False, other)
    )


def test_a_missing_movement_is_named() -> None:
    result = reconcile(LINK, True, journal(*MOVES[:2]), journal(*MOVES))
    assert (result.agrees_up_to, result.first_difference) == (2, 3)
    assert result.reason == "the partner's journal has movements this side lacks"
    result = reconcile(LINK, True, journal(*MOVES), journal(*MOVES[:1]))
    assert (result.agrees_up_to, result.first_difference) == (1, 2)


def test_a_changed_movement_breaks_its_own_chain() -> None:
    ours = journal(*MOVES)
    tampered = [ours[0], replace(ours[1], amount_received=5), ours[2]]
    result = reconcile(LINK, True, tampered, journal(*MOVES))
    assert result.first_difference == 2
    assert result.reason == "this side's journal: movement 2 does not match its hash chain"
    gap = [ours[0], ours[2]]
    result = reconcile(LINK, True, journal(*MOVES), gap)
    assert result.first_difference == 2 and result.reason is not None
    assert "movement 2 is missing" in result.reason
    with pytest.raises(errors.InvalidInput, match="movement 2"):
        checkpoint_of(LINK, True, tampered)
