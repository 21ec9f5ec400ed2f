"""Governance of a community's books: rotating roles, budgets adopted by consent, and an
emergency fund that only a group decision may spend. Built on the ledger's use cases and
guarantees (pending entries, limits, idempotency keys, the audit trail)."""
