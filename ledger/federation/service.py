"""Federation's use cases over one database, together."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.federation.exchanges import CrossExchanges
from ledger.federation.links import Links, PartnerNode
from ledger.federation.ports import FederationTransactions
from ledger.federation.transfers import Transfers


@dataclass(frozen=True, slots=True)
class Federation:
    links: Links
    transfers: Transfers
    transactions: FederationTransactions
    """The transactions the peer part runs the protocol steps in."""
    exchanges: CrossExchanges

    @staticmethod
    def over(
        transactions: FederationTransactions, partner_node: PartnerNode | None = None
    ) -> Federation:
        """``partner_node`` tells partners on other nodes of link changes (without it, only
        links on this install change)."""
        return Federation(
            Links(transactions, partner_node),
            Transfers(transactions),
            transactions,
            CrossExchanges(transactions),
        )
