"""The member page's routes: thin handlers from forms to use cases and back to templates.

A member here may do exactly what their member token may do in the JSON API: see their own
hours and exchanges, record help they gave, confirm or decline help they received (any other
exchange answers 404), and read community-level summaries and the names of their community.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from api.web import cross, views
from api.web.forms import HelpForm, HelpRecord, parse_help
from api.web.i18n import N_, Translator, choose_language
from api.web.session import (
    Viewer,
    acting_as,
    end_session_cookie,
    member_of_token,
    session_cookie,
    start_session,
    viewer_or_none,
)
from api.web.settings import WebSettings
from api.web.throttle import Throttle
from ledger.access.credentials import Access
from ledger.books.service import Ledger
from ledger.federation.service import Federation
from ledger.kernel import errors
from ledger.kernel.clock import utc_now
from ledger.timebank.exchanges import Exchanges
from ledger.timebank.member_overview import MemberOverview
from reports.service import Reports

LIMIT_MESSAGE: Final = N_(
    "That is more time than your limits or theirs allow. Record less, or ask a steward."
)
DONE_MESSAGES: Final = {
    "recorded": N_("Thank you! Your help is recorded and waits for the other member to confirm."),
    "confirmed": N_("Confirmed. The hours have moved."),
    "confirming": N_("Confirmed. The hours are on their way to the other community."),
    "declined": N_("Declined. Nothing has moved."),
    "listed": N_("Members of linked communities can now find you in their directory."),
    "unlisted": N_("You are no longer listed for linked communities."),
}


def page(
    request: Request[Any, Any, Any],
    name: str,
    context: Mapping[str, object],
    status_code: int = 200,
) -> Template:
    translator = Translator(choose_language(request.headers.get("accept-language")))
    return Template(
        template_name=name,
        context={**translator.template_globals(), **context},
        status_code=status_code,
    )


def _today() -> date:
    return utc_now().date()


def _web(request: Request[Any, Any, Any]) -> tuple[WebSettings, Throttle]:
    web = request.app.state.web
    assert isinstance(web, tuple)
    return web[0], web[1]


@get("/", include_in_schema=False)
async def home(
    request: Request[Any, Any, Any],
    access: NamedDependency[Access],
    ledger: NamedDependency[Ledger],
) -> Template:
    viewer = await viewer_or_none(request, access, ledger)
    if viewer is None:
        return page(request, "sign_in.html", {"token": "", "error": None})
    shown = await views.home(ledger, viewer, _today())
    return page(request, "home.html", {"viewer": viewer, "home": shown})


@get("/sign-in", include_in_schema=False)
async def sign_in_form(
    request: Request[Any, Any, Any], token: Annotated[str, QueryParameter(max_length=400)] = ""
) -> Template:
    """A link ``/sign-in?token=…`` fills the form in; the member taps once to sign in (a POST,
    so that link previews and prefetching sign nobody in)."""
    return page(request, "sign_in.html", {"token": token[:200], "error": None})


@post("/sign-in", include_in_schema=False, status_code=303)
async def sign_in(
    request: Request[Any, Any, Any], access: NamedDependency[Access]
) -> Response[Any]:
    settings, throttle = _web(request)
    address = request.client.host if request.client else "unknown"
    if not throttle.allow(address):
        message = N_("Too many attempts. Wait a minute, then try again.")
        response = page(request, "sign_in.html", {"token": "", "error": message}, 429)
        response.headers["Retry-After"] = str(throttle.seconds_left())
        return response
    form = await request.form()
    token = str(form.get("token", ""))
    principal = await member_of_token(access, token) if token.strip() else None
    if principal is None:
        message = N_("That code is unknown, expired or withdrawn. Ask a steward for a new one.")
        return page(request, "sign_in.html", {"token": "", "error": message}, 401)
    secret = await start_session(request, access, principal, settings.session_ttl)
    redirect = Redirect("/", status_code=303)
    redirect.cookies.append(
        session_cookie(request, secret, settings.session_ttl, force_secure=settings.secure_cookies)
    )
    return redirect


@post("/sign-out", include_in_schema=False, status_code=303)
async def sign_out(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    access: NamedDependency[Access],
) -> Redirect:
    with acting_as(request, viewer.principal):
        await access.revoke(viewer.community.id, viewer.session_id)
    redirect = Redirect("/", status_code=303)
    end_session_cookie(redirect)
    return redirect


async def _exchanges_page(
    request: Request[Any, Any, Any],
    ledger: Ledger,
    federation: Federation,
    viewer: Viewer,
    form: HelpForm,
    *,
    status_code: int = 200,
    cross_form: HelpForm | None = None,
) -> Template:
    recent, to_answer, others = await views.exchanges(ledger, viewer)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    context = {
        "viewer": viewer,
        "recent": recent,
        "to_answer": to_answer,
        "others": others,
        "form": form,
        "done": done,
        "today": _today().isoformat(),
        "cross": await cross.view(ledger, federation, viewer),
        "cross_form": cross_form or HelpForm(),
    }
    return page(request, "exchanges.html", context, status_code)


@get("/exchanges", include_in_schema=False)
async def exchanges_page(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    ledger: NamedDependency[Ledger],
    federation: NamedDependency[Federation],
) -> Template:
    return await _exchanges_page(request, ledger, federation, viewer, HelpForm())


@post("/exchanges", include_in_schema=False, status_code=303)
async def record_help(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    ledger: NamedDependency[Ledger],
    federation: NamedDependency[Federation],
) -> Response[Any]:
    form = HelpForm.of({k: str(v) for k, v in (await request.form()).items()})
    directory = await MemberOverview(ledger).directory(viewer.community.id)
    members = {e.member_id: e.name for e in directory if e.member_id != viewer.member.id}
    parsed = parse_help(form, members, _today())
    if isinstance(parsed, HelpForm):
        return await _exchanges_page(
            request, ledger, federation, viewer, parsed, status_code=HTTP_422_UNPROCESSABLE_ENTITY
        )
    try:
        with acting_as(request, viewer.principal):
            await _record(ledger, viewer, parsed)
    except errors.LimitExceeded:
        refused = form.refused({"duration": LIMIT_MESSAGE})
        return await _exchanges_page(
            request, ledger, federation, viewer, refused, status_code=HTTP_422_UNPROCESSABLE_ENTITY
        )
    return Redirect("/exchanges?done=recorded", status_code=303)


@post("/exchanges/cross", include_in_schema=False, status_code=303)
async def record_cross_help(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    ledger: NamedDependency[Ledger],
    federation: NamedDependency[Federation],
) -> Response[Any]:
    """Help given to a listed member of a linked community (``api.web.cross``)."""
    refused = await cross.record_cross(request, federation, viewer)
    if refused is not None:
        return await _exchanges_page(
            request,
            ledger,
            federation,
            viewer,
            HelpForm(),
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            cross_form=refused,
        )
    return Redirect("/exchanges?done=recorded", status_code=303)


async def _record(ledger: Ledger, viewer: Viewer, record: HelpRecord) -> None:
    await Exchanges(ledger).record(
        viewer.community.id,
        provider_id=viewer.member.id,
        receiver_id=record.receiver_id,
        minutes=record.minutes,
        description=record.description,
        recorded_by=viewer.member.id,
        category=record.category,
        effective_date=record.day,
    )


async def _answer(ledger: Ledger, viewer: Viewer, exchange_id: uuid.UUID) -> Exchanges:
    """The exchanges use case, once the exchange is known to be the viewer's to answer; any
    other exchange answers 404, as in the JSON API."""
    use_cases = Exchanges(ledger)
    exchange = await use_cases.get(viewer.community.id, exchange_id)
    if not exchange.answerable_by(viewer.member.id):
        raise NotFoundException("no such exchange")
    return use_cases


@post("/exchanges/{exchange_id:uuid}/confirm", include_in_schema=False, status_code=303)
async def confirm(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    ledger: NamedDependency[Ledger],
    exchange_id: FromPath[uuid.UUID],
) -> Redirect:
    use_cases = await _answer(ledger, viewer, exchange_id)
    with acting_as(request, viewer.principal):
        await use_cases.confirm(viewer.community.id, exchange_id)
    return Redirect("/exchanges?done=confirmed", status_code=303)


@post("/exchanges/{exchange_id:uuid}/decline", include_in_schema=False, status_code=303)
async def decline(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    ledger: NamedDependency[Ledger],
    exchange_id: FromPath[uuid.UUID],
) -> Redirect:
    use_cases = await _answer(ledger, viewer, exchange_id)
    with acting_as(request, viewer.principal):
        await use_cases.decline(viewer.community.id, exchange_id)
    return Redirect("/exchanges?done=declined", status_code=303)


@get("/community", include_in_schema=False)
async def community_page(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    ledger: NamedDependency[Ledger],
    reports: NamedDependency[Reports],
) -> Template:
    month = await views.community(ledger, viewer, _today())
    report = await views.latest_headline(reports, viewer)
    return page(request, "community.html", {"viewer": viewer, "month": month, "report": report})


HANDLERS: Final = [
    home,
    sign_in_form,
    sign_in,
    sign_out,
    exchanges_page,
    record_help,
    record_cross_help,
    *cross.CROSS_HANDLERS,
    confirm,
    decline,
    community_page,
]
