"""Proxy headers are believed only from the proxies the operator names, and the session cookie
can be forced ``Secure`` behind a TLS-terminating proxy (issue 18, "Also")."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from api.app import create_app
from api.cli.serve import proxy_options
from api.settings import Settings
from api.web.session import SESSION_COOKIE
from api.web.settings import WebSettings
from tests.web.conftest import People, csrf_of


def test_no_proxy_header_is_read_unless_the_operator_names_the_proxies() -> None:
    assert proxy_options(Settings.from_env({})) == {"proxy_headers": False}
    named = Settings.from_env({"FORWARDED_ALLOW_IPS": "10.0.0.5"})
    assert proxy_options(named) == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5"}


async def test_the_session_cookie_can_be_forced_secure(database_url: str, people: People) -> None:
    web = WebSettings.from_env({"COMMONS_LEDGER_WEB_SECURE_COOKIES": "true"})
    app = create_app(Settings(database_url=database_url), web)
    async with AsyncTestClient(app) as client:  # plain http, as behind a TLS proxy
        form = await client.get("/sign-in")
        response = await client.post(
            "/sign-in",
            data={"token": people.tokens["Ann"], "_csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}
