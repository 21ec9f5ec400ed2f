"""Strict decoding of JSON request bodies.

Litestar converts request data in msgspec's lax mode, which turns the string ``"15"`` into the
integer 15. A ledger must not guess: an amount sent as a string or a float is a client bug. This
hook decodes the raw body once more in strict mode against the handler's declared body type and
answers 400 with the reason when it does not fit. Text holding a NUL character is refused too:
PostgreSQL cannot store it, and SQLite would store what PostgreSQL refuses.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException


@functools.cache
def _decoder(annotation: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(annotation, strict=True)


async def reject_lax_json(request: Request[Any, Any, Any]) -> None:
    field = request.route_handler.parsed_data_field
    if field is None:
        return
    raw = await request.body()
    if not raw and field.is_optional:
        return
    try:
        # First as plain JSON, so that a NUL anywhere gets its own reason rather than a pattern's.
        if _has_nul(msgspec.json.decode(raw)):
            # PostgreSQL stores no NUL character in text or JSONB.
            message = "text in the request body must not contain NUL characters"
            raise ValidationException(message, extra=[{"message": message, "source": "body"}])
        _decoder(field.annotation).decode(raw)
    except msgspec.DecodeError as exc:
        # The hint goes to the detail, for people; the item keeps msgspec's words and its path.
        raise ValidationException(
            f"the request body does not fit: {exc}{_hint(exc)}",
            extra=[{"message": str(exc), "source": "body"}],
        ) from None


_FRACTION = "Expected `int`, got `float`"
FRACTION_HINT = (
    ": amounts are whole numbers in the commodity's smallest unit "
    "(send 1250 for EUR 12.50, 90 for 1 h 30 min)"
)
"""Every integer of the API that a person might send with decimals is an amount or a limit in a
commodity's smallest unit (cents, minutes, a count of goods)."""


def _hint(exc: msgspec.DecodeError) -> str:
    return FRACTION_HINT if str(exc).startswith(_FRACTION) else ""


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
