"""Governance: rotating roles, governance settings, budgets and the emergency fund.

Who may do what (``tests/api/test_authorisation_matrix.py`` has the grid):

- read anything here: ``read`` API keys and every member token (community-level summaries);
- assign or end role terms, change the settings: an ``admin`` API key, or the member token of a
  current treasurer (a ``treasurer`` API key cannot: roles are people's, so a treasurer in office
  hands them on);
- create, revise and adopt budgets: the ``treasurer`` scope — a treasurer API key or a current
  treasurer's member token;
- consent to a budget, approve or reject a disbursement: the member token of a current steward
  only (a consent or an approval is a person's); the term is checked again in the transaction
  that writes, so a term that ended after the token authenticated grants nothing;
- request a disbursement: the ``treasurer`` scope, or a current steward's member token.

Every write takes an optional ``Idempotency-Key`` header. Each controller's guard lets every
reader in; its writes add what they need (``guards``).
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from api.http.governance.budgets import BudgetsController
from api.http.governance.emergency_fund import EmergencyFundController, SettingsController
from api.http.governance.roles import RolesController

COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [
    RolesController,
    SettingsController,
    BudgetsController,
    EmergencyFundController,
]
"""Controllers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
