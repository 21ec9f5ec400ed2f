"""The OpenAPI document and its interactive UI, served at ``/schema``."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Commons Ledger",
        version="1",
        description="The books of time-banks and cooperatives: hours, money and goods.",
        path="/schema",
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
        ),
    )
