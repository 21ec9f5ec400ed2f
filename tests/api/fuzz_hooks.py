"""schemathesis hooks for the live fuzz run (loaded by ``st`` through the ``hooks`` setting).

JSON Schema's ``integer`` admits ``2160.0``; the contract's amounts are JSON numbers without a
fraction, and the service refuses ``2160.0`` with a 400 (tests/api/test_api.py proves that for
every bad-input class). So the fuzzer writes integral numbers as integers, as our clients must.
"""

from __future__ import annotations

from typing import Any

import schemathesis


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


@schemathesis.hook
def map_body(_: schemathesis.HookContext, body: Any) -> Any:
    return _integral(body)
