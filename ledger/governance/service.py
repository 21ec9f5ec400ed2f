"""The governance use cases of one database, together."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.books.service import Ledger
from ledger.governance.budgets import Budgets
from ledger.governance.fund import EmergencyFund
from ledger.governance.roles import Roles
from ledger.governance.transactions import GovernanceTransactions


@dataclass(frozen=True, slots=True)
class Governance:
    roles: Roles
    budgets: Budgets
    fund: EmergencyFund

    @staticmethod
    def over(transactions: GovernanceTransactions, ledger: Ledger) -> Governance:
        return Governance(
            Roles(transactions), Budgets(transactions), EmergencyFund(transactions, ledger)
        )
