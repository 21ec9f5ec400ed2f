"""The governance use cases of one database, together."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.books.service import Ledger
from ledger.governance.budgets import Budgets
from ledger.governance.fund import EmergencyFund
from ledger.governance.roles import Roles
from ledger.governance.units import Units


@dataclass(frozen=True, slots=True)
class Governance:
    roles: Roles
    budgets: Budgets
    fund: EmergencyFund

    @staticmethod
    def over(units: Units, ledger: Ledger) -> Governance:
        return Governance(Roles(units), Budgets(units), EmergencyFund(units, ledger))
