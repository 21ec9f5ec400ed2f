"""Rule breaks of federation, each with a stable ``code`` like the core's (the HTTP layer maps
codes to problem types in one table)."""

from __future__ import annotations

from ledger.kernel import errors


class LinkNotFound(errors.NotFound):
    """No link with that id in the community (another community's links are never seen)."""

    code = "link_not_found"


class TransferNotFound(errors.NotFound):
    """No cross transfer with that id in the community."""

    code = "transfer_not_found"


class PartnerNotFound(errors.NotFound):
    """The partner community is unknown on this install, or the community itself."""

    code = "partner_not_found"


class LinkExists(errors.AlreadyExists):
    """The two communities already share a link that is not closed."""

    code = "link_exists"


class LinkNotActive(errors.LedgerError):
    """The link is proposed, suspended or closed: nothing crosses it."""

    code = "link_not_active"


class LinkStatusConflict(errors.LedgerError):
    """The link's status does not allow that change (a closed link never changes again)."""

    code = "link_status_conflict"


class VersionNotFound(errors.NotFound):
    """The link has no terms version with that number."""

    code = "link_version_not_found"


class CommodityNotCarried(errors.LedgerError):
    """The link's terms in force carry no such commodity."""

    code = "commodity_not_carried"


class LinkLimitExceeded(errors.LedgerError):
    """The transfer would take one community's debt to the other past the link's limit."""

    code = "link_limit_exceeded"


class AmountConvertsToZero(errors.LedgerError):
    """At the link's rate the amount received would be 0: rounding never creates value."""

    code = "amount_converts_to_zero"


class BelowMinimum(errors.LedgerError):
    """The amount received would be less than the least amount the payer accepts."""

    code = "below_minimum_received"


class QuoteExpired(errors.LedgerError):
    """The hold window passed before the payee's community decided."""

    code = "quote_expired"


class TransferConflict(errors.LedgerError):
    """The transfer id is known with a different request."""

    code = "transfer_conflict"


class NotParty(errors.LedgerError):
    """The link does not join these two communities."""

    code = "not_party_to_link"


class ExchangeNotFound(errors.NotFound):
    """No such cross exchange here, or the caller may not see it."""

    code = "exchange_not_found"


class RecorderCannotConfirm(errors.LedgerError):
    """Whoever recorded a cross exchange cannot confirm or decline it: its counterparty does."""

    code = "recorder_cannot_confirm"


errors.ERROR_TYPES.update(
    {
        cls.code: cls
        for cls in (
            LinkNotFound,
            TransferNotFound,
            PartnerNotFound,
            LinkExists,
            LinkNotActive,
            LinkStatusConflict,
            VersionNotFound,
            CommodityNotCarried,
            LinkLimitExceeded,
            AmountConvertsToZero,
            BelowMinimum,
            QuoteExpired,
            TransferConflict,
            NotParty,
            ExchangeNotFound,
            RecorderCannotConfirm,
        )
    }
)
