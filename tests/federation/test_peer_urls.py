"""A partner node's URL passes the same outgoing-URL guard as a webhook's
(``ledger.events.url_guard``): a loopback or private peer is refused unless
``COMMONS_LEDGER_PEER_ALLOW`` permits it — by the courier before anything is sent, and by
``federation accept-invite`` before anything is written (at either end of the invitation)."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.events.url_guard import AllowList
from ledger.federation.courier import Courier, CourierConfig
from ledger.federation.model import TransferState
from ledger.store.federation_peer import SqlPeerStore
from ledger.store.tables.federation_peer import federation_peer_outbox
from tests.federation.conftest import Pair
from tests.federation.nodes import linked, request
from tests.federation.processes import ProcessNode


async def test_a_loopback_peer_is_not_reached_unless_the_peer_allow_list_permits_it(
    pair: Pair,
) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    made = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 30))
    strict = Courier(
        pair.a.units,
        SqlPeerStore.of,
        pair.clock,
        pair.a.url,
        transport=pair.wire.open,
        answers=pair.a.remote.answers(),
        config=CourierConfig(allow=AllowList()),  # COMMONS_LEDGER_PEER_ALLOW unset
    )
    assert await strict.deliver_due() >= 1
    assert pair.wire.sent == []  # refused before sending: nothing reached B
    outbox = federation_peer_outbox.c
    async with pair.a.units(write=False) as unit:
        found = await unit.connection.execute(
            sa.select(outbox.last_error).where(outbox.transfer_id == made.id)
        )
        error = found.scalar_one()
    assert "127.0.0.1" in error and "COMMONS_LEDGER_PEER_ALLOW" in error, error
    assert (await pair.a.transfer(made.id)).state is TransferState.PREPARED
    pair.clock.advance(10)
    await pair.a.courier.deliver_due()  # this node's courier allows 127.0.0.1
    assert (await pair.a.transfer(made.id)).state is TransferState.COMMITTED


def _links(node: ProcessNode) -> list[object]:
    found = node.api("GET", "/federation/links")
    assert found.status_code == 200, found.text
    items: list[object] = found.json()["items"]
    return items


def test_accept_invite_refuses_a_loopback_partner_unless_allowed(
    linked_nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    a, b = linked_nodes[0].in_new_community("Ford"), linked_nodes[1].in_new_community("Moor")
    invitation = a.cli("federation", "invite", a.slug, "--terms", "HOURS:HOURS:1/1:60:60")
    # Allowing a private range does not allow loopback:
    refused = b.run_cli(
        "federation",
        "accept-invite",
        b.slug,
        invitation.strip(),
        COMMONS_LEDGER_PEER_ALLOW="10.0.0.0/8",
    )
    assert refused.returncode == 1, refused.stdout
    assert "resolves to 127.0.0.1, which is not a public address" in refused.stderr
    assert "COMMONS_LEDGER_PEER_ALLOW" in refused.stderr
    assert _links(b) == []  # nothing written
    acceptance = b.cli("federation", "accept-invite", b.slug, invitation.strip()).splitlines()
    refused = a.run_cli(
        "federation", "accept-invite", a.slug, acceptance[-1], COMMONS_LEDGER_PEER_ALLOW=""
    )
    assert refused.returncode == 1 and "COMMONS_LEDGER_PEER_ALLOW" in refused.stderr
    assert _links(a) == []
