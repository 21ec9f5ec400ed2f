"""Federation: links between communities and cross transfers over them.

Who may do what (the routes' guards):

- read links, their terms and reconciliation: ``read`` API keys and every member token (both
  sides see every term, so every member may);
- propose a link or new terms, suspend, resume, close: the ``treasurer`` scope or a current
  steward's member token;
- accept a link, adopt a version: the member token of a current steward (a consent is a
  person's, as for budgets); the term is checked again in the transaction that writes;
- cross transfers: see ``api.http.federation.transfers``;
- cross exchanges and the directory: see ``api.http.federation.exchanges``.

Another community's keys see nothing: every read and write is scoped by the community of the
path, and a link or transfer of another community answers 404.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from api.http.federation.exchanges import CrossExchangesController, DirectoryController
from api.http.federation.links import LinksController
from api.http.federation.transfers import TransfersController

COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [
    LinksController,
    TransfersController,
    CrossExchangesController,
    DirectoryController,
]
"""Controllers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
